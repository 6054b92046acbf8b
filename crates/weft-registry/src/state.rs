//! The registry's state: a pure fold over the log (see [`crate::log`]). Every process applies
//! the same records in the same order and so holds the same ids, versions and levels.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use weft_schema::compat::CompatibilityLevel;

use crate::log::{Reference, Request};

/// A schema as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchema {
    pub id: i32,
    pub schema_type: String,
    /// The text as first registered.
    pub schema: Arc<str>,
    pub references: Vec<Reference>,
    pub identity: Arc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionEntry {
    pub id: i32,
    pub deleted: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub versions: BTreeMap<i32, VersionEntry>,
    /// The highest version number ever given in this subject (0: none). Never goes down, so a
    /// version number is not reused for another schema.
    pub last_version: i32,
}

impl Subject {
    fn has_live(&self) -> bool {
        self.versions.values().any(|v| !v.deleted)
    }
}

/// What the fold answers to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The schema is registered in the subject (now, or it already was).
    Registered {
        id: i32,
        version: i32,
    },
    /// The subject changed since the requester checked it; check again.
    Conflict,
    /// These versions were deleted.
    Deleted(Vec<i32>),
    Refused(Refusal),
}

/// Why a delete was refused; each maps to a Confluent error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    SubjectNotFound(String),
    VersionNotFound {
        subject: String,
        version: i32,
    },
    SubjectSoftDeleted(String),
    SubjectNotSoftDeleted(String),
    VersionSoftDeleted {
        subject: String,
        version: i32,
    },
    VersionNotSoftDeleted {
        subject: String,
        version: i32,
    },
    Referenced {
        subject: String,
        version: i32,
        by: String,
    },
}

/// Which version a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSel {
    Latest,
    Number(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    SubjectNotFound,
    VersionNotFound,
}

#[derive(Debug, Default)]
pub struct State {
    schemas: HashMap<i32, Arc<StoredSchema>>,
    by_identity: HashMap<Arc<str>, i32>,
    subjects: BTreeMap<String, Subject>,
    global_level: Option<CompatibilityLevel>,
    subject_levels: HashMap<String, CompatibilityLevel>,
    /// The global level while none is set.
    default_level: CompatibilityLevel,
    next_id: i32,
}

impl State {
    pub fn new() -> Self {
        Self::with_default_level(CompatibilityLevel::default())
    }

    pub fn with_default_level(default_level: CompatibilityLevel) -> Self {
        Self {
            next_id: 1,
            default_level,
            ..Self::default()
        }
    }

    /// Applies one request and answers it.
    pub fn apply(&mut self, request: &Request) -> Outcome {
        match request {
            Request::Register {
                subject,
                schema_type,
                schema,
                identity,
                references,
                expect_latest,
            } => {
                let identity = identity_key(schema_type, identity, references);
                let subj = self.subjects.entry(subject.clone()).or_default();
                let existing = self.by_identity.get(&identity).copied();
                if let Some(id) = existing {
                    if let Some((v, _)) =
                        subj.versions.iter().find(|(_, e)| e.id == id && !e.deleted)
                    {
                        return Outcome::Registered { id, version: *v };
                    }
                }
                let latest = (subj.last_version > 0).then_some(subj.last_version);
                if latest != *expect_latest {
                    return Outcome::Conflict;
                }
                let id = match existing {
                    Some(id) => id,
                    None => {
                        let id = self.next_id;
                        self.next_id += 1;
                        let stored = StoredSchema {
                            id,
                            schema_type: schema_type.clone(),
                            schema: schema.as_str().into(),
                            references: references.clone(),
                            identity: identity.clone(),
                        };
                        self.schemas.insert(id, Arc::new(stored));
                        self.by_identity.insert(identity, id);
                        id
                    }
                };
                subj.last_version += 1;
                let version = subj.last_version;
                subj.versions
                    .insert(version, VersionEntry { id, deleted: false });
                Outcome::Registered { id, version }
            }
            Request::DeleteVersion {
                subject,
                version,
                permanent,
            } => self.delete_version(subject, *version, *permanent),
            Request::DeleteSubject { subject, permanent } => {
                self.delete_subject(subject, *permanent)
            }
        }
    }

