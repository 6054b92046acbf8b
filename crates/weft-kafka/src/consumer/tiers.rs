//! Retry tiers in the lane: the failure a record carries into a tier, the next tier, and the
//! records parked behind one of their key.

use weft_core::headers::retry;
use weft_core::{DeadLetter, ErrorCode, Failure, StageError};

use super::lane::dead_letter;
use super::Shared;
use crate::processor::Processor;
use crate::record::{OutRecord, Record};
use crate::retry_tiers::{tier_record, Retried};

/// The place of a handed-back record in its key's queue of parked records, if it was parked.
pub(super) fn follower_seq(handed_back: &Record) -> Option<u64> {
    handed_back
        .headers
        .get_str(retry::PARKED)
        .and_then(|s| s.parse().ok())
}

/// The record's failure so far: this one, after the attempts of earlier tiers.
pub(super) fn failure_of<P: Processor>(
    shared: &Shared<P>,
    record: &Record,
    error: &StageError,
    attempt: u32,
    prior: Option<&Retried>,
) -> DeadLetter {
    let mut failure = Failure::from_error(&shared.opts.service, &shared.opts.stage, error, attempt);
    failure.group = Some(shared.opts.group_id.clone());
    failure.schema_id = record.value.as_deref().and_then(weft_core::wire::schema_id);
    // A replayed record that fails again keeps its replay count (loop protection).
    failure.replay_count = record
        .headers
        .get_str(weft_core::headers::replay::COUNT)
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    if let Some(p) = prior {
        failure.attempt = p.dead_letter.failure.attempt.saturating_add(attempt);
        failure.first_failure_ms = p.dead_letter.failure.first_failure_ms;
    }
    DeadLetter {
        original: record.to_original(),
        failure,
    }
}

/// Sends a record that failed transiently to its next retry tier, or to the dead-letter topic
/// when the tiers are exhausted; `true` when it went to a tier. A parked record that fails
/// (`follower`) starts at the first tier.
pub(super) fn to_next_tier<P: Processor>(
    shared: &Shared<P>,
    record: &Record,
    error: StageError,
    attempt: u32,
    prior: Option<&Retried>,
    follower: bool,
) -> (Option<Vec<OutRecord>>, bool) {
    let Some(tiers) = shared.opts.dead_letters.retry_tiers.as_ref() else {
        return (dead_letter(shared, record, error, attempt, prior), false);
    };
    let next = match prior {
        Some(p) if !follower => p.tier.saturating_add(1),
        _ => 0,
    };
    // A registry that stays away is not the record's fault: it waits in the last tier, over
    // and over, instead of being dead-lettered.
    let last = tiers.tiers.len().saturating_sub(1) as u32;
    let next = if next > last && error.code == ErrorCode::RegistryUnavailable {
        last
    } else {
        next
    };
    let Some(tier) = tiers.tiers.get(next as usize) else {
        return (dead_letter(shared, record, error, attempt, prior), false);
    };
    tracing::info!(
        topic = %record.topic, partition = record.partition, offset = record.offset,
        error = %error, tier = %tier.topic, "Sending a record to a retry tier"
    );
    let dl = failure_of(shared, record, &error, attempt, prior);
    (
        Some(vec![tier_record(
            &dl,
            &shared.opts.group_id,
            next,
            tier,
            weft_core::time::now_millis(),
        )]),
        true,
    )
}

/// Parks a record behind an earlier one of its key: to the first tier, with its place in the
/// key's queue; it has not failed (code `parked`, attempts so far unchanged).
pub(super) fn park_behind<P: Processor>(
    shared: &Shared<P>,
    record: &Record,
    prior: Option<&Retried>,
    seq: u64,
) -> Option<Vec<OutRecord>> {
    let tiers = shared.opts.dead_letters.retry_tiers.as_ref()?;
    let tier = tiers.tiers.first()?;
    let dl = match prior {
        Some(p) => p.dead_letter.clone(),
        None => {
            let waiting = StageError::new(
                ErrorCode::Parked,
                "waiting behind an earlier record of its key in a retry tier",
            );
            let mut failure =
                Failure::from_error(&shared.opts.service, &shared.opts.stage, &waiting, 0);
            failure.group = Some(shared.opts.group_id.clone());
            DeadLetter {
                original: record.to_original(),
                failure,
            }
        }
    };
    let mut out = tier_record(
        &dl,
        &shared.opts.group_id,
        0,
        tier,
        weft_core::time::now_millis(),
    );
    out.headers.set(retry::PARKED, seq.to_string());
    Some(vec![out])
}
