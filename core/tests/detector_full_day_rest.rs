//! `full_day_rest_secs`: once the floor spans a day, an alert that is neither pending nor
//! firing is judged every other bucket, so a steady leak that begins on the second day (its
//! condition holds at every bucket once it holds) turns pending at most one bucket later.
//! `active_rest_secs`: the same rest while the alert is pending or firing, a rested bucket
//! leaving the alert as it is; `firing_rest_secs`: the same while it fires only.

use leaksense_core::Sample;
use leaksense_core::detect::{AlertEvent, AlertState, Detector, DetectorConfig};

const STEP_MS: i64 = 15_000;
const BUCKET_MS: i64 = 300_000;
const HOUR_MS: i64 = 3_600_000;
const START_MS: i64 = 1_700_000_000_000 - 1_700_000_000_000 % BUCKET_MS;

/// A heap with a fast GC sawtooth (one collection a minute) over a flat floor for two days,
/// and a leak of 2 %/h of the floor from `leak_ms` after the start on.
fn series(leak_ms: i64) -> Vec<Sample> {
    (0..2 * 24 * 240)
        .map(|i: i64| {
            let t = i * STEP_MS;
            let garbage = 2e6 * ((i % 4) as f64);
            let leaked = 1e9 * 0.02 * ((t - leak_ms).max(0) as f64 / HOUR_MS as f64);
            Sample {
                ts_ms: START_MS + t,
                value: 1e9 + garbage + leaked,
            }
        })
        .collect()
}

/// When the alert first turned pending and first fired, in ms after the start.
fn alert_times(xs: &[Sample], rest_secs: f64) -> (i64, i64) {
    alert_times_with(
        xs,
        DetectorConfig {
            full_day_rest_secs: rest_secs,
            ..DetectorConfig::default()
        },
    )
}

/// [`alert_times`] with any config.
fn alert_times_with(xs: &[Sample], cfg: DetectorConfig) -> (i64, i64) {
    let mut d = Detector::new(cfg).expect("valid config");
    let events: Vec<AlertEvent> = xs
        .iter()
        .filter_map(|s| d.update(*s).expect("valid sample"))
        .collect();
    let first = |to: AlertState| {
        events
            .iter()
            .find(|e| e.to == to)
            .map(|e| e.ts_ms - START_MS)
            .expect("the leak is alerted")
    };
    (first(AlertState::Pending), first(AlertState::Firing))
}

#[test]
fn a_second_day_leak_is_found_at_most_one_bucket_later() {
    let mut delayed = 0;
    // Two leak starts a bucket apart: the skipped bucket falls on the first one the leak
    // condition holds at in one of them.
    for leak_ms in [30 * HOUR_MS, 30 * HOUR_MS + BUCKET_MS] {
        let xs = series(leak_ms);
        let (pending, firing) = alert_times(&xs, 0.0);
        let (rested_pending, rested_firing) = alert_times(&xs, 600.0);
        assert!(pending > leak_ms, "{pending} {leak_ms}");
        let late = rested_pending - pending;
        assert!(late == 0 || late == BUCKET_MS, "pending {late} ms later");
        // A pending alert is judged at every bucket, so the hold is not lengthened (here the
        // evidence a bucket later even shortens it).
        let late_firing = rested_firing - firing;
        assert!(
            (0..=BUCKET_MS).contains(&late_firing),
            "firing {late_firing} ms later"
        );
        delayed += usize::from(late > 0);
    }
    assert_eq!(
        delayed, 1,
        "one of the two starts falls on a skipped bucket"
    );
}

#[test]
fn a_pending_alert_that_rests_fires_at_a_judged_bucket_at_most_one_bucket_later() {
    for leak_ms in [30 * HOUR_MS, 30 * HOUR_MS + BUCKET_MS] {
        let xs = series(leak_ms);
        let (pending, firing) = alert_times(&xs, 600.0);
        let (rested_pending, rested_firing) = alert_times_with(
            &xs,
            DetectorConfig {
                active_rest_secs: 600.0,
                ..DetectorConfig::default()
            },
        );
        // The rest while active begins once the alert is pending.
        assert_eq!(rested_pending, pending);
        // Judged every other bucket from the bucket it turned pending at.
        assert_eq!(
            (rested_firing - rested_pending) % (2 * BUCKET_MS),
            0,
            "fired at a rested bucket: pending {rested_pending}, firing {rested_firing}"
        );
        let late_firing = rested_firing - firing;
        assert!(
            (0..=BUCKET_MS).contains(&late_firing),
            "firing {late_firing} ms later"
        );
    }
}

/// [`series`] whose leak stops `stop_ms` after the start, over `hours`.
fn stopping_series(leak_ms: i64, stop_ms: i64, hours: i64) -> Vec<Sample> {
    (0..hours * 240)
        .map(|i: i64| {
            let t = i * STEP_MS;
            let garbage = 2e6 * ((i % 4) as f64);
            let grown = (t.min(stop_ms) - leak_ms).max(0) as f64 / HOUR_MS as f64;
            Sample {
                ts_ms: START_MS + t,
                value: 1e9 + garbage + 1e9 * 0.02 * grown,
            }
        })
        .collect()
}

/// When the alert first turned pending, first fired and first resolved, in ms after the start.
fn pending_firing_resolved(xs: &[Sample], cfg: DetectorConfig) -> (i64, i64, i64) {
    let mut d = Detector::new(cfg).expect("valid config");
    let events: Vec<AlertEvent> = xs
        .iter()
        .filter_map(|s| d.update(*s).expect("valid sample"))
        .collect();
    let first = |from: AlertState, to: AlertState| {
        events
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map(|e| e.ts_ms - START_MS)
            .expect("the leak is alerted and resolves")
    };
    (
        first(AlertState::Inactive, AlertState::Pending),
        first(AlertState::Pending, AlertState::Firing),
        first(AlertState::Firing, AlertState::Inactive),
    )
}

#[test]
fn a_firing_alert_that_rests_resolves_at_a_judged_bucket_and_fires_as_before() {
    // `firing_rest_secs` (1200 s by default): a pending alert is judged at every bucket as
    // before, so it turns pending and fires at the same buckets; once firing, it is judged
    // every fourth bucket from the bucket it fired at, so it resolves at a multiple of four
    // buckets after it, at most three buckets later (two stops a bucket apart: without the
    // rest, one of them resolves at another number).
    let mut other_without = 0;
    for stop_ms in [36 * HOUR_MS, 36 * HOUR_MS + BUCKET_MS] {
        let xs = stopping_series(30 * HOUR_MS, stop_ms, 60);
        let plain = DetectorConfig {
            firing_rest_secs: 0.0,
            ..DetectorConfig::default()
        };
        let (pending, firing, resolved) = pending_firing_resolved(&xs, plain);
        let (r_pending, r_firing, r_resolved) =
            pending_firing_resolved(&xs, DetectorConfig::default());
        assert_eq!((r_pending, r_firing), (pending, firing));
        assert_eq!(
            (r_resolved - r_firing) % (4 * BUCKET_MS),
            0,
            "resolved at a rested bucket: firing {r_firing}, resolved {r_resolved}"
        );
        let late = r_resolved - resolved;
        assert!(
            (0..=3 * BUCKET_MS).contains(&late),
            "resolved {late} ms later"
        );
        other_without += usize::from((resolved - firing) % (4 * BUCKET_MS) != 0);
    }
    assert!(
        other_without > 0,
        "the stops a bucket apart resolve a bucket apart"
    );
}
