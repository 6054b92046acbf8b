//! Ordering-aware parking (`RetryTiers::park_keys`): while a record waits in a retry tier,
//! later records of its key wait too — behind it, in the first tier, as "followers" — and are
//! released in order once it is processed or dead-lettered.
//!
//! Order holds because everything about one key travels one path: the same input partition
//! and lane, the same tier and ready partition (tier records keep the key). The head goes to a
//! tier first, so it comes back first; followers come back in the order they were parked and
//! are parked again, in that order, while the head is still unresolved.
//!
//! The state is this process's memory: after a restart or a rebalance, records already parked
//! come back and are processed in the order they return (the head may be overtaken). Every
//! entry expires (twice the tiers' delays plus a minute after it was last touched), so a lost
//! resolution never parks a key for good.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// One parked key.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The record that failed is still in the tiers.
    head_waiting: bool,
    /// The sequence number the next follower parked gets.
    next_seq: u64,
    /// The follower that may be processed next (followers go strictly in sequence).
    next_release: u64,
    expires: Instant,
}

/// What a lane does with a record of a parked-keys stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Park {
    /// Process it.
    Process,
    /// Send it to the first tier as the follower with this sequence number.
    Follow(u64),
}

/// The parked keys of one loop, by (original topic, key).
#[derive(Debug)]
pub(crate) struct Parking {
    keys: Mutex<HashMap<(Arc<str>, Bytes), Entry>>,
    ttl: Duration,
}

impl Parking {
    pub fn new(tier_delays: &[Duration]) -> Self {
        let total: Duration = tier_delays.iter().sum();
        Self {
            keys: Mutex::new(HashMap::new()),
            ttl: total * 2 + Duration::from_secs(60),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<(Arc<str>, Bytes), Entry>) -> R) -> R {
        f(&mut self.keys.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A record read from the stage's input (`follower` `None`) or handed back as the
    /// follower with that sequence number: process it, or park it behind its key's head?
    pub fn on_record(
        &self,
        topic: &Arc<str>,
        key: &Bytes,
        follower: Option<u64>,
        now: Instant,
    ) -> Park {
        let ttl = self.ttl;
        self.with(|keys| {
            let k = (topic.clone(), key.clone());
            let Some(e) = keys.get_mut(&k) else {
                return Park::Process;
            };
            if e.expires <= now {
                keys.remove(&k);
                return Park::Process;
            }
            e.expires = now + ttl;
            match follower {
                // Released once the head is resolved, and only in sequence (a stale copy,
                // below the sequence, is processed: nothing waits for it).
                Some(seq) if e.head_waiting || seq > e.next_release => Park::Follow(seq),
                Some(_) => Park::Process,
                // A new record parks behind the head and behind earlier followers.
                None => {
                    let seq = e.next_seq;
                    e.next_seq += 1;
                    Park::Follow(seq)
                }
            }
        })
    }

    /// The record of `key` went to a retry tier as a head (it failed).
    pub fn head_waits(&self, topic: &Arc<str>, key: &Bytes, now: Instant) {
        let ttl = self.ttl;
        self.with(|keys| {
            let e = keys.entry((topic.clone(), key.clone())).or_insert(Entry {
                head_waiting: true,
                next_seq: 0,
                next_release: 0,
                expires: now + ttl,
            });
            e.head_waiting = true;
            e.expires = now + ttl;
        });
    }

    /// The head was resolved (processed, or dead-lettered), or the follower `seq` was taken
    /// out of the queue (processed, dead-lettered, or sent to a tier as the new head).
    pub fn resolved(&self, topic: &Arc<str>, key: &Bytes, follower: Option<u64>) {
        self.with(|keys| {
            let k = (topic.clone(), key.clone());
            if let Some(e) = keys.get_mut(&k) {
                match follower {
                    Some(seq) if seq == e.next_release => e.next_release += 1,
                    Some(_) => {}
                    None => e.head_waiting = false,
                }
                if !e.head_waiting && e.next_release >= e.next_seq {
                    keys.remove(&k);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_wait_for_the_head_and_then_go_in_sequence() {
        let p = Parking::new(&[Duration::from_secs(1)]);
        let (t, k) = (Arc::from("in"), Bytes::from_static(b"k"));
        let other = Bytes::from_static(b"o");
        let now = Instant::now();
        assert_eq!(p.on_record(&t, &k, None, now), Park::Process);
        p.head_waits(&t, &k, now);
        // Later records of the key park in sequence; other keys do not.
        assert_eq!(p.on_record(&t, &k, None, now), Park::Follow(0));
        assert_eq!(p.on_record(&t, &k, None, now), Park::Follow(1));
        assert_eq!(p.on_record(&t, &other, None, now), Park::Process);
        // Handed back while the head still waits: parked again with the same sequence.
        assert_eq!(p.on_record(&t, &k, Some(0), now), Park::Follow(0));
        // The head is processed. Follower 1 came back first (0 was parked again after it):
        // it waits for 0.
        p.resolved(&t, &k, None);
        assert_eq!(p.on_record(&t, &k, Some(1), now), Park::Follow(1));
        assert_eq!(p.on_record(&t, &k, Some(0), now), Park::Process);
        p.resolved(&t, &k, Some(0));
        // A new record still queues behind the one not processed yet.
        assert_eq!(p.on_record(&t, &k, None, now), Park::Follow(2));
        assert_eq!(p.on_record(&t, &k, Some(1), now), Park::Process);
        p.resolved(&t, &k, Some(1));
        assert_eq!(p.on_record(&t, &k, Some(2), now), Park::Process);
        p.resolved(&t, &k, Some(2));
        // Drained: the key is free again.
        assert_eq!(p.on_record(&t, &k, None, now), Park::Process);
    }

    #[test]
    fn a_lost_resolution_expires() {
        let p = Parking::new(&[Duration::from_secs(1)]);
        let (t, k) = (Arc::from("in"), Bytes::from_static(b"k"));
        let now = Instant::now();
        p.head_waits(&t, &k, now);
        assert_eq!(p.on_record(&t, &k, None, now), Park::Follow(0));
        let later = now + Duration::from_secs(63);
        assert_eq!(p.on_record(&t, &k, None, later), Park::Process);
    }
}
