//! The rows of the compatibility matrix: level, change, versions (oldest first) and the answer.

use super::*;

pub fn rows() -> Vec<Row> {
    let base = order(&[]);
    let with = |f: &str| order(&[f]);
    let s_np = status(r#""NEW","PAID""#, None);
    let s_nps = status(r#""NEW","PAID","SHIPPED""#, None);
    let s_np_d = status(r#""NEW","PAID""#, Some("NEW"));
    let s_nps_d = status(r#""NEW","PAID","SHIPPED""#, Some("NEW"));
    let cust = customer("");
    let cust_email = customer(r#",{"name":"email","type":"string"}"#);
    let cust_email_d = customer(r#",{"name":"email","type":"string","default":""}"#);
    let cust_name_int = r#"{"name":"customer","type":{"type":"record","name":"Customer","fields":[
            {"name":"name","type":"int"}]}}"#;
    let purchase_alias = named_order("Purchase", r#","aliases":["com.acme.Order"]"#, &[]);
    let purchase = named_order("Purchase", "", &[]);
    let list_int = node("int", "");
    let list_long = node("long", "");
    let list_label_d = node("int", r#",{"name":"label","type":"string","default":""}"#);
    let list_label = node("int", r#",{"name":"label","type":"string"}"#);

    let (b, n, nd) = (base.as_str(), with(NOTE), with(NOTE_DEFAULT));
    let (n, nd) = (n.as_str(), nd.as_str());
    let (qi, ql) = (with(QTY_INT), with(QTY_LONG));
    let (qi, ql) = (qi.as_str(), ql.as_str());
    let (qa, qn) = (with(QUANTITY_ALIAS_QTY), with(QUANTITY));
    let (qa, qn) = (qa.as_str(), qn.as_str());
    let (bs, bb) = (with(BODY_STRING), with(BODY_BYTES));
    let (bs, bb) = (bs.as_str(), bb.as_str());
    let (sn, sns, snd, snsd) = (with(&s_np), with(&s_nps), with(&s_np_d), with(&s_nps_d));
    let (sn, sns, snd, snsd) = (sn.as_str(), sns.as_str(), snd.as_str(), snsd.as_str());
    let (c2, c3) = (with(CONTACT_2), with(CONTACT_3));
    let (c2, c3) = (c2.as_str(), c3.as_str());
    let (co, con) = (with(COUPON_OPTIONAL), with(COUPON_NULLABLE_NO_DEFAULT));
    let (co, con) = (co.as_str(), con.as_str());
    let (cu, cue, cued, cuni) = (
        with(&cust),
        with(&cust_email),
        with(&cust_email_d),
        with(cust_name_int),
    );
    let (cu, cue, cued, cuni) = (cu.as_str(), cue.as_str(), cued.as_str(), cuni.as_str());
    let (ti, tl) = (with(TAGS_INT), with(TAGS_LONG));
    let (ti, tl) = (ti.as_str(), tl.as_str());
    let (ms, mi, ml) = (with(ATTRS_STRING), with(ATTRS_INT), with(ATTRS_LONG));
    let (ms, mi, ml) = (ms.as_str(), mi.as_str(), ml.as_str());
    let (h16, h32) = (with(HASH_16), with(HASH_32));
    let (h16, h32) = (h16.as_str(), h32.as_str());
    let (pm, pu, ps) = (
        with(PLACED_MILLIS),
        with(PLACED_MICROS),
        with(PLACED_STRING),
    );
    let (pm, pu, ps) = (pm.as_str(), pu.as_str(), ps.as_str());
    let (pa, pn) = (purchase_alias.as_str(), purchase.as_str());
    let (li, ll, lld, lln) = (
        list_int.as_str(),
        list_long.as_str(),
        list_label_d.as_str(),
        list_label.as_str(),
    );

    vec![
        // ---- BACKWARD: the new schema reads data written with the latest one ----
        row(Backward, "add field with default", &[b, nd], Accept),
        row(
            Backward,
            "add field without default",
            &[b, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(Backward, "remove field with default", &[nd, b], Accept),
        row(Backward, "remove field without default", &[n, b], Accept),
        row(Backward, "int -> long", &[qi, ql], Accept),
        row(
            Backward,
            "long -> int",
            &[ql, qi],
            Refuse(TypeMismatch, Some("qty")),
        ),
        row(Backward, "string -> bytes", &[bs, bb], Accept),
        row(Backward, "enum symbol added", &[sn, sns], Accept),
        row(
            Backward,
            "enum symbol removed",
            &[sns, sn],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Backward,
            "enum symbol removed, reader enum has default",
            &[snsd, snd],
            Accept,
        ),
        row(Backward, "union branch added", &[c2, c3], Accept),
        row(
            Backward,
            "union branch removed",
            &[c3, c2],
            Refuse(MissingUnionBranch, Some("contact")),
        ),
        row(Backward, "optional field added", &[b, co], Accept),
        row(
            Backward,
            "nullable field added without default",
            &[b, con],
            Refuse(NoDefault, Some("coupon")),
        ),
        row(
            Backward,
            "nested field added without default",
            &[cu, cue],
            Refuse(NoDefault, Some("customer.email")),
        ),
        row(
            Backward,
            "nested field added with default",
            &[cu, cued],
            Accept,
        ),
        row(
            Backward,
            "nested field type string -> int",
            &[cu, cuni],
            Refuse(TypeMismatch, Some("customer.name")),
        ),
        row(Backward, "field renamed with alias", &[qi, qa], Accept),
        row(
            Backward,
            "field renamed without alias",
            &[qi, qn],
            Refuse(NoDefault, Some("quantity")),
        ),
        row(Backward, "array items int -> long", &[ti, tl], Accept),
        row(
            Backward,
            "array items long -> int",
            &[tl, ti],
            Refuse(TypeMismatch, Some("tags[]")),
        ),
        row(Backward, "map values int -> long", &[mi, ml], Accept),
        row(
            Backward,
            "map values string -> int",
            &[ms, mi],
            Refuse(TypeMismatch, Some("attributes{}")),
        ),
        row(
            Backward,
            "fixed size 16 -> 32",
            &[h16, h32],
            Refuse(FixedSizeMismatch, Some("hash")),
        ),
        row(Backward, "record renamed with alias", &[b, pa], Accept),
        row(
            Backward,
            "record renamed without alias",
            &[b, pn],
            Refuse(NameMismatch, None),
        ),
        row(
            Backward,
            "logical type timestamp-millis -> timestamp-micros",
            &[pm, pu],
            Accept,
        ),
        row(
            Backward,
            "timestamp-millis -> string",
            &[pm, ps],
            Refuse(TypeMismatch, Some("placed")),
        ),
        row(
            Backward,
            "recursive list value int -> long",
            &[li, ll],
            Accept,
        ),
        row(
            Backward,
            "recursive list field added with default",
            &[li, lld],
            Accept,
        ),
        row(
            Backward,
            "recursive list field added without default",
            &[li, lln],
            Refuse(NoDefault, Some("label")),
        ),
        // ---- FORWARD: the latest schema reads data written with the new one ----
        row(Forward, "add field with default", &[b, nd], Accept),
        row(Forward, "add field without default", &[b, n], Accept),
        row(Forward, "remove field with default", &[nd, b], Accept),
        row(
            Forward,
            "remove field without default",
            &[n, b],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            Forward,
            "int -> long",
            &[qi, ql],
            Refuse(TypeMismatch, Some("qty")),
        ),
        row(Forward, "long -> int", &[ql, qi], Accept),
        row(Forward, "string -> bytes", &[bs, bb], Accept),
        row(
            Forward,
            "enum symbol added",
            &[sn, sns],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Forward,
            "enum symbol added, old enum has default",
            &[snd, snsd],
            Accept,
        ),
        row(Forward, "enum symbol removed", &[sns, sn], Accept),
        row(
            Forward,
            "union branch added",
            &[c2, c3],
            Refuse(MissingUnionBranch, Some("contact")),
        ),
        row(Forward, "union branch removed", &[c3, c2], Accept),
        row(Forward, "optional field added", &[b, co], Accept),
        row(
            Forward,
            "nested field added without default",
            &[cu, cue],
            Accept,
        ),
        row(
            Forward,
            "field renamed with alias (old reader has no alias)",
            &[qi, qa],
            Refuse(NoDefault, Some("qty")),
        ),
        row(
            Forward,
            "array items int -> long",
            &[ti, tl],
            Refuse(TypeMismatch, Some("tags[]")),
        ),
        row(
            Forward,
            "map values int -> long",
            &[mi, ml],
            Refuse(TypeMismatch, Some("attributes{}")),
        ),
        row(
            Forward,
            "fixed size 16 -> 32",
            &[h16, h32],
            Refuse(FixedSizeMismatch, Some("hash")),
        ),
        row(
            Forward,
            "record renamed with alias (old reader has no alias)",
            &[b, pa],
            Refuse(NameMismatch, None),
        ),
        row(
            Forward,
            "recursive list value int -> long",
            &[li, ll],
            Refuse(TypeMismatch, Some("value")),
        ),
        // ---- FULL: both ----
        row(Full, "add field with default", &[b, nd], Accept),
        row(
            Full,
            "add field without default",
            &[b, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            Full,
            "remove field without default",
            &[n, b],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            Full,
            "int -> long",
            &[qi, ql],
            Refuse(TypeMismatch, Some("qty")),
        ),
        row(Full, "string -> bytes", &[bs, bb], Accept),
        row(Full, "optional field added", &[b, co], Accept),
        row(
            Full,
            "enum symbol added, both enums have a default",
            &[snd, snsd],
            Accept,
        ),
        row(
            Full,
            "enum symbol added, no default",
            &[sn, sns],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Full,
            "union branch added",
            &[c2, c3],
            Refuse(MissingUnionBranch, Some("contact")),
        ),
        row(
            Full,
            "field renamed with alias",
            &[qi, qa],
            Refuse(NoDefault, Some("qty")),
        ),
        row(
            Full,
            "recursive list field added with default",
            &[li, lld],
            Accept,
        ),
        // ---- NONE: anything goes ----
        row(CompatibilityLevel::None, "long -> int", &[ql, qi], Accept),
        row(
            CompatibilityLevel::None,
            "add field without default",
            &[b, n],
            Accept,
        ),
        row(
            CompatibilityLevel::None,
            "record renamed without alias",
            &[b, pn],
            Accept,
        ),
        // ---- transitive: v3 is fine with v2 but not with v1 ----
        row(
            Backward,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Accept,
        ),
        row(
            BackwardTransitive,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            BackwardTransitive,
            "v1 -> +note default -> +qty default",
            &[
                b,
                nd,
                &order(&[NOTE_DEFAULT, r#"{"name":"qty","type":"int","default":0}"#]),
            ],
            Accept,
        ),
        row(
            Backward,
            "enum [N,P,S] -> [N,P] default N -> [N,P]",
            &[sns, snd, sn],
            Accept,
        ),
        row(
            BackwardTransitive,
            "enum [N,P,S] -> [N,P] default N -> [N,P]",
            &[sns, snd, sn],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Forward,
            "note required -> note default -> note removed",
            &[n, nd, b],
            Accept,
        ),
        row(
            ForwardTransitive,
            "note required -> note default -> note removed",
            &[n, nd, b],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            ForwardTransitive,
            "v1 -> +note -> +qty",
            &[b, n, &order(&[NOTE, QTY_INT])],
            Accept,
        ),
        row(
            Full,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Accept,
        ),
        row(
            FullTransitive,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            FullTransitive,
            "v1 -> +note default -> +coupon optional",
            &[b, nd, &order(&[NOTE_DEFAULT, COUPON_OPTIONAL])],
            Accept,
        ),
    ]
}
