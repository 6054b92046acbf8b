//! `--rate N`: a token bucket. Taking a token never blocks here; it says how long the caller
//! must wait, and only once the wait is worth a sleep — short debts are carried, so a fast
//! loop sleeps a few times per second rather than once per record, and the average rate is
//! still exact.

use std::time::{Duration, Instant};

/// A wait shorter than this is carried as debt instead of slept.
pub const MIN_SLEEP: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    /// Tokens that may pile up while the loop is idle (a burst of 50 ms, at least one).
    capacity: f64,
    /// May go below zero: the debt the next takes must wait for.
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A bucket of `rate` tokens a second (`rate` > 0), full at `now`.
    pub fn new(rate: f64, now: Instant) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            f64::MIN_POSITIVE
        };
        let capacity = (rate / 20.0).max(1.0);
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes one token at `now`. `None`: go on; `Some(wait)`: sleep `wait` first.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            return None;
        }
        let wait = Duration::from_secs_f64((-self.tokens / self.rate).min(3600.0));
        (wait >= MIN_SLEEP).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `n` tokens as fast as the bucket allows, sleeping on a simulated clock.
    fn run(rate: f64, n: u32) -> (Duration, u32) {
        let start = Instant::now();
        let mut now = start;
        let mut b = TokenBucket::new(rate, start);
        let mut sleeps = 0;
        for _ in 0..n {
            if let Some(w) = b.take(now) {
                sleeps += 1;
                now += w;
            }
            now += Duration::from_micros(1); // the work of one record
        }
        (now - start, sleeps)
    }

    #[test]
    fn the_average_rate_is_the_rate_asked_for() {
        for (rate, n) in [(2500.0, 25_000), (100.0, 1_000), (1.0, 5), (0.5, 3)] {
            let (took, _) = run(rate, n);
            let expected = (f64::from(n) - (rate / 20.0).max(1.0)) / rate;
            let secs = took.as_secs_f64();
            assert!(
                secs >= expected * 0.99 && secs <= expected * 1.01 + 0.05,
                "rate {rate}: {n} records in {secs} s, expected ~{expected}"
            );
        }
    }

    #[test]
    fn fast_loops_sleep_in_chunks_not_per_record() {
        let (_, sleeps) = run(2500.0, 25_000);
        // 10 s at one sleep per >= 5 ms: at most ~2,000 sleeps, not 25,000.
        assert!(sleeps <= 2_000, "{sleeps} sleeps");
        let (_, slow) = run(10.0, 20);
        assert!(slow >= 18, "every record of a slow rate waits: {slow}");
    }

    #[test]
    fn idle_time_gives_only_a_small_burst() {
        let start = Instant::now();
        let mut b = TokenBucket::new(100.0, start);
        let later = start + Duration::from_secs(60);
        let free = (0..100).take_while(|_| b.take(later).is_none()).count();
        // Capacity 5 (50 ms at 100/s), plus debt under MIN_SLEEP.
        assert!(
            free <= 6,
            "{free} records without waiting after a minute idle"
        );
    }

    #[test]
    fn a_nonsensical_rate_never_panics() {
        let now = Instant::now();
        let mut b = TokenBucket::new(0.0, now);
        b.take(now);
        assert!(b.take(now).is_some());
        let mut n = TokenBucket::new(f64::NAN, now);
        n.take(now);
        assert!(n.take(now).is_some());
    }
}
