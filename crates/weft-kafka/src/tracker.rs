//! Per-partition offset tracking for concurrent processing (pure logic, no Kafka).
//!
//! Records are dispatched in offset order per partition and acknowledged in any order. The
//! offset that may be committed for a partition is the lowest offset still in flight, or, when
//! nothing is in flight, one past the highest dispatched offset: the contiguous prefix of
//! acknowledged records. Each assignment of a partition gets a new epoch, so acknowledgements
//! that arrive after the partition was revoked (and perhaps assigned again) are ignored.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

#[derive(Debug)]
struct PartitionState {
    epoch: u64,
    /// Shared with the records dispatched in this epoch; cleared when the epoch ends.
    valid: Arc<AtomicBool>,
    /// Dispatched offsets in increasing order with an acknowledged flag; the acknowledged
    /// prefix is dropped as soon as it forms, so the front is the lowest offset in flight.
    pending: VecDeque<(i64, bool)>,
    /// Offsets in `pending` not acknowledged yet.
    outstanding: usize,
    /// One past the highest offset dispatched in this assignment.
    next: Option<i64>,
    /// The position last committed (or the first offset seen in this assignment).
    committed: Option<i64>,
    /// Set when the committable position moved since it was last taken.
    dirty: bool,
}

impl PartitionState {
    fn position(&self) -> Option<i64> {
        self.pending.front().map(|(o, _)| *o).or(self.next)
    }

    /// Adds an offset; false when it is already pending.
    fn insert(&mut self, offset: i64) -> bool {
        match self.pending.back() {
            None => self.pending.push_back((offset, false)),
            Some((last, _)) if *last < offset => self.pending.push_back((offset, false)),
            // Out of order (not expected from a consumer): keep the order.
            Some(_) => match self.pending.binary_search_by_key(&offset, |(o, _)| *o) {
                Ok(_) => return false,
                Err(i) => self.pending.insert(i, (offset, false)),
            },
        }
        self.outstanding += 1;
        true
    }

    /// Acknowledges an offset; false when it is not pending (or already acknowledged).
    fn ack(&mut self, offset: i64) -> bool {
        // Offsets are usually contiguous (gaps only at transaction markers and compacted
        // records): the distance from the front is then the index.
        let guess = self
            .pending
            .front()
            .and_then(|(front, _)| usize::try_from(offset - front).ok())
            .filter(|&i| self.pending.get(i).is_some_and(|(o, _)| *o == offset));
        let found = match guess {
            Some(i) => Ok(i),
            None => self.pending.binary_search_by_key(&offset, |(o, _)| *o),
        };
        let Ok(i) = found else {
            return false;
        };
        if self.pending[i].1 {
            return false;
        }
        self.pending[i].1 = true;
        self.outstanding -= 1;
        while self.pending.front().is_some_and(|(_, acked)| *acked) {
            self.pending.pop_front();
        }
        true
    }
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    parts: HashMap<TopicPartition, PartitionState, foldhash::fast::RandomState>,
    in_flight: usize,
    next_epoch: u64,
}

