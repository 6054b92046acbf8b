use super::*;

fn register(subject: &str, identity: &str, expect: Option<i32>) -> Request {
    Request::Register {
        subject: subject.into(),
        schema_type: "AVRO".into(),
        schema: identity.into(),
        identity: identity.into(),
        references: vec![],
        expect_latest: expect,
    }
}

#[test]
fn ids_are_global_and_identical_schemas_share_one() {
    let mut s = State::new();
    assert_eq!(
        s.apply(&register("a", "\"int\"", None)),
        Outcome::Registered { id: 1, version: 1 }
    );
    // The same schema again: same id and version, nothing new.
    assert_eq!(
        s.apply(&register("a", "\"int\"", Some(1))),
        Outcome::Registered { id: 1, version: 1 }
    );
    // The same schema in another subject: same id, that subject's version 1.
    assert_eq!(
        s.apply(&register("b", "\"int\"", None)),
        Outcome::Registered { id: 1, version: 1 }
    );
    assert_eq!(
        s.apply(&register("a", "\"long\"", Some(1))),
        Outcome::Registered { id: 2, version: 2 }
    );
    assert_eq!(s.versions("a", false), Ok(vec![1, 2]));
    assert_eq!(
        s.id_versions(1, false),
        vec![("a".into(), 1), ("b".into(), 1)]
    );
}

#[test]
fn a_stale_precondition_is_a_conflict_and_changes_nothing() {
    let mut s = State::new();
    s.apply(&register("a", "\"int\"", None));
    // Two requesters checked against version 1; the first wins, the second must re-check.
    assert_eq!(
        s.apply(&register("a", "\"long\"", Some(1))),
        Outcome::Registered { id: 2, version: 2 }
    );
    assert_eq!(
        s.apply(&register("a", "\"string\"", Some(1))),
        Outcome::Conflict
    );
    assert_eq!(s.schema_count(), 2);
    assert_eq!(s.last_version("a"), Some(2));
}

#[test]
fn soft_then_permanent_delete_and_ids_never_reused() {
    let mut s = State::new();
    s.apply(&register("a", "\"int\"", None));
    s.apply(&register("a", "\"long\"", Some(1)));
    let del = |version, permanent| Request::DeleteVersion {
        subject: "a".into(),
        version,
        permanent,
    };
    assert!(matches!(
        s.apply(&del(2, true)),
        Outcome::Refused(Refusal::VersionNotSoftDeleted { .. })
    ));
    assert_eq!(s.apply(&del(2, false)), Outcome::Deleted(vec![2]));
    assert!(matches!(
        s.apply(&del(2, false)),
        Outcome::Refused(Refusal::VersionSoftDeleted { .. })
    ));
    assert_eq!(s.versions("a", false), Ok(vec![1]));
    assert_eq!(s.versions("a", true), Ok(vec![1, 2]));
    assert_eq!(
        s.version("a", VersionSel::Latest, false)
            .map(|(v, x)| (v, x.id)),
        Ok((1, 1))
    );
    assert_eq!(s.apply(&del(2, true)), Outcome::Deleted(vec![2]));
    assert_eq!(s.versions("a", true), Ok(vec![1]));
    // A new schema gets a new id and a new version number; the old id still resolves.
    assert_eq!(
        s.apply(&register("a", "\"string\"", Some(2))),
        Outcome::Registered { id: 3, version: 3 }
    );
    assert!(s.schema_by_id(2).is_some());
}

#[test]
fn subject_delete_rules() {
    let mut s = State::new();
    let del = |permanent| Request::DeleteSubject {
        subject: "a".into(),
        permanent,
    };
    assert!(matches!(
        s.apply(&del(false)),
        Outcome::Refused(Refusal::SubjectNotFound(_))
    ));
    s.apply(&register("a", "\"int\"", None));
    assert!(matches!(
        s.apply(&del(true)),
        Outcome::Refused(Refusal::SubjectNotSoftDeleted(_))
    ));
    assert_eq!(s.apply(&del(false)), Outcome::Deleted(vec![1]));
    assert!(s.subjects(false, "").is_empty());
    assert_eq!(s.subjects(true, ""), vec!["a".to_string()]);
    assert_eq!(s.versions("a", false), Err(LookupError::SubjectNotFound));
    assert!(matches!(
        s.apply(&del(false)),
        Outcome::Refused(Refusal::SubjectSoftDeleted(_))
    ));
    assert_eq!(s.apply(&del(true)), Outcome::Deleted(vec![1]));
    assert!(s.subjects(true, "").is_empty());
    // Registering again after a soft delete reuses the id with a new version.
    assert_eq!(
        s.apply(&register("a", "\"int\"", Some(1))),
        Outcome::Registered { id: 1, version: 2 }
    );
}

#[test]
fn a_referenced_version_cannot_be_deleted() {
    let mut s = State::new();
    s.apply(&register(
        "common",
        "{\"type\":\"fixed\",\"name\":\"Id\",\"size\":16}",
        None,
    ));
    s.apply(&Request::Register {
        subject: "orders-value".into(),
        schema_type: "AVRO".into(),
        schema: "x".into(),
        identity: "x".into(),
        references: vec![Reference {
            name: "Id".into(),
            subject: "common".into(),
            version: 1,
        }],
        expect_latest: None,
    });
    let r = s.apply(&Request::DeleteVersion {
        subject: "common".into(),
        version: 1,
        permanent: false,
    });
    assert!(
        matches!(&r, Outcome::Refused(Refusal::Referenced { by, .. }) if by == "orders-value version 1"),
        "{r:?}"
    );
}

#[test]
fn levels_fall_back_to_global_then_backward() {
    let mut s = State::new();
    assert_eq!(s.effective_level("a"), CompatibilityLevel::Backward);
    s.set_level(None, Some(CompatibilityLevel::Full));
    assert_eq!(s.effective_level("a"), CompatibilityLevel::Full);
    s.set_level(Some("a"), Some(CompatibilityLevel::None));
    assert_eq!(s.effective_level("a"), CompatibilityLevel::None);
    s.set_level(Some("a"), None);
    assert_eq!(s.effective_level("a"), CompatibilityLevel::Full);
}
