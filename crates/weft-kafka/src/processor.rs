//! What a stage plugs into the consumer loop.

use std::future::Future;

use weft_core::StageError;

use crate::record::{OutRecord, Record};

/// Collects the records a processor produces for one input record. Nothing is sent until the
/// processor returns `Ok`, so a failing record never leaves part of its output behind.
#[derive(Debug, Default)]
pub struct Emitter {
    out: Vec<OutRecord>,
}

impl Emitter {
    pub fn emit(&mut self, record: OutRecord) {
        self.out.push(record);
    }

    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The records emitted so far.
    pub fn records(&self) -> &[OutRecord] {
        &self.out
    }

    pub(crate) fn clear(&mut self) {
        self.out.clear();
    }

    pub(crate) fn take(&mut self) -> Vec<OutRecord> {
        std::mem::take(&mut self.out)
    }
}

/// A stage's logic for one record. Called concurrently for records of different keys and
/// sequentially, in offset order, for records of the same key.
///
/// Return `Ok` after emitting zero or more records (zero = filtered). Errors say by their
/// class what happens next: `Transient` is retried in place with backoff, `Permanent` sends the
/// original record to the dead-letter topic, `Fatal` stops the loop without committing the
/// record.
pub trait Processor: Send + Sync + 'static {
    fn process(
        &self,
        record: &Record,
        out: &mut Emitter,
    ) -> impl Future<Output = Result<(), StageError>> + Send;
}