    fn delete_version(&mut self, subject: &str, version: i32, permanent: bool) -> Outcome {
        let refused = |r| Outcome::Refused(r);
        let Some(subj) = self.subjects.get(subject) else {
            return refused(Refusal::SubjectNotFound(subject.into()));
        };
        let Some(entry) = subj.versions.get(&version).copied() else {
            return refused(Refusal::VersionNotFound {
                subject: subject.into(),
                version,
            });
        };
        if !permanent && entry.deleted {
            return refused(Refusal::VersionSoftDeleted {
                subject: subject.into(),
                version,
            });
        }
        if permanent && !entry.deleted {
            return refused(Refusal::VersionNotSoftDeleted {
                subject: subject.into(),
                version,
            });
        }
        if let Some(by) = self.referenced_by(subject, version) {
            return refused(Refusal::Referenced {
                subject: subject.into(),
                version,
                by,
            });
        }
        if let Some(subj) = self.subjects.get_mut(subject) {
            if permanent {
                subj.versions.remove(&version);
            } else if let Some(e) = subj.versions.get_mut(&version) {
                e.deleted = true;
            }
        }
        Outcome::Deleted(vec![version])
    }

    fn delete_subject(&mut self, subject: &str, permanent: bool) -> Outcome {
        let refused = |r| Outcome::Refused(r);
        let Some(subj) = self
            .subjects
            .get(subject)
            .filter(|s| !s.versions.is_empty())
        else {
            return refused(Refusal::SubjectNotFound(subject.into()));
        };
        let live = subj.has_live();
        if !permanent && !live {
            return refused(Refusal::SubjectSoftDeleted(subject.into()));
        }
        if permanent && live {
            return refused(Refusal::SubjectNotSoftDeleted(subject.into()));
        }
        let versions: Vec<i32> = subj.versions.keys().copied().collect();
        for v in &versions {
            if let Some(by) = self.referenced_by(subject, *v) {
                return refused(Refusal::Referenced {
                    subject: subject.into(),
                    version: *v,
                    by,
                });
            }
        }
        if let Some(subj) = self.subjects.get_mut(subject) {
            if permanent {
                subj.versions.clear();
            } else {
                subj.versions.values_mut().for_each(|e| e.deleted = true);
            }
        }
        Outcome::Deleted(versions)
    }

    /// A live schema version that references `subject` version `version`, if any.
    fn referenced_by(&self, subject: &str, version: i32) -> Option<String> {
        self.subjects.iter().find_map(|(name, s)| {
            s.versions.iter().find_map(|(v, e)| {
                let schema = self.schemas.get(&e.id)?;
                schema
                    .references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
                    .then(|| format!("{name} version {v}"))
            })
        })
    }

    /// Sets or (with `None`) removes a compatibility level; `subject` `None` is the global one.
    pub fn set_level(&mut self, subject: Option<&str>, level: Option<CompatibilityLevel>) {
        match (subject, level) {
            (None, l) => self.global_level = l,
            (Some(s), Some(l)) => {
                self.subject_levels.insert(s.into(), l);
            }
            (Some(s), None) => {
                self.subject_levels.remove(s);
            }
        }
    }

    // ---- queries ----

    pub fn global_level(&self) -> CompatibilityLevel {
        self.global_level.unwrap_or(self.default_level)
    }

    pub fn subject_level(&self, subject: &str) -> Option<CompatibilityLevel> {
        self.subject_levels.get(subject).copied()
    }

    /// The level that applies to `subject`.
    pub fn effective_level(&self, subject: &str) -> CompatibilityLevel {
        self.subject_level(subject)
            .unwrap_or_else(|| self.global_level())
    }

    pub fn schema_by_id(&self, id: i32) -> Option<Arc<StoredSchema>> {
        self.schemas.get(&id).cloned()
    }

