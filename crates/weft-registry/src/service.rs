//! The registry's operations, as Confluent defines them, over the [`Store`]. Handlers in
//! [`crate::api`] only translate HTTP to these calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use weft_schema::compat::{self, CompatibilityLevel, SchemaSet};

use crate::error::ApiError;
use crate::events::RegistryMetrics;
use crate::log::{Reference, Request};
use crate::state::{LookupError, Outcome, State, StoredSchema, VersionSel};
use crate::store::Store;

/// How often a registration re-checks when other registrations keep changing the subject.
/// Each round one of the racing requests wins, so this bounds the writers racing on one
/// subject, not the traffic.
const MAX_ATTEMPTS: u32 = 64;
/// Entries in the schema-text → identity cache before it is cleared.
const IDENTITY_CACHE: usize = 10_000;

/// The schema types this registry accepts.
pub const SCHEMA_TYPES: &[&str] = &["AVRO"];

/// A schema as a request carries it.
#[derive(Debug, Clone)]
pub struct NewSchema {
    pub schema: String,
    pub schema_type: Option<String>,
    pub references: Vec<Reference>,
}

/// A schema found in a subject.
#[derive(Debug, Clone)]
pub struct Found {
    pub subject: String,
    pub version: i32,
    pub schema: Arc<StoredSchema>,
}

/// The answer of a compatibility test.
#[derive(Debug, Clone)]
pub struct Compatibility {
    pub compatible: bool,
    pub messages: Vec<String>,
}

/// A schema text with its references, as a request gives them.
type IdentityKey = (String, Vec<Reference>);

pub struct Registry {
    store: Arc<Store>,
    metrics: RegistryMetrics,
    /// Parsed schemas by id (for compatibility checks), filled on first use.
    parsed: Mutex<HashMap<i32, Arc<SchemaSet>>>,
    /// Request text (+ references) → identity, so look-ups do not parse the schema each time.
    identities: Mutex<HashMap<IdentityKey, Arc<str>>>,
}

