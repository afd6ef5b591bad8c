//! A leak that keeps leaking must stay firing. The fixtures are the heap series (10 s samples,
//! leak from the first hour on, rate wavering with 10-minute traffic bursts) that the
//! `requests_sim` service produced on seeds 0x5EED_0011 and 0x5EED_0053, on which the detector
//! used to fire, resolve about 2-3 h in (the growth began at the first point after warm-up, and
//! the warm-up tail check took the wavering rate for a slowing warm-up), and end `healthy`.

use leaksense_core::Sample;
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, Verdict};

/// The config `requests_sim` uses.
fn sim_config() -> DetectorConfig {
    DetectorConfig {
        bucket_secs: 60.0,
        for_secs: 300.0,
        ..DetectorConfig::default()
    }
}

fn load(name: &str) -> Vec<Sample> {
    let path = format!(
        "{}/tests/fixtures/detector/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    text.lines()
        .skip(1)
        .map(|l| {
            let (t, v) = l.split_once(',').expect("ts_ms,value");
            Sample {
                ts_ms: t.parse().expect("integer ms"),
                value: v.parse().expect("number"),
            }
        })
        .collect()
}

#[test]
fn steady_leaks_stay_firing_once_fired() {
    for name in ["steady_leak_5eed0011.csv", "steady_leak_5eed0053.csv"] {
        let xs = load(name);
        assert_eq!(xs.len(), 1440, "{name}");
        let mut d = Detector::new(sim_config()).unwrap();
        let mut fired_at = None;
        for s in &xs {
            if let Some(e) = d.update(*s).unwrap() {
                if e.to == AlertState::Firing {
                    fired_at.get_or_insert(e.ts_ms);
                }
                assert!(
                    !(e.from == AlertState::Firing && e.to == AlertState::Inactive),
                    "{name}: resolved at {} ms while the leak goes on",
                    e.ts_ms - xs[0].ts_ms
                );
            }
        }
        let fired_at = fired_at.expect("the leak fires");
        // The leak begins one hour in; firing must come within the following hour.
        let after_ms = fired_at - xs[0].ts_ms;
        assert!(
            (3_600_000..2 * 3_600_000).contains(&after_ms),
            "{name}: fired {after_ms} ms after the first sample"
        );
        let a = d.analysis();
        assert_eq!(
            (a.verdict, a.state),
            (Verdict::Leak, AlertState::Firing),
            "{name}"
        );
    }
}