    /// Subjects with a live version (or any version, with `deleted`), sorted.
    pub fn subjects(&self, deleted: bool, prefix: &str) -> Vec<String> {
        self.subjects
            .iter()
            .filter(|(name, s)| {
                name.starts_with(prefix)
                    && if deleted {
                        !s.versions.is_empty()
                    } else {
                        s.has_live()
                    }
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn subject(&self, subject: &str, deleted: bool) -> Result<&Subject, LookupError> {
        self.subjects
            .get(subject)
            .filter(|s| {
                if deleted {
                    !s.versions.is_empty()
                } else {
                    s.has_live()
                }
            })
            .ok_or(LookupError::SubjectNotFound)
    }

    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, LookupError> {
        Ok(self
            .subject(subject, deleted)?
            .versions
            .iter()
            .filter(|(_, e)| deleted || !e.deleted)
            .map(|(v, _)| *v)
            .collect())
    }

    /// One version of a subject and its schema.
    pub fn version(
        &self,
        subject: &str,
        sel: VersionSel,
        deleted: bool,
    ) -> Result<(i32, Arc<StoredSchema>), LookupError> {
        let subj = self.subject(subject, deleted)?;
        let mut live = subj.versions.iter().filter(|(_, e)| deleted || !e.deleted);
        let found = match sel {
            VersionSel::Latest => live.next_back(),
            VersionSel::Number(n) => live.find(|(v, _)| **v == n),
        };
        let (v, e) = found.ok_or(LookupError::VersionNotFound)?;
        let schema = self
            .schemas
            .get(&e.id)
            .cloned()
            .ok_or(LookupError::VersionNotFound)?;
        Ok((*v, schema))
    }

    /// The live versions' schemas of a subject, oldest first (what compatibility is checked
    /// against), with their version numbers.
    pub fn live_schemas(&self, subject: &str) -> Vec<(i32, Arc<StoredSchema>)> {
        self.subjects
            .get(subject)
            .map(|s| {
                s.versions
                    .iter()
                    .filter(|(_, e)| !e.deleted)
                    .filter_map(|(v, e)| self.schemas.get(&e.id).map(|x| (*v, x.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The highest version number ever given in `subject` (the registration precondition).
    pub fn last_version(&self, subject: &str) -> Option<i32> {
        self.subjects
            .get(subject)
            .map(|s| s.last_version)
            .filter(|v| *v > 0)
    }

    /// The version of `subject` holding the schema with this identity, if any.
    pub fn find_in_subject(
        &self,
        subject: &str,
        schema_type: &str,
        identity: &str,
        references: &[Reference],
        deleted: bool,
    ) -> Option<(i32, Arc<StoredSchema>)> {
        let key = identity_key(schema_type, identity, references);
        let id = *self.by_identity.get(&key)?;
        let subj = self.subjects.get(subject)?;
        let (v, _) = subj
            .versions
            .iter()
            .rev()
            .find(|(_, e)| e.id == id && (deleted || !e.deleted))?;
        Some((*v, self.schemas.get(&id)?.clone()))
    }

    /// The subject versions that use schema `id`.
    pub fn id_versions(&self, id: i32, deleted: bool) -> Vec<(String, i32)> {
        self.subjects
            .iter()
            .flat_map(|(name, s)| {
                s.versions
                    .iter()
                    .filter(move |(_, e)| e.id == id && (deleted || !e.deleted))
                    .map(move |(v, _)| (name.clone(), *v))
            })
            .collect()
    }

    /// The ids of the live schema versions that reference `subject` version `version`.
    pub fn referenced_by_ids(&self, subject: &str, version: i32) -> Vec<i32> {
        let mut ids: Vec<i32> = self
            .subjects
            .values()
            .flat_map(|s| s.versions.values())
            .filter(|e| !e.deleted)
            .filter(|e| {
                self.schemas.get(&e.id).is_some_and(|x| {
                    x.references
                        .iter()
                        .any(|r| r.subject == subject && r.version == version)
                })
            })
            .map(|e| e.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The number of schemas (ids) known.
    pub fn schema_count(&self) -> usize {
        self.schemas.len()
    }
}

/// The key under which a schema's id is found: type, normalised text and references.
fn identity_key(schema_type: &str, identity: &str, references: &[Reference]) -> Arc<str> {
    let mut key = format!("{schema_type}\n{identity}");
    for r in references {
        key.push_str(&format!("\n{}={}:{}", r.name, r.subject, r.version));
    }
    key.into()
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