impl OffsetTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts (or restarts) tracking a partition; returns its new epoch.
    pub fn assign(&mut self, tp: TopicPartition) -> u64 {
        self.next_epoch += 1;
        let epoch = self.next_epoch;
        if let Some(old) = self.parts.insert(
            tp,
            PartitionState {
                epoch,
                valid: Arc::new(AtomicBool::new(true)),
                pending: VecDeque::new(),
                outstanding: 0,
                next: None,
                committed: None,
                dirty: false,
            },
        ) {
            old.valid.store(false, Ordering::SeqCst);
            self.in_flight -= old.outstanding;
        }
        epoch
    }

    /// Stops tracking a partition; its outstanding records no longer count.
    pub fn revoke(&mut self, tp: &TopicPartition) {
        if let Some(old) = self.parts.remove(tp) {
            old.valid.store(false, Ordering::SeqCst);
            self.in_flight -= old.outstanding;
        }
    }

    /// Stops tracking every partition.
    pub fn revoke_all(&mut self) {
        for p in self.parts.values() {
            p.valid.store(false, Ordering::SeqCst);
        }
        self.parts.clear();
        self.in_flight = 0;
    }

    /// Records that `offset` was handed to processing; returns the epoch to acknowledge with
    /// and the flag that says the record is still wanted. A partition that was never assigned
    /// (manual assignment) is assigned on first use.
    pub fn dispatch(&mut self, tp: &TopicPartition, offset: i64) -> (u64, Arc<AtomicBool>) {
        if !self.parts.contains_key(tp) {
            self.assign(tp.clone());
        }
        let Some(p) = self.parts.get_mut(tp) else {
            return (0, Arc::new(AtomicBool::new(false)));
        };
        if p.committed.is_none() {
            p.committed = Some(offset);
        }
        if p.insert(offset) {
            self.in_flight += 1;
        }
        p.next = Some(p.next.map_or(offset + 1, |n| n.max(offset + 1)));
        (p.epoch, p.valid.clone())
    }

    /// Acknowledges a processed record. Returns false (and changes nothing) when the partition
    /// was revoked or reassigned since the record was dispatched.
    pub fn ack(&mut self, tp: &TopicPartition, epoch: u64, offset: i64) -> bool {
        let Some(p) = self.parts.get_mut(tp) else {
            return false;
        };
        if p.epoch != epoch || !p.ack(offset) {
            return false;
        }
        self.in_flight -= 1;
        p.dirty = true;
        true
    }

    /// Whether a record dispatched with `epoch` still belongs to the current assignment.
    pub fn is_current(&self, tp: &TopicPartition, epoch: u64) -> bool {
        self.parts.get(tp).is_some_and(|p| p.epoch == epoch)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Records in flight on the given partitions.
    pub fn in_flight_on<'a>(&self, tps: impl IntoIterator<Item = &'a TopicPartition>) -> usize {
        tps.into_iter()
            .filter_map(|tp| self.parts.get(tp))
            .map(|p| p.outstanding)
            .sum()
    }

    /// The committable position (next offset to read) of one partition.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.parts.get(tp).and_then(PartitionState::position)
    }

    /// Positions that moved since the last call, to store or commit.
    pub fn take_dirty(&mut self) -> Vec<(TopicPartition, i64)> {
        let mut out = Vec::new();
        for (tp, p) in &mut self.parts {
            if p.dirty {
                p.dirty = false;
                if let Some(pos) = p.position() {
                    out.push((tp.clone(), pos));
                }
            }
        }
        out.sort();
        out
    }

    /// Every partition's committable position (for a final or transactional commit).
    pub fn positions(&self) -> Vec<(TopicPartition, i64)> {
        let mut out: Vec<_> = self
            .parts
            .iter()
            .filter_map(|(tp, p)| p.position().map(|pos| (tp.clone(), pos)))
            .collect();
        out.sort();
        out
    }

    /// The position last committed (or, before any commit, the first offset seen).
    pub fn committed(&self, tp: &TopicPartition) -> Option<i64> {
        self.parts.get(tp).and_then(|p| p.committed)
    }

    /// Notes that these positions were committed: a later rewind returns to them.
    pub fn mark_committed(&mut self, positions: &[(TopicPartition, i64)]) {
        for (tp, pos) in positions {
            if let Some(p) = self.parts.get_mut(tp) {
                p.committed = Some(*pos);
            }
        }
    }

    /// Abandons everything in flight (an aborted transaction): every partition gets a new
    /// epoch and forgets what was dispatched. Returns where to seek each partition to
    /// re-read from its last committed position.
    pub fn rewind(&mut self) -> Vec<(TopicPartition, i64)> {
        let mut seeks = Vec::new();
        for (tp, p) in &mut self.parts {
            self.next_epoch += 1;
            p.epoch = self.next_epoch;
            p.valid.store(false, Ordering::SeqCst);
            p.valid = Arc::new(AtomicBool::new(true));
            p.pending.clear();
            p.outstanding = 0;
            p.next = p.committed;
            p.dirty = false;
            if let Some(c) = p.committed {
                seeks.push((tp.clone(), c));
            }
        }
        self.in_flight = 0;
        seeks.sort();
        seeks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn commits_only_the_contiguous_acknowledged_prefix() {
        let mut t = OffsetTracker::new();
        let e = t.assign(tp(0));
        for o in 10..15 {
            assert_eq!(t.dispatch(&tp(0), o).0, e);
        }
        assert_eq!(t.in_flight(), 5);
        assert!(t.ack(&tp(0), e, 12));
        assert!(t.ack(&tp(0), e, 13));
        assert_eq!(t.position(&tp(0)), Some(10), "10 is still in flight");
        assert!(t.ack(&tp(0), e, 10));
        assert_eq!(t.position(&tp(0)), Some(11));
        assert!(t.ack(&tp(0), e, 11));
        assert_eq!(t.position(&tp(0)), Some(14));
        assert!(t.ack(&tp(0), e, 14));
        assert_eq!(
            t.position(&tp(0)),
            Some(15),
            "all acknowledged: one past the last"
        );
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn gaps_in_offsets_do_not_block_progress() {
        // Compacted topics and transaction markers leave gaps between consumed offsets.
        let mut t = OffsetTracker::new();
        let e = t.assign(tp(0));
        t.dispatch(&tp(0), 3);
        t.dispatch(&tp(0), 7);
        t.ack(&tp(0), e, 3);
        assert_eq!(t.position(&tp(0)), Some(7));
        t.ack(&tp(0), e, 7);
        assert_eq!(t.position(&tp(0)), Some(8));
    }

    #[test]
    fn acknowledgements_in_any_order_around_gaps_are_each_taken_once() {
        let mut t = OffsetTracker::new();
        let e = t.assign(tp(0));
        let offsets = [10, 11, 13, 14, 20, 21, 22];
        for o in offsets {
            t.dispatch(&tp(0), o);
        }
        // Not dispatched: inside a gap, before the front, past the end.
        for o in [12, 9, 23] {
            assert!(!t.ack(&tp(0), e, o), "offset {o} was never dispatched");
        }
        for o in [14, 21, 10, 22] {
            assert!(t.ack(&tp(0), e, o), "first ack of {o}");
            assert!(!t.ack(&tp(0), e, o), "second ack of {o}");
        }
        assert_eq!(t.in_flight(), 3);
        assert_eq!(t.position(&tp(0)), Some(11));
        for o in [13, 11, 20] {
            assert!(t.ack(&tp(0), e, o));
        }
        assert_eq!(t.in_flight(), 0);
        assert_eq!(t.position(&tp(0)), Some(23));
    }
    #[test]
    fn stale_acks_after_revoke_or_reassign_are_ignored() {
        let mut t = OffsetTracker::new();
        let e1 = t.assign(tp(0));
        let (_, valid) = t.dispatch(&tp(0), 1);
        assert!(valid.load(Ordering::SeqCst));
        t.revoke(&tp(0));
        assert!(!valid.load(Ordering::SeqCst), "lanes see the revoke");
        assert_eq!(t.in_flight(), 0);
        assert!(!t.ack(&tp(0), e1, 1), "revoked");
        let e2 = t.assign(tp(0));
        assert_ne!(e1, e2);
        t.dispatch(&tp(0), 1);
        assert!(!t.ack(&tp(0), e1, 1), "old epoch");
        assert!(!t.is_current(&tp(0), e1));
        assert!(t.ack(&tp(0), e2, 1));
        assert!(!t.ack(&tp(0), e2, 1), "double ack counts once");
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn take_dirty_reports_each_move_once() {
        let mut t = OffsetTracker::new();
        let e0 = t.assign(tp(0));
        let e1 = t.assign(tp(1));
        t.dispatch(&tp(0), 0);
        t.dispatch(&tp(1), 5);
        t.ack(&tp(0), e0, 0);
        assert_eq!(t.take_dirty(), vec![(tp(0), 1)]);
        assert!(t.take_dirty().is_empty());
        t.ack(&tp(1), e1, 5);
        assert_eq!(t.take_dirty(), vec![(tp(1), 6)]);
        assert_eq!(t.in_flight_on([&tp(0), &tp(1)]), 0);
    }

    #[test]
    fn rewind_returns_to_the_last_committed_position() {
        let mut t = OffsetTracker::new();
        let e = t.assign(tp(0));
        for o in 0..4 {
            t.dispatch(&tp(0), o);
        }
        t.ack(&tp(0), e, 0);
        t.ack(&tp(0), e, 1);
        let committed = t.positions();
        assert_eq!(committed, vec![(tp(0), 2)]);
        t.mark_committed(&committed);
        t.dispatch(&tp(0), 4);
        let seeks = t.rewind();
        assert_eq!(seeks, vec![(tp(0), 2)]);
        assert_eq!(t.in_flight(), 0);
        assert!(
            !t.ack(&tp(0), e, 2),
            "records of the aborted attempt are stale"
        );
        let e2 = t.dispatch(&tp(0), 2).0;
        assert!(t.ack(&tp(0), e2, 2));
        assert_eq!(t.position(&tp(0)), Some(3));
    }

    #[test]
    fn rewind_before_any_commit_returns_to_the_first_offset_seen() {
        let mut t = OffsetTracker::new();
        t.assign(tp(0));
        t.dispatch(&tp(0), 40);
        t.dispatch(&tp(0), 41);
        assert_eq!(t.rewind(), vec![(tp(0), 40)]);
    }
}
