//! The two ways to write a mapping give the same events: direct field mappings
//! (`[transform.fields]`, run on the decoded record) and the same mapping written by hand in
//! VRL (`[transform] program`, run through Avro → VRL → Avro). Both flows are compiled from
//! flow-file text like `weft flows check` does and run over the same inputs; the events and
//! their outputs are compared whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::{json, Value as Json};
use weft_route::engine::Decision;
use weft_route::spec::FlowSpec;
use weft_route::{flow, Catalog, Flow};
use weft_schema::codec::json::JsonOptions;

const INPUT: &str = r#"{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "order_id", "type": "string"},
    {"name": "customer", "type": "string"},
    {"name": "amount_cents", "type": "long"},
    {"name": "quantity", "type": "int"},
    {"name": "unit_price", "type": "float"},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "card", "type": "string"},
    {"name": "phone", "type": "string"},
    {"name": "country", "type": ["null", "string"], "default": null},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
      {"name": "city", "type": "string"},
      {"name": "zip", "type": "string"}
    ]}},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "currency", "type": "string"}
  ]
}"#;

const OUTPUT: &str = r#"{
  "type": "record", "name": "Order", "namespace": "canonical",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "customer_id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "quantity_text", "type": "string"},
    {"name": "unit_price", "type": "double"},
    {"name": "email_sha256", "type": ["null", "string"], "default": null},
    {"name": "card", "type": "string"},
    {"name": "phone", "type": "string"},
    {"name": "country", "type": "string"},
    {"name": "city", "type": "string"},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "currency", "type": "string"},
    {"name": "channel", "type": "string"},
    {"name": "version", "type": "int", "default": 1}
  ]
}"#;

/// What both flows share: input, output, two routes (one fan-out) and the default route. The
/// direct flow's conditions see only the fields they read; the program's, the whole event.
const HEAD: &str = r#"
from = ["shop.orders"]
[input]
schema = "shop.Order"
[output]
schema = "canonical.Order"
[[routes]]
name = "big"
when = ".amount >= 500000.0"
to = ["canonical.big"]
continue = true
[[routes]]
name = "de"
when = '.country == "DE" && .city != "City 3"'
to = ["canonical.de"]
[default]
to = ["canonical.orders"]
"#;

/// Rename (3), cast (2, one a promotion the program has to spell out), mask (3 kinds),
/// default, constant, a nested move, an explicit drop and implicit same-name copies
/// (created_at, currency), and `version` from the output schema's default.
const DIRECT: &str = r#"
[transform]
drop = ["note"]
[transform.fields]
id = "order_id"
customer_id = "customer"
amount = { from = "amount_cents", cast = "double" }
quantity_text = { from = "quantity", cast = "string" }
email_sha256 = { from = "email", mask = "sha256" }
card = { from = "card", mask = "keep_last_4" }
phone = { from = "phone", mask = "redact" }
country = { from = "country", default = "ZZ" }
city = "address.city"
channel = { value = "api" }
"#;

/// The same mapping as a VRL program.
const PROGRAM: &str = r#"
[transform]
program = '''
.id = del(.order_id)
.customer_id = del(.customer)
.amount = to_float(del(.amount_cents))
.quantity_text = to_string(del(.quantity))
email = del(.email)
.email_sha256 = if is_null(email) { null } else { sha2(string!(email), variant: "SHA-256") }
.card = mask(.card, keep_last: 4)
.phone = "[redacted]"
.country = if is_null(.country) { "ZZ" } else { .country }
.city = .address.city
del(.address)
del(.note)
.channel = "api"
'''
"#;

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    c.schemas.insert("shop.Order".into(), INPUT.into());
    c.schemas.insert("canonical.Order".into(), OUTPUT.into());
    c
}

fn compile(name: &str, transform: &str) -> Flow {
    let text = format!("{HEAD}{transform}");
    let spec: FlowSpec = toml::from_str(&text).unwrap();
    let file = Path::new("flows").join(format!("{name}.toml"));
    flow::compile(&file, &text, spec, name, &catalog())
        .unwrap_or_else(|e| panic!("{name} does not compile:\n{}", e.join("\n")))
}

