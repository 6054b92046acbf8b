//! The registry's REST API against the real broker: Confluent's paths, bodies, status codes
//! and error codes, compatibility refusals naming the field, deletes, references, and a
//! restart that keeps every id.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use weft_testkit::registry::TestRegistry;
use weft_testkit::unique;

const CT: &str = "application/vnd.schemaregistry.v1+json";

struct Sr {
    base: String,
    http: Client,
    registry: TestRegistry,
}

async fn start(topic: &str) -> Sr {
    let registry = TestRegistry::on_topic(topic).await.unwrap();
    Sr {
        base: registry.url.clone(),
        http: Client::new(),
        registry,
    }
}

impl Sr {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Accept", CT);
        if let Some(b) = body {
            req = req.header("Content-Type", CT).body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(ct.as_deref(), Some(CT), "{path}: content type");
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn register(&self, subject: &str, schema: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/subjects/{subject}/versions"),
            json!({ "schema": schema }),
        )
        .await
    }

    async fn stop(self) {
        self.registry.stop().await.unwrap();
    }
}

fn order(extra_fields: &str) -> String {
    format!(
        r#"{{"type":"record","name":"Order","namespace":"com.acme","fields":[
            {{"name":"id","type":"string"}},{{"name":"amount","type":"double"}}{extra_fields}]}}"#
    )
}

