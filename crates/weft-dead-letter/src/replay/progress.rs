//! How far a replay is, as counts, a rate and an ETA, and the line shown for it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::checkpoint::Counts;

/// A snapshot of a running replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Every run of the replay included.
    pub counts: Counts,
    /// Dead-letter records this run has read, and the offsets it has to read in all (an upper
    /// bound: markers of transactions take offsets too).
    pub read: u64,
    pub to_read: u64,
    /// Records read per second lately.
    pub read_rate: f64,
    /// Records re-published per second lately.
    pub replay_rate: f64,
    pub eta: Option<Duration>,
}

impl Progress {
    /// `replayed 1200 · quarantined 0 · skipped 0 · no origin 0 · selected 1200 · read 2400/50000 · 250/s · ETA 3m05s`
    pub fn line(&self) -> String {
        let c = &self.counts;
        let mut s = format!(
            "replayed {} · quarantined {} · skipped {} · no origin {} · selected {} · read {}/{}",
            c.replayed, c.quarantined, c.skipped, c.no_origin, c.selected, self.read, self.to_read
        );
        s.push_str(&format!(" · {}/s", self.replay_rate.round()));
        if let Some(eta) = self.eta {
            s.push_str(&format!(" · ETA {}", short_duration(eta)));
        }
        s
    }
}

/// `45s`, `3m05s`, `2h03m`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Rates over the last few seconds (a window of samples), and the ETA they give.
#[derive(Debug, Clone)]
pub struct Meter {
    window: Duration,
    /// (when, records read, records re-published) at each sample.
    samples: VecDeque<(Instant, u64, u64)>,
}

impl Meter {
    pub fn new(window: Duration, now: Instant) -> Self {
        Self {
            window,
            samples: VecDeque::from([(now, 0, 0)]),
        }
    }

    /// Records a sample and returns the read and replay rates over the window.
    pub fn sample(&mut self, now: Instant, read: u64, replayed: u64) -> (f64, f64) {
        self.samples.push_back((now, read, replayed));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|s| now.saturating_duration_since(s.0) >= self.window)
        {
            self.samples.pop_front();
        }
        let Some(&(t0, r0, p0)) = self.samples.front() else {
            return (0.0, 0.0);
        };
        let secs = now.saturating_duration_since(t0).as_secs_f64();
        if secs <= 0.0 {
            return (0.0, 0.0);
        }
        (
            read.saturating_sub(r0) as f64 / secs,
            replayed.saturating_sub(p0) as f64 / secs,
        )
    }
}

/// Time left to read `remaining` records at `rate` a second; none while there is no rate.
pub fn eta(remaining: u64, rate: f64) -> Option<Duration> {
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    Some(Duration::from_secs_f64((remaining as f64 / rate).min(1e7)))
}

/// Lets an update through at most once per `every`.
#[derive(Debug, Clone)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
}

impl Throttle {
    pub fn new(every: Duration) -> Self {
        Self { every, last: None }
    }

    pub fn due(&mut self, now: Instant) -> bool {
        if self
            .last
            .is_some_and(|l| now.saturating_duration_since(l) < self.every)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_counts_rate_and_eta() {
        let p = Progress {
            counts: Counts {
                read: 2400,
                selected: 1200,
                replayed: 1190,
                quarantined: 10,
                ..Counts::default()
            },
            read: 2400,
            to_read: 50_000,
            read_rate: 500.0,
            replay_rate: 249.6,
            eta: Some(Duration::from_secs(185)),
        };
        assert_eq!(
            p.line(),
            "replayed 1190 · quarantined 10 · skipped 0 · no origin 0 · selected 1200 · \
             read 2400/50000 · 250/s · ETA 3m05s"
        );
        let none = Progress::default();
        assert!(!none.line().contains("ETA"));
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_millis(900)), "0s");
        assert_eq!(short_duration(Duration::from_secs(59)), "59s");
        assert_eq!(short_duration(Duration::from_secs(61)), "1m01s");
        assert_eq!(short_duration(Duration::from_secs(7380)), "2h03m");
    }

    #[test]
    fn rates_follow_the_last_seconds_and_give_the_eta() {
        let t = Instant::now();
        let mut m = Meter::new(Duration::from_secs(5), t);
        // 100/s for 10 s, then 1000/s for 5 s: the window sees only the fast part.
        let mut read = 0;
        for s in 1..=10 {
            read += 100;
            m.sample(t + Duration::from_secs(s), read, read / 2);
        }
        let mut rates = (0.0, 0.0);
        for s in 11..=15 {
            read += 1000;
            rates = m.sample(t + Duration::from_secs(s), read, read / 2);
        }
        assert!((rates.0 - 1000.0).abs() < 1.0, "{rates:?}");
        assert!((rates.1 - 500.0).abs() < 1.0, "{rates:?}");
        assert_eq!(eta(5000, rates.0).map(|d| d.as_secs()), Some(5));
        assert_eq!(eta(5000, 0.0), None);
        assert_eq!(eta(5000, f64::NAN), None);
    }

    #[test]
    fn the_throttle_lets_one_update_through_per_period() {
        let t = Instant::now();
        let mut th = Throttle::new(Duration::from_millis(200));
        assert!(th.due(t));
        assert!(!th.due(t + Duration::from_millis(100)));
        assert!(th.due(t + Duration::from_millis(200)));
        assert!(!th.due(t + Duration::from_millis(399)));
    }
}
