//! `veto_record_ratchet` (design section 97): an RSS that ratchets up to the busiest load seen
//! (CPython, glibc arenas) on a first morning's record loads, and a leak on the same loads.

use leaksense_core::detect::{AlertState, Detector, DetectorConfig};
use leaksense_core::series::Sample;

const T0: i64 = 1_736_150_400_000;

/// The request rate at `t` seconds: a night around 100 for 2 h, a climb to records of 300
/// with a dip on the way, then a fall back to 200.
fn load(t: f64) -> f64 {
    let h = t / 3600.0;
    match h {
        h if h < 2.0 => 100.0 + 10.0 * (h * std::f64::consts::TAU * 2.0).sin(),
        h if h < 3.5 => 110.0 + 100.0 * (h - 2.0) / 1.5,
        h if h < 4.5 => 190.0,
        h if h < 6.0 => 210.0 + 90.0 * (h - 4.5) / 1.5,
        _ => 200.0 + 10.0 * (h * std::f64::consts::TAU).sin(),
    }
}

/// Whether the detector fires within 12 h on an RSS of `rss(t, running max of the load)`, fed
/// the load, with `veto_record_ratchet` at `ratchet`.
fn fires(ratchet: f64, rss: impl Fn(f64, f64) -> f64) -> bool {
    let mut d = Detector::new(DetectorConfig {
        veto_record_ratchet: ratchet,
        ..DetectorConfig::default()
    })
    .unwrap();
    let mut top = f64::NEG_INFINITY;
    let mut fired = false;
    for i in 0..(12 * 240) {
        let t = f64::from(i) * 15.0;
        let ts_ms = T0 + i64::from(i) * 15_000;
        let x = load(t);
        top = top.max(x);
        d.observe_traffic(Sample { ts_ms, value: x }).unwrap();
        // A little page-level noise.
        let noise = 1.0 + 0.0005 * f64::from((i * 7919) % 11) / 11.0;
        d.update(Sample {
            ts_ms,
            value: rss(t, top) * noise,
        })
        .unwrap();
        fired |= d.state() == AlertState::Firing;
    }
    fired
}

#[test]
fn an_rss_that_ratchets_with_record_loads_does_not_fire_with_veto_record_ratchet() {
    let ratchet = |_: f64, top: f64| 400e6 * (1.0 + 0.2 * (top - 110.0).max(0.0) / 190.0);
    assert!(fires(0.0, ratchet), "fires without the rule");
    assert!(!fires(0.9, ratchet));
}

#[test]
fn a_leak_on_the_same_loads_still_fires_with_veto_record_ratchet() {
    let leak = |t: f64, _: f64| 400e6 * (1.0 + 0.05 * ((t - 7200.0) / 3600.0).max(0.0));
    assert!(fires(0.9, leak));
}