fn error_code(v: &Value) -> i64 {
    v["error_code"].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn confluent_rest_api_end_to_end() {
    let topic = unique("schemas");
    let sr = start(&topic).await;
    let s = unique("orders-value");

    // Register, and again with other whitespace: one id, one version.
    let (st, v) = sr.register(&s, &order("")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id1 = v["id"].as_i64().unwrap();
    let spaced = order("").replace(',', " ,\n ");
    let (_, again) = sr.register(&s, &spaced).await;
    assert_eq!(again["id"].as_i64(), Some(id1));
    assert_eq!(
        sr.get(&format!("/subjects/{s}/versions")).await.1,
        json!([1])
    );

    // Version 2: an optional field with a default (BACKWARD compatible).
    let v2 = order(r#",{"name":"note","type":["null","string"],"default":null}"#);
    let (st, v) = sr.register(&s, &v2).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id2 = v["id"].as_i64().unwrap();
    assert_ne!(id1, id2);

    // Reads.
    let (_, latest) = sr.get(&format!("/subjects/{s}/versions/latest")).await;
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["id"].as_i64(), Some(id2));
    assert_eq!(latest["subject"], json!(s));
    assert!(
        latest.get("schemaType").is_none(),
        "AVRO is implied: {latest}"
    );
    let (_, by_id) = sr.get(&format!("/schemas/ids/{id1}")).await;
    assert_eq!(by_id["schema"].as_str(), Some(order("").as_str()));
    let (_, raw) = sr.get(&format!("/subjects/{s}/versions/1/schema")).await;
    assert_eq!(raw["name"], "Order");
    let (_, raw) = sr.get(&format!("/schemas/ids/{id2}/schema")).await;
    assert_eq!(raw["fields"][2]["name"], "note");
    let (_, versions) = sr.get(&format!("/schemas/ids/{id1}/versions")).await;
    assert_eq!(versions, json!([{"subject": s, "version": 1}]));
    assert_eq!(sr.get("/schemas/types").await.1, json!(["AVRO"]));
    let (_, subjects) = sr.get("/subjects").await;
    assert!(subjects.as_array().unwrap().contains(&json!(s)));

    // Look-up by schema.
    let (st, found) = sr
        .post(&format!("/subjects/{s}"), json!({ "schema": order("") }))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (found["version"].as_i64(), found["id"].as_i64()),
        (Some(1), Some(id1))
    );

    // The same schema under another subject keeps its id.
    let other = unique("other-value");
    assert_eq!(
        sr.register(&other, &order("")).await.1["id"].as_i64(),
        Some(id1)
    );

    // Incompatible: a required field without a default (BACKWARD refuses), naming the field.
    let bad = order(r#",{"name":"currency","type":"string"}"#);
    let (st, e) = sr.register(&s, &bad).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert_eq!(error_code(&e), 409);
    assert!(e["message"].as_str().unwrap().contains("currency"), "{e}");
    let (st, c) = sr
        .post(
            &format!("/compatibility/subjects/{s}/versions/latest?verbose=true"),
            json!({ "schema": bad }),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(c["is_compatible"], false);
    assert!(
        c["messages"][0].as_str().unwrap().contains("currency"),
        "{c}"
    );
    let (_, c) = sr
        .post(
            &format!("/compatibility/subjects/{s}/versions/latest"),
            json!({ "schema": order(r#",{"name":"currency","type":"string","default":"EUR"}"#) }),
        )
        .await;
    assert_eq!(c, json!({ "is_compatible": true }));

    // Config: NONE on the subject lets the change in; back to the global level after DELETE.
    assert_eq!(
        sr.get("/config").await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    let (st, e) = sr.get(&format!("/config/{s}")).await;
    assert_eq!((st, error_code(&e)), (StatusCode::NOT_FOUND, 40408));
    let (_, d) = sr.get(&format!("/config/{s}?defaultToGlobal=true")).await;
    assert_eq!(d, json!({"compatibilityLevel": "BACKWARD"}));
    let (st, p) = sr
        .call(
            Method::PUT,
            &format!("/config/{s}"),
            Some(json!({"compatibility": "NONE"})),
        )
        .await;
    assert_eq!((st, p), (StatusCode::OK, json!({"compatibility": "NONE"})));
    assert_eq!(sr.register(&s, &bad).await.0, StatusCode::OK);
    let (st, d) = sr.call(Method::DELETE, &format!("/config/{s}"), None).await;
    assert_eq!(
        (st, d),
        (StatusCode::OK, json!({"compatibilityLevel": "NONE"}))
    );
    let (st, e) = sr
        .call(
            Method::PUT,
            "/config",
            Some(json!({"compatibility": "SIDEWAYS"})),
        )
        .await;
    assert_eq!(
        (st, error_code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, 42203)
    );

    // Bad input, each with Confluent's status and code.
    let cases: Vec<(Method, String, Option<Value>, StatusCode, i64)> = vec![
        (
            Method::GET,
            format!("/subjects/{}/versions", unique("nope")),
            None,
            StatusCode::NOT_FOUND,
            40401,
        ),
        (
            Method::GET,
            format!("/subjects/{s}/versions/99"),
            None,
            StatusCode::NOT_FOUND,
            40402,
        ),
        (
            Method::GET,
            format!("/subjects/{s}/versions/abc"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            42202,
        ),
        (
            Method::GET,
            "/schemas/ids/987654".into(),
            None,
            StatusCode::NOT_FOUND,
            40403,
        ),
        (
            Method::POST,
            format!("/subjects/{s}"),
            Some(json!({"schema": "\"bytes\""})),
            StatusCode::NOT_FOUND,
            40403,
        ),
        (
            Method::POST,
            format!("/subjects/{s}/versions"),
            Some(json!({"schema": "{\"type\":\"record\",\"name\":\"X\"}"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            42201,
        ),
        (
            Method::POST,
            format!("/subjects/{s}/versions"),
            Some(json!({"schema": "\"int\"", "schemaType": "PROTOBUF"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            42201,
        ),
        (
            Method::POST,
            format!("/subjects/{s}/versions"),
            Some(
                json!({"schema": "\"int\"", "references": [{"name": "X", "subject": "missing", "version": 1}]}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            42201,
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (st, e) = sr.call(method.clone(), &path, body).await;
        assert_eq!((st, error_code(&e)), (status, code), "{method} {path}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    // Malformed JSON (sent raw), and plain application/json accepted.
    let resp = sr
        .http
        .post(format!("{}/subjects/{s}/versions", sr.base))
        .header("Content-Type", "application/json")
        .body("{\"schema\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&e), 400);
    assert!(e["message"].as_str().unwrap().contains("line 1"), "{e}");

    sr.stop().await;
}

#[tokio::test]
async fn deletes_and_references() {
    let topic = unique("schemas");
    let sr = start(&topic).await;
    let common = unique("common");
    let money = r#"{"type":"record","name":"Money","namespace":"com.acme","fields":[{"name":"cents","type":"long"},{"name":"currency","type":"string"}]}"#;
    let (st, m) = sr.register(&common, money).await;
    assert_eq!(st, StatusCode::OK, "{m}");

    // A schema using the referenced type.
    let s = unique("invoice-value");
    let invoice = r#"{"type":"record","name":"Invoice","namespace":"com.acme","fields":[{"name":"total","type":"com.acme.Money"}]}"#;
    let refs = json!([{"name": "com.acme.Money", "subject": common, "version": 1}]);
    let (st, v) = sr
        .post(
            &format!("/subjects/{s}/versions"),
            json!({"schema": invoice, "references": refs}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (_, by_id) = sr.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id["references"], refs);

    let (_, by) = sr
        .get(&format!("/subjects/{common}/versions/1/referencedby"))
        .await;
    assert_eq!(by, json!([id]));
    // A subject without versions accepts anything (as Confluent 7+ answers).
    let (st, c) = sr
        .post(
            &format!(
                "/compatibility/subjects/{}/versions/latest",
                unique("empty")
            ),
            json!({ "schema": "\"string\"" }),
        )
        .await;
    assert_eq!((st, c), (StatusCode::OK, json!({"is_compatible": true})));

    // The referenced version cannot go while it is used.
    let (st, e) = sr
        .call(
            Method::DELETE,
            &format!("/subjects/{common}/versions/1"),
            None,
        )
        .await;
    assert_eq!(
        (st, error_code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, 42206),
        "{e}"
    );

    // Soft delete, then permanent; the order matters and the codes say so.
    let (st, e) = sr
        .call(
            Method::DELETE,
            &format!("/subjects/{s}?permanent=true"),
            None,
        )
        .await;
    assert_eq!((st, error_code(&e)), (StatusCode::NOT_FOUND, 40405));
    let (st, d) = sr
        .call(Method::DELETE, &format!("/subjects/{s}"), None)
        .await;
    assert_eq!((st, d), (StatusCode::OK, json!([1])));
    let (st, e) = sr
        .call(Method::DELETE, &format!("/subjects/{s}"), None)
        .await;
    assert_eq!((st, error_code(&e)), (StatusCode::NOT_FOUND, 40404));
    let (st, e) = sr.get(&format!("/subjects/{s}/versions")).await;
    assert_eq!((st, error_code(&e)), (StatusCode::NOT_FOUND, 40401));
    assert_eq!(
        sr.get(&format!("/subjects/{s}/versions?deleted=true"))
            .await
            .1,
        json!([1])
    );
    // Soft-deleted schemas still resolve by id (records written with them stay readable).
    assert_eq!(
        sr.get(&format!("/schemas/ids/{id}")).await.0,
        StatusCode::OK
    );
    let (st, d) = sr
        .call(
            Method::DELETE,
            &format!("/subjects/{s}?permanent=true"),
            None,
        )
        .await;
    assert_eq!((st, d), (StatusCode::OK, json!([1])));
    assert!(!sr
        .get("/subjects?deleted=true")
        .await
        .1
        .as_array()
        .unwrap()
        .contains(&json!(s)));

    // Now the reference is free.
    let (st, v) = sr
        .call(
            Method::DELETE,
            &format!("/subjects/{common}/versions/1"),
            None,
        )
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!(1)));
    let (st, e) = sr
        .call(
            Method::DELETE,
            &format!("/subjects/{common}/versions/1"),
            None,
        )
        .await;
    assert_eq!((st, error_code(&e)), (StatusCode::NOT_FOUND, 40406));
    let (st, v) = sr
        .call(
            Method::DELETE,
            &format!("/subjects/{common}/versions/1?permanent=true"),
            None,
        )
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!(1)));

    // A new schema after all that never reuses an id.
    let (_, n) = sr.register(&unique("fresh-value"), r#""string""#).await;
    assert!(n["id"].as_i64().unwrap() > id);
    sr.stop().await;
}

#[tokio::test]
async fn a_restart_reads_every_id_back_from_the_log() {
    let topic = unique("schemas");
    let sr = start(&topic).await;
    let mut registered = Vec::new();
    for i in 0..12 {
        let s = unique("restart-value");
        let schema =
            format!(r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":"int"}}]}}"#);
        let (st, v) = sr.register(&s, &schema).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        registered.push((s, schema, v["id"].as_i64().unwrap()));
    }
    sr.call(
        Method::PUT,
        "/config",
        Some(json!({"compatibility": "FULL"})),
    )
    .await;
    sr.stop().await;

    let sr = start(&topic).await;
    for (s, schema, id) in &registered {
        let (_, by_id) = sr.get(&format!("/schemas/ids/{id}")).await;
        assert_eq!(by_id["schema"].as_str(), Some(schema.as_str()));
        let (_, latest) = sr.get(&format!("/subjects/{s}/versions/latest")).await;
        assert_eq!(latest["id"].as_i64(), Some(*id));
    }
    assert_eq!(
        sr.get("/config").await.1,
        json!({"compatibilityLevel": "FULL"})
    );
    sr.stop().await;
}
