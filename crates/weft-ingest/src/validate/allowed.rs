//! The schema ids each subject allows, read from the registry on demand and kept for a while.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use weft_core::{Classify as _, ErrorClass};
use weft_schema::{RegistryClient, SchemaError};

use super::logic::{self, Lookup};

/// Where the ids of a subject's versions come from: the registry, or a fake in tests.
pub trait SubjectSource: Send + Sync {
    /// The schema ids of the live versions of `subject`; none when the subject is unknown.
    fn subject_ids(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<Vec<u32>, SchemaError>> + Send;
}

impl SubjectSource for RegistryClient {
    async fn subject_ids(&self, subject: &str) -> Result<Vec<u32>, SchemaError> {
        match self.subject_versions(subject).await {
            Ok(versions) => Ok(versions.into_iter().map(|v| v.id).collect()),
            Err(SchemaError::UnknownSubject { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// A subject's allowed ids as last read.
#[derive(Debug)]
pub struct IdList {
    /// Sorted, without repeats.
    pub ids: Vec<u32>,
    fetched: Instant,
    /// When it was read, wall clock (ms since the epoch), to compare with record timestamps.
    fetched_ms: i64,
}

impl IdList {
    pub fn contains(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }
}

/// The answer for one (subject, id).
#[derive(Debug, Clone)]
pub enum Verdict {
    Allowed,
    /// Not among the subject's live versions (the list, for the error message).
    NotAllowed(Arc<IdList>),
}

/// How much newer than a record a list must be to refuse the record's id without reading the
/// list again (clocks of producers and of this process differ a little).
pub const CLOCK_MARGIN_MS: i64 = 1_000;

/// How soon a list that lacks an id is read again (a version may have been registered since).
pub const RECHECK: Duration = Duration::from_secs(2);

/// Allowed ids by subject. A list is read once and answers every record from memory until it
/// is `refresh` old, or — for an id it lacks — [`RECHECK`] old; concurrent misses for one
/// subject share one read. When the registry is unreachable, a list read before keeps
/// answering (and is tried again after [`RECHECK`]).
#[derive(Debug)]
pub struct AllowedIds {
    lists: RwLock<HashMap<Arc<str>, Arc<IdList>>>,
    gates: Mutex<HashMap<Arc<str>, Arc<tokio::sync::Mutex<()>>>>,
    refresh: Duration,
    recheck: Duration,
}

impl AllowedIds {
    pub fn new(refresh: Duration) -> Self {
        Self {
            lists: RwLock::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
            refresh,
            recheck: RECHECK.min(refresh),
        }
    }

    fn list(&self, subject: &str) -> Option<Arc<IdList>> {
        self.lists
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(subject)
            .cloned()
    }

    fn store(&self, subject: &Arc<str>, list: Arc<IdList>) {
        self.lists
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(subject.clone(), list);
    }

    /// The answer from memory, if the cached list may give it.
    fn answer(&self, subject: &str, id: u32) -> Option<Verdict> {
        let list = self.list(subject)?;
        let cached = Some((list.contains(id), list.fetched.elapsed()));
        match logic::lookup(cached, self.refresh, self.recheck) {
            Lookup::Allowed => Some(Verdict::Allowed),
            Lookup::NotAllowed => Some(Verdict::NotAllowed(list)),
            Lookup::Fetch => None,
        }
    }

    /// Whether `id` is the schema of a live version of `subject`.
    pub async fn check<S: SubjectSource>(
        &self,
        source: &S,
        subject: &Arc<str>,
        id: u32,
    ) -> Result<Verdict, SchemaError> {
        if let Some(v) = self.answer(subject, id) {
            return Ok(v);
        }
        let gate = self
            .gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(subject.clone())
            .or_default()
            .clone();
        let _reading = gate.lock().await;
        // Whoever read before us may have answered it.
        if let Some(v) = self.answer(subject, id) {
            return Ok(v);
        }
        let verdict = |list: Arc<IdList>| {
            if list.contains(id) {
                Verdict::Allowed
            } else {
                Verdict::NotAllowed(list)
            }
        };
        match source.subject_ids(subject).await {
            Ok(mut ids) => {
                ids.sort_unstable();
                ids.dedup();
                tracing::debug!(%subject, ?ids, "Read the schema ids a subject allows");
                let list = Arc::new(IdList {
                    ids,
                    fetched: Instant::now(),
                    fetched_ms: weft_core::time::now_millis(),
                });
                self.store(subject, list.clone());
                Ok(verdict(list))
            }
            Err(e) if e.class() == ErrorClass::Transient => {
                let Some(old) = self.list(subject) else {
                    return Err(e);
                };
                tracing::warn!(%subject, error = %e, "Schema registry unreachable; the subject's allowed ids read before still answer");
                // Counts as read `refresh - recheck` ago: tried again after `recheck`.
                let now = Instant::now();
                let list = Arc::new(IdList {
                    ids: old.ids.clone(),
                    fetched: now
                        .checked_sub(self.refresh.saturating_sub(self.recheck))
                        .unwrap_or(now),
                    fetched_ms: old.fetched_ms,
                });
                self.store(subject, list.clone());
                Ok(verdict(list))
            }
            Err(e) => Err(e),
        }
    }

    /// [`Self::check`] for a record written at `written_ms`: before an id is refused, a list
    /// read before the record was written (give or take [`CLOCK_MARGIN_MS`]) is read again —
    /// producers register a schema and write with it at once, so such a list may predate the
    /// record's version. An unreachable registry is then an error (the record waits), never a
    /// refusal.
    pub async fn check_written_at<S: SubjectSource>(
        &self,
        source: &S,
        subject: &Arc<str>,
        id: u32,
        written_ms: Option<i64>,
    ) -> Result<Verdict, SchemaError> {
        let verdict = self.check(source, subject, id).await?;
        let fresh_enough = |l: &IdList| {
            written_ms.is_none_or(|at| l.fetched_ms >= at.saturating_add(CLOCK_MARGIN_MS))
        };
        match &verdict {
            Verdict::NotAllowed(list) if !fresh_enough(list) => {}
            _ => return Ok(verdict),
        }
        let gate = self
            .gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(subject.clone())
            .or_default()
            .clone();
        let _reading = gate.lock().await;
        // Read since by whoever held the gate: that answer will do.
        if let Some(list) = self.list(subject) {
            if list.contains(id) {
                return Ok(Verdict::Allowed);
            }
            if fresh_enough(&list) {
                return Ok(Verdict::NotAllowed(list));
            }
        }
        let mut ids = source.subject_ids(subject).await?;
        ids.sort_unstable();
        ids.dedup();
        let list = Arc::new(IdList {
            ids,
            fetched: Instant::now(),
            fetched_ms: weft_core::time::now_millis(),
        });
        self.store(subject, list.clone());
        Ok(if list.contains(id) {
            Verdict::Allowed
        } else {
            Verdict::NotAllowed(list)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    #[derive(Default)]
    struct Fake {
        ids: Mutex<Vec<u32>>,
        calls: AtomicUsize,
        down: AtomicBool,
    }

    impl SubjectSource for Fake {
        async fn subject_ids(&self, _subject: &str) -> Result<Vec<u32>, SchemaError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            if self.down.load(Ordering::SeqCst) {
                return Err(SchemaError::RegistryUnavailable {
                    message: "connection refused".into(),
                });
            }
            Ok(self.ids.lock().unwrap().clone())
        }
    }

    fn fake(ids: &[u32]) -> Arc<Fake> {
        let f = Fake::default();
        *f.ids.lock().unwrap() = ids.to_vec();
        Arc::new(f)
    }

    #[tokio::test]
    async fn a_subject_is_read_once_for_many_records() {
        let src = fake(&[7, 3, 7]);
        let allowed = Arc::new(AllowedIds::new(Duration::from_secs(60)));
        let subject: Arc<str> = Arc::from("orders-value");
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (src, allowed, subject) = (src.clone(), allowed.clone(), subject.clone());
            tasks.push(tokio::spawn(async move {
                allowed
                    .check(&*src, &subject, 3)
                    .await
                    .map(|v| matches!(v, Verdict::Allowed))
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().unwrap());
        }
        assert_eq!(
            src.calls.load(Ordering::SeqCst),
            1,
            "concurrent misses share one read"
        );
        let Verdict::NotAllowed(list) = allowed.check(&*src, &subject, 42).await.unwrap() else {
            panic!("42 is not allowed");
        };
        assert_eq!(list.ids, vec![3, 7]);
        assert_eq!(
            src.calls.load(Ordering::SeqCst),
            1,
            "a fresh list answers a miss"
        );
    }

    #[tokio::test]
    async fn a_record_written_after_the_list_was_read_gets_a_new_read() {
        let src = fake(&[3]);
        let allowed = AllowedIds::new(Duration::from_secs(60));
        let subject: Arc<str> = Arc::from("s");
        let now = weft_core::time::now_millis();
        assert!(matches!(
            allowed
                .check_written_at(&*src, &subject, 3, Some(now))
                .await
                .unwrap(),
            Verdict::Allowed
        ));
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
        // A producer registers version 2 (id 9) and writes with it at once.
        src.ids.lock().unwrap().push(9);
        let written = weft_core::time::now_millis();
        assert!(
            matches!(
                allowed.check(&*src, &subject, 9).await.unwrap(),
                Verdict::NotAllowed(_)
            ),
            "the list from memory does not know it yet"
        );
        assert!(matches!(
            allowed
                .check_written_at(&*src, &subject, 9, Some(written))
                .await
                .unwrap(),
            Verdict::Allowed
        ));
        assert_eq!(src.calls.load(Ordering::SeqCst), 2, "read again once");
        // A record written well before the list was read is refused from memory.
        let old = weft_core::time::now_millis() - 10 * CLOCK_MARGIN_MS;
        assert!(matches!(
            allowed
                .check_written_at(&*src, &subject, 42, Some(old))
                .await
                .unwrap(),
            Verdict::NotAllowed(_)
        ));
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
        // A recent one is read again first; with the registry away that is an error (the
        // record waits), not a refusal.
        src.down.store(true, Ordering::SeqCst);
        let e = allowed
            .check_written_at(&*src, &subject, 42, Some(weft_core::time::now_millis()))
            .await
            .unwrap_err();
        assert_eq!(e.class(), ErrorClass::Transient);
    }

    #[tokio::test]
    async fn a_missing_id_is_read_again_after_the_recheck_interval() {
        let src = fake(&[3]);
        // refresh 10 ms: the recheck interval is capped by it.
        let allowed = AllowedIds::new(Duration::from_millis(10));
        let subject: Arc<str> = Arc::from("s");
        assert!(matches!(
            allowed.check(&*src, &subject, 8).await.unwrap(),
            Verdict::NotAllowed(_)
        ));
        src.ids.lock().unwrap().push(8);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(
            allowed.check(&*src, &subject, 8).await.unwrap(),
            Verdict::Allowed
        ));
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_an_error_only_without_an_earlier_list() {
        let src = fake(&[3]);
        src.down.store(true, Ordering::SeqCst);
        let allowed = AllowedIds::new(Duration::from_millis(10));
        let subject: Arc<str> = Arc::from("s");
        let e = allowed.check(&*src, &subject, 3).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Transient);
        src.down.store(false, Ordering::SeqCst);
        assert!(matches!(
            allowed.check(&*src, &subject, 3).await.unwrap(),
            Verdict::Allowed
        ));
        src.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            matches!(
                allowed.check(&*src, &subject, 3).await.unwrap(),
                Verdict::Allowed
            ),
            "the old list answers while the registry is down"
        );
    }
}
