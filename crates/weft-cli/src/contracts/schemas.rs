//! The schema contract: `schemas/<full name>.avsc`, bound to registry subjects by the topic
//! files' `[key]`/`[value]` tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apache_avro::Schema;

use super::topics::{schema_file, TopicFile};

/// One subject the repository defines.
#[derive(Debug, Clone)]
pub struct Contract {
    pub subject: String,
    /// The record's full name (the file is `<schemas>/<name>.avsc`).
    pub name: String,
    pub file: PathBuf,
    pub text: String,
    pub schema: Schema,
    /// The topics (and whether key or value) that use this subject.
    pub used_by: Vec<String>,
}

/// The subjects the topic files name, with their schema files read and parsed. Lists every
/// problem: a missing or unparsable file, a file whose record is not the name it is filed
/// under, one subject bound to two different schemas.
pub fn load(topics: &[TopicFile], schemas: &Path) -> Result<Vec<Contract>, Vec<String>> {
    let mut problems = Vec::new();
    let mut by_subject: BTreeMap<String, Contract> = BTreeMap::new();
    for t in topics {
        for (role, r) in [("key", &t.key), ("value", &t.value)] {
            let Some(r) = r else { continue };
            let used = format!("{} ({role})", t.name);
            if let Some(c) = by_subject.get_mut(&r.subject) {
                if c.name != r.schema {
                    problems.push(format!(
                        "{}: {role}: subject {:?} is bound to {} here and to {} by {}",
                        t.file.display(),
                        r.subject,
                        r.schema,
                        c.name,
                        c.used_by.join(", ")
                    ));
                } else {
                    c.used_by.push(used);
                }
                continue;
            }
            match read(schemas, &r.schema) {
                Ok((file, text, schema)) => {
                    by_subject.insert(
                        r.subject.clone(),
                        Contract {
                            subject: r.subject.clone(),
                            name: r.schema.clone(),
                            file,
                            text,
                            schema,
                            used_by: vec![used],
                        },
                    );
                }
                Err(e) => problems.push(format!("{}: {role}: {e}", t.file.display())),
            }
        }
    }
    if problems.is_empty() {
        Ok(by_subject.into_values().collect())
    } else {
        problems.sort();
        problems.dedup();
        Err(problems)
    }
}

/// Reads and parses `<schemas>/<name>.avsc`, checking it defines `name`.
fn read(schemas: &Path, name: &str) -> Result<(PathBuf, String, Schema), String> {
    let file = schema_file(schemas, name);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let schema = Schema::parse_str(&text)
        .map_err(|e| format!("{}: not a valid Avro schema: {e}", file.display()))?;
    let full = match &schema {
        Schema::Record(r) => Some(r.name.fullname(None)),
        Schema::Enum(e) => Some(e.name.fullname(None)),
        Schema::Fixed(f) => Some(f.name.fullname(None)),
        _ => None,
    };
    if full.as_deref() != Some(name) {
        return Err(format!(
            "{}: defines {}, but the file name says {name}",
            file.display(),
            full.unwrap_or_else(|| "an unnamed type".into())
        ));
    }
    Ok((file, text, schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::topics::parse;

    #[test]
    fn subjects_come_from_topic_files_and_problems_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let schemas = dir.path();
        std::fs::write(
            schemas.join("com.acme.Order.avsc"),
            r#"{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"id","type":"string"}]}"#,
        )
        .unwrap();
        std::fs::write(
            schemas.join("com.acme.Wrong.avsc"),
            r#"{"type":"record","name":"Other","fields":[]}"#,
        )
        .unwrap();
        let topic = |name: &str, schema: &str| {
            let text = format!(
                "name = \"{name}\"\ndescription = \"d\"\nowner = \"o\"\npartitions = 1\n[value]\nschema = \"{schema}\"\n"
            );
            parse(Path::new(&format!("topics/{name}.toml")), &text).unwrap()
        };
        let ok = load(&[topic("orders", "com.acme.Order")], schemas).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].subject, "orders-value");
        assert_eq!(ok[0].used_by, vec!["orders (value)".to_string()]);

        let errs = load(&[topic("bad", "com.acme.Wrong")], schemas).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("defines Other, but the file name says com.acme.Wrong"),
            "{errs:?}"
        );
    }
}