/// Inputs that exercise every branch: nulls and values, short and multi-byte texts, extreme
/// numbers, and a run of generated ones.
fn inputs() -> Vec<Json> {
    let base = |i: u64| {
        json!({
            "order_id": format!("o-{i}"),
            "customer": format!("c-{}", i % 97),
            "amount_cents": (i as i64 * 7919) % 1_000_000 - 1000,
            "quantity": (i % 13) as i32,
            "unit_price": (i % 1000) as f64 / 8.0,
            "email": if i.is_multiple_of(3) { Json::Null } else { json!({"string": format!("buyer{i}@example.com")}) },
            "card": format!("4111{:012}", i * 1_234_567),
            "phone": format!("+49 30 {i}"),
            "country": match i % 4 { 0 => Json::Null, 1 => json!({"string": "DE"}), 2 => json!({"string": "US"}), _ => json!({"string": ""}) },
            "address": {"city": format!("City {}", i % 11), "zip": format!("{:05}", i)},
            "note": if i.is_multiple_of(2) { Json::Null } else { json!({"string": "gift"}) },
            "created_at": 1_700_000_000_000_i64 + i as i64 * 86_399_123,
            "currency": if i.is_multiple_of(5) { "USD" } else { "EUR" },
        })
    };
    let mut all: Vec<Json> = (0..300).map(base).collect();
    let mut edge = base(1);
    edge["card"] = json!("123");
    edge["email"] = json!({"string": "Jürgen.Groß@example.de"});
    edge["amount_cents"] = json!(i64::MAX);
    edge["quantity"] = json!(i32::MIN);
    edge["unit_price"] = json!(-0.0);
    edge["address"]["city"] = json!("");
    all.push(edge);
    let mut edge = base(2);
    edge["card"] = json!("€€€€€€");
    edge["amount_cents"] = json!(i64::MIN);
    edge["created_at"] = json!(0);
    all.push(edge);
    all
}

#[test]
fn direct_mappings_and_the_same_mapping_in_vrl_give_the_same_events() {
    let direct = compile("direct", DIRECT);
    let program = compile("program", PROGRAM);
    assert!(matches!(direct.transform, weft_route::Transform::Direct(_)));
    assert!(matches!(
        program.transform,
        weft_route::Transform::Program { mapping: None, .. }
    ));
    // The direct flow converts only what its conditions read (amount, country, city).
    let fields = direct.condition_fields.clone().unwrap();
    let names: Vec<&str> = match direct.event_schema().codec.root().kind() {
        weft_schema::codec::Kind::Record(r) => {
            fields.iter().map(|i| r.fields[*i].name.as_str()).collect()
        }
        _ => panic!("a record"),
    };
    assert_eq!(names, ["amount", "country", "city"]);
    let mut routes = std::collections::BTreeMap::<String, usize>::new();
    let codec = &direct.input.codec;
    let out = &direct.event_schema().codec;
    let opts = JsonOptions::default();
    let none = vrl::value::Value::Null;
    let mut compared = 0;
    for (n, input) in inputs().into_iter().enumerate() {
        let value = codec
            .from_json(&input, &opts)
            .unwrap_or_else(|e| panic!("input {n}: {e}"));
        let a = direct.decide(value.clone(), &none).unwrap();
        let b = program.decide(value, &none).unwrap();
        let (
            Decision::Routed {
                event: ea,
                outputs: oa,
                ..
            },
            Decision::Routed {
                event: eb,
                outputs: ob,
                ..
            },
        ) = (a, b)
        else {
            panic!("input {n}: both flows should route the event");
        };
        assert_eq!(
            out.to_json(&ea).unwrap(),
            out.to_json(&eb).unwrap(),
            "input {n}: {input}"
        );
        assert_eq!(ea, eb, "input {n}: same JSON but different values");
        assert_eq!(oa, ob, "input {n}: different outputs");
        for o in &oa {
            *routes.entry(o.route.clone()).or_default() += 1;
        }
        compared += 1;
    }
    assert_eq!(compared, 302);
    // Every route was taken, so the conditions were compared both ways.
    assert_eq!(
        routes.keys().collect::<Vec<_>>(),
        ["big", "de", "default"],
        "{routes:?}"
    );
}

#[test]
fn the_direct_events_are_what_the_mapping_says() {
    // Guards the comparison above against both paths being wrong the same way.
    let direct = compile("direct", DIRECT);
    let mut input = inputs().remove(1);
    input["card"] = json!("4111111111111111");
    let value = direct
        .input
        .codec
        .from_json(&input, &JsonOptions::default())
        .unwrap();
    let Decision::Routed { event, .. } = direct.decide(value, &vrl::value::Value::Null).unwrap()
    else {
        panic!("routed");
    };
    let got = direct.event_schema().codec.to_json(&event).unwrap();
    assert_eq!(
        got,
        json!({
            "id": "o-1",
            "customer_id": "c-1",
            "amount": 6919.0,
            "quantity_text": "1",
            "unit_price": 0.125,
            "email_sha256": "a21e87765fa9375c2c6588b7dfb64959c1b0b30a30f0761ce40cfbdc37a99811",
            "card": "************1111",
            "phone": "[redacted]",
            "country": "DE",
            "city": "City 1",
            "note": null,
            "created_at": "2023-11-15T22:13:19.123Z",
            "currency": "EUR",
            "channel": "api",
            "version": 1
        })
    );
}