impl Registry {
    pub fn new(store: Arc<Store>, metrics: RegistryMetrics) -> Self {
        Self {
            store,
            metrics,
            parsed: Mutex::default(),
            identities: Mutex::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn metrics(&self) -> &RegistryMetrics {
        &self.metrics
    }

    /// Runs `f` on the state; when it finds nothing, catches up with the log once and retries
    /// (another registry process may have just written what the caller asks for).
    async fn read_fresh<T, E>(&self, f: impl Fn(&State) -> Result<T, E>) -> Result<T, ApiError>
    where
        E: Into<ApiError>,
    {
        if let Ok(v) = self.store.read(&f) {
            return Ok(v);
        }
        self.store.sync().await.map_err(|e| ApiError::store(&e))?;
        self.store.read(&f).map_err(Into::into)
    }

    pub fn subjects(&self, deleted: bool, prefix: &str) -> Vec<String> {
        self.store.read(|s| s.subjects(deleted, prefix))
    }

    pub async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, ApiError> {
        self.read_fresh(|s| {
            s.versions(subject, deleted)
                .map_err(|e| ApiError::lookup(&e, subject, ""))
        })
        .await
    }

    pub async fn version(
        &self,
        subject: &str,
        sel: VersionSel,
        deleted: bool,
    ) -> Result<Found, ApiError> {
        let label = match sel {
            VersionSel::Latest => "latest".to_string(),
            VersionSel::Number(n) => n.to_string(),
        };
        self.read_fresh(|s| {
            s.version(subject, sel, deleted)
                .map(|(version, schema)| Found {
                    subject: subject.into(),
                    version,
                    schema,
                })
                .map_err(|e| ApiError::lookup(&e, subject, &label))
        })
        .await
    }

    pub async fn schema_by_id(&self, id: i32) -> Result<Arc<StoredSchema>, ApiError> {
        self.read_fresh(|s| {
            s.schema_by_id(id)
                .ok_or_else(|| ApiError::schema_not_found(format!("Schema {id} not found")))
        })
        .await
    }

    pub async fn id_versions(
        &self,
        id: i32,
        deleted: bool,
    ) -> Result<Vec<(String, i32)>, ApiError> {
        self.schema_by_id(id).await?;
        Ok(self.store.read(|s| s.id_versions(id, deleted)))
    }

    /// The ids of the schemas that reference `subject` version `version`.
    pub async fn referenced_by(
        &self,
        subject: &str,
        sel: VersionSel,
    ) -> Result<Vec<i32>, ApiError> {
        let found = self.version(subject, sel, false).await?;
        Ok(self
            .store
            .read(|s| s.referenced_by_ids(subject, found.version)))
    }

    /// `POST /subjects/{subject}`: the version of `subject` holding this schema.
    pub async fn lookup(
        &self,
        subject: &str,
        new: &NewSchema,
        deleted: bool,
    ) -> Result<Found, ApiError> {
        let schema_type = check_type(new)?;
        let identity = self.identity(new).await?;
        let find = |s: &State| {
            s.find_in_subject(subject, schema_type, &identity, &new.references, deleted)
                .map(|(version, schema)| Found {
                    subject: subject.into(),
                    version,
                    schema,
                })
                .ok_or_else(|| {
                    if s.versions(subject, deleted).is_err() {
                        ApiError::subject_not_found(subject)
                    } else {
                        ApiError::schema_not_found("Schema not found")
                    }
                })
        };
        self.read_fresh(find).await
    }

    /// `POST /subjects/{subject}/versions`: registers the schema (or finds it already there)
    /// after checking it against the subject's compatibility level.
    pub async fn register(&self, subject: &str, new: &NewSchema) -> Result<Found, ApiError> {
        let schema_type = check_type(new)?;
        if subject.is_empty() {
            return Err(ApiError::bad_request("The subject name must not be empty"));
        }
        self.store.sync().await.map_err(|e| ApiError::store(&e))?;
        let parsed = self.parse(new)?;
        let identity = self.identity(new).await?;
        for attempt in 0..MAX_ATTEMPTS {
            let found = self.store.read(|s| {
                s.find_in_subject(subject, schema_type, &identity, &new.references, false)
            });
            if let Some((version, schema)) = found {
                return Ok(Found {
                    subject: subject.into(),
                    version,
                    schema,
                });
            }
            let (level, previous, expect_latest) = self.store.read(|s| {
                (
                    s.effective_level(subject),
                    s.live_schemas(subject),
                    s.last_version(subject),
                )
            });
            let problems = self.check(level, &parsed, &previous)?;
            if !problems.is_empty() {
                return Err(ApiError::incompatible(format!(
                    "Schema being registered is incompatible with an earlier schema for subject \
                     \"{subject}\", details: [{}]",
                    problems.join(", ")
                )));
            }
            let request = Request::Register {
                subject: subject.into(),
                schema_type: schema_type.into(),
                schema: new.schema.clone(),
                identity: identity.to_string(),
                references: new.references.clone(),
                expect_latest,
            };
            match self.store.submit(&request).await {
                Ok(Outcome::Registered { id, version }) => {
                    let known = self.store.read(State::schema_count);
                    self.metrics
                        .schemas
                        .set(i64::try_from(known).unwrap_or(i64::MAX));
                    let schema = self.schema_by_id(id).await?;
                    return Ok(Found {
                        subject: subject.into(),
                        version,
                        schema,
                    });
                }
                Ok(Outcome::Conflict) => {
                    self.metrics.conflicts.inc();
                    // Another registration got there first: check again against it, after a
                    // short random pause so that racing requesters spread out.
                    let pause = rand::random_range(1..=5 * u64::from(attempt.min(10) + 1));
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    continue;
                }
                Ok(other) => {
                    return Err(ApiError::store(&crate::store::StoreError::Unavailable(
                        format!("unexpected answer to a registration: {other:?}"),
                    )))
                }
                Err(e) => return Err(ApiError::store(&e)),
            }
        }
        Err(ApiError::store(&crate::store::StoreError::Unavailable(
            format!("subject {subject:?} kept changing during {MAX_ATTEMPTS} attempts to register"),
        )))
    }

    /// `POST /compatibility/subjects/{subject}/versions[/{version}]`.
    pub async fn test_compatibility(
        &self,
        subject: &str,
        sel: Option<VersionSel>,
        new: &NewSchema,
    ) -> Result<Compatibility, ApiError> {
        check_type(new)?;
        self.store.sync().await.map_err(|e| ApiError::store(&e))?;
        let parsed = self.parse(new)?;
        let (level, live) = self
            .store
            .read(|s| (s.effective_level(subject), s.live_schemas(subject)));
        let previous = match sel {
            // One given version: checked against that version alone.
            Some(VersionSel::Number(n)) => {
                let found = self.version(subject, VersionSel::Number(n), false).await?;
                vec![(found.version, found.schema)]
            }
            // As Confluent 7+: a subject without versions accepts anything.
            Some(VersionSel::Latest) | None => live,
        };
        let messages = self.check(level, &parsed, &previous)?;
        Ok(Compatibility {
            compatible: messages.is_empty(),
            messages,
        })
    }

    /// Deletes a version (`DELETE /subjects/{s}/versions/{v}`); the deleted version number.
    pub async fn delete_version(
        &self,
        subject: &str,
        sel: VersionSel,
        permanent: bool,
    ) -> Result<i32, ApiError> {
        self.store.sync().await.map_err(|e| ApiError::store(&e))?;
        let version = match sel {
            VersionSel::Number(n) => n,
            VersionSel::Latest => self
                .store
                .read(|s| s.version(subject, VersionSel::Latest, permanent))
                .map(|(v, _)| v)
                .map_err(|e| ApiError::lookup(&e, subject, "latest"))?,
        };
        let request = Request::DeleteVersion {
            subject: subject.into(),
            version,
            permanent,
        };
        match self.submit(&request).await? {
            Outcome::Deleted(_) => Ok(version),
            other => Err(unexpected(&other)),
        }
    }

    /// Deletes every version of a subject; the deleted version numbers.
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, ApiError> {
        let request = Request::DeleteSubject {
            subject: subject.into(),
            permanent,
        };
        match self.submit(&request).await? {
            Outcome::Deleted(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    async fn submit(&self, request: &Request) -> Result<Outcome, ApiError> {
        match self.store.submit(request).await {
            Ok(Outcome::Refused(r)) => Err(ApiError::refusal(&r)),
            Ok(o) => Ok(o),
            Err(e) => Err(ApiError::store(&e)),
        }
    }

    pub fn global_level(&self) -> CompatibilityLevel {
        self.store.read(State::global_level)
    }

    pub fn subject_level(&self, subject: &str) -> Option<CompatibilityLevel> {
        self.store.read(|s| s.subject_level(subject))
    }

    pub async fn set_level(
        &self,
        subject: Option<&str>,
        level: Option<CompatibilityLevel>,
    ) -> Result<(), ApiError> {
        self.store
            .set_level(subject, level)
            .await
            .map_err(|e| ApiError::store(&e))
    }

    /// Compatibility problems of `new` against `previous` (oldest first) under `level`, each a
    /// readable line naming the field, the rule and the version.
    fn check(
        &self,
        level: CompatibilityLevel,
        new: &SchemaSet,
        previous: &[(i32, Arc<StoredSchema>)],
    ) -> Result<Vec<String>, ApiError> {
        if level == CompatibilityLevel::None || previous.is_empty() {
            return Ok(Vec::new());
        }
        let mut parsed = Vec::with_capacity(previous.len());
        for (version, stored) in previous {
            parsed.push((*version, self.parsed(stored)?));
        }
        let numbered: Vec<(i32, &SchemaSet)> = parsed.iter().map(|(v, s)| (*v, &**s)).collect();
        Ok(compat::check_versions(level, new, &numbered)
            .iter()
            .map(|i| {
                let version = i
                    .version
                    .map_or(String::new(), |v| format!(", old version {v}"));
                format!("{} [{} at {}{version}, {level}]", i.message, i.kind, i.path)
            })
            .collect())
    }

    /// The parsed form of a stored schema, cached by id.
    fn parsed(&self, stored: &StoredSchema) -> Result<Arc<SchemaSet>, ApiError> {
        if let Some(p) = lock(&self.parsed).get(&stored.id) {
            return Ok(p.clone());
        }
        let new = NewSchema {
            schema: stored.schema.to_string(),
            schema_type: Some(stored.schema_type.clone()),
            references: stored.references.clone(),
        };
        let p = Arc::new(self.parse(&new)?);
        lock(&self.parsed).insert(stored.id, p.clone());
        Ok(p)
    }

    /// Parses a schema with the texts of its references (transitively) from the state.
    fn parse(&self, new: &NewSchema) -> Result<SchemaSet, ApiError> {
        let texts = self.store.read(|s| reference_texts(s, &new.references))?;
        SchemaSet::parse_with_references(&new.schema, &texts).map_err(|e| {
            ApiError::invalid_schema(format!("Invalid schema {}: {e}", abbreviate(&new.schema)))
        })
    }

    /// The identity of a schema text: its normalised form (see [`normalised`]).
    async fn identity(&self, new: &NewSchema) -> Result<Arc<str>, ApiError> {
        let key = (new.schema.clone(), new.references.clone());
        if let Some(id) = lock(&self.identities).get(&key) {
            return Ok(id.clone());
        }
        let parsed = match self.parse(new) {
            Ok(p) => p,
            Err(_) => {
                // A reference may have been registered through another process just now.
                self.store.sync().await.map_err(|e| ApiError::store(&e))?;
                self.parse(new)?
            }
        };
        let identity: Arc<str> = normalised(&parsed)?.into();
        let mut cache = lock(&self.identities);
        if cache.len() >= IDENTITY_CACHE {
            cache.clear();
        }
        cache.insert(key, identity.clone());
        Ok(identity)
    }
}

/// The identity of a schema: the parsed schema written back as JSON by apache-avro. Like
/// Avro's Parsing Canonical Form it ignores whitespace, attribute order and how names are
/// spelled; unlike it, it keeps what changes how data is read — defaults, aliases, logical
/// types, enum defaults — and docs, as Confluent's registry does, so a changed default is a
/// new version and not silently the old one.
fn normalised(set: &SchemaSet) -> Result<String, ApiError> {
    serde_json::to_string(set.root())
        .map_err(|e| ApiError::invalid_schema(format!("Invalid schema: {e}")))
}

fn check_type(new: &NewSchema) -> Result<&'static str, ApiError> {
    let t = new.schema_type.as_deref().unwrap_or("AVRO");
    SCHEMA_TYPES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(t))
        .copied()
        .ok_or_else(|| {
            ApiError::invalid_schema(format!(
                "Invalid schema type {t:?}: this registry accepts {}",
                SCHEMA_TYPES.join(", ")
            ))
        })
}

/// The texts of `references` and of theirs, dependencies first.
fn reference_texts(state: &State, references: &[Reference]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<(String, i32)> = Vec::new();
    fn walk(
        state: &State,
        refs: &[Reference],
        out: &mut Vec<String>,
        seen: &mut Vec<(String, i32)>,
        depth: usize,
    ) -> Result<(), ApiError> {
        if depth > 32 {
            return Err(ApiError::invalid_schema(
                "Invalid schema: references nest more than 32 levels deep",
            ));
        }
        for r in refs {
            if seen.contains(&(r.subject.clone(), r.version)) {
                continue;
            }
            seen.push((r.subject.clone(), r.version));
            let (_, schema) = state
                .version(&r.subject, VersionSel::Number(r.version), false)
                .map_err(|e| {
                    let what = match e {
                        LookupError::SubjectNotFound => "subject",
                        LookupError::VersionNotFound => "version",
                    };
                    ApiError::invalid_schema(format!(
                        "Invalid schema: reference {:?} names {what} {:?} version {} that does \
                         not exist",
                        r.name, r.subject, r.version
                    ))
                })?;
            walk(state, &schema.references, out, seen, depth + 1)?;
            out.push(schema.schema.to_string());
        }
        Ok(())
    }
    walk(state, references, &mut out, &mut seen, 0)?;
    Ok(out)
}

fn unexpected(o: &Outcome) -> ApiError {
    ApiError::store(&crate::store::StoreError::Unavailable(format!(
        "unexpected answer from the schema log: {o:?}"
    )))
}

fn abbreviate(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
