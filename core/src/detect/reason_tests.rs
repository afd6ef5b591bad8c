use super::NoLeakReason::{self, *};
use crate::detect::scenarios::{Situation, generate};
use crate::detect::{Analysis, Detector, DetectorConfig, Verdict};

/// Replays generated `sit` (with its traffic when `traffic`) with the defaults for its kind
/// changed by `tune`, and calls `see` with the analysis every `every` samples.
fn replay(
    sit: Situation,
    seed: u64,
    traffic: bool,
    every: usize,
    tune: impl Fn(&mut DetectorConfig),
    mut see: impl FnMut(&Analysis),
) {
    let sc = generate(sit, seed, 15);
    let mut cfg = DetectorConfig {
        limit: sc.limit,
        ..DetectorConfig::for_kind(sc.kind)
    };
    tune(&mut cfg);
    let marked = cfg.reports_full_gcs;
    let mut d = Detector::new(cfg).unwrap();
    let mut rates = sc.traffic.iter().peekable();
    let mut gcs = sc.full_gcs.iter().peekable();
    for (i, s) in sc.samples.iter().enumerate() {
        while let Some(r) = rates.next_if(|r| traffic && r.ts_ms <= s.ts_ms) {
            d.observe_traffic(*r).unwrap();
        }
        if gcs.next_if_eq(&&i).is_some() && marked {
            d.update_after_full_gc(*s)
        } else {
            d.update(*s)
        }
        .unwrap();
        if i % every == 0 {
            see(&d.analysis());
        }
    }
}

/// The reasons given over seeds 0..3 of `sit`, each with the verdict it came with.
fn reasons(
    sit: Situation,
    traffic: bool,
    tune: impl Fn(&mut DetectorConfig),
) -> Vec<(Verdict, NoLeakReason)> {
    let mut out = Vec::new();
    for seed in 0..3 {
        replay(sit, seed, traffic, 20, &tune, |a| {
            if let Some(r) = a.not_a_leak_because {
                out.push((a.verdict, r));
            }
        });
    }
    out
}

fn gives(sit: Situation, traffic: bool, reason: NoLeakReason) {
    let got = reasons(sit, traffic, |_| ());
    assert!(
        got.contains(&(Verdict::Healthy, reason)),
        "{} (traffic {traffic}): {reason:?} not among {got:?}",
        sit.name()
    );
}

#[test]
fn a_reason_is_given_exactly_while_a_rise_is_not_judged_a_leak() {
    let mut given = 0;
    for sit in Situation::ALL {
        for traffic in [false, true] {
            replay(
                sit,
                0,
                traffic,
                80,
                |_| (),
                |a| {
                    let held = a.verdict != Verdict::Leak && a.growth_start_ms.is_some();
                    assert_eq!(a.not_a_leak_because.is_some(), held, "{} {a:?}", sit.name());
                    given += usize::from(held);
                },
            );
        }
    }
    assert!(given > 0);
}

#[test]
fn a_warm_up_is_held_as_one() {
    gives(Situation::CacheWarmup, false, WarmUp);
    gives(Situation::WarmupPlateau, false, WarmUp);
}

#[test]
fn a_step_is_held_as_levelled_off() {
    gives(Situation::Step, false, LevelledOff);
}

#[test]
fn a_rise_the_traffic_follows_is_explained_by_load() {
    gives(Situation::DailySwing, true, ExplainedByLoad);
    // Without the traffic, the same swing is held by other tests.
    let got = reasons(Situation::DailySwing, false, |_| ());
    assert!(!got.iter().any(|(_, r)| *r == ExplainedByLoad), "{got:?}");
}

#[test]
fn a_young_rise_is_too_short() {
    gives(Situation::Spikes, false, TooShort);
}

#[test]
fn a_small_diurnal_rise_is_too_small() {
    gives(Situation::Diurnal, false, TooSmall);
}

#[test]
fn a_swing_within_its_noise_is_noise() {
    gives(Situation::DailySwing, false, Noise);
}

#[test]
fn a_slow_gcs_first_ramp_waits_for_a_collection() {
    // Seed 1 fires on the ramp before its first collection unless that is waited for.
    let mut got = Vec::new();
    replay(
        Situation::SlowGc,
        1,
        false,
        20,
        |c| c.first_collection_secs = 4.0 * 3600.0,
        |a| got.extend(a.not_a_leak_because.map(|r| (a.verdict, r))),
    );
    assert!(
        got.contains(&(Verdict::Insufficient, NoCollectionYet)),
        "{got:?}"
    );
    assert!(
        got.iter()
            .all(|&(v, r)| (v == Verdict::Insufficient) == (r == NoCollectionYet))
    );
}

#[test]
fn a_rise_yesterday_had_too_is_the_daily_cycle() {
    // A seed whose second morning's rise repeats the first's (without traffic).
    let mut n = 0;
    replay(
        Situation::DailySwingTwoDays,
        5,
        false,
        4,
        |_| (),
        |a| {
            n += usize::from(a.not_a_leak_because == Some(DailyCycle));
        },
    );
    assert!(n > 0);
    // Without the daily profile's veto, that test never decides.
    replay(
        Situation::DailySwingTwoDays,
        5,
        false,
        4,
        |c| c.profile_veto = false,
        |a| assert_ne!(a.not_a_leak_because, Some(DailyCycle)),
    );
}

#[test]
fn a_rise_found_after_a_reused_judgement_is_not_judged_yet() {
    // With traffic, the evaluation of seed 3 reuses "nothing hidden under the load" a moment
    // before the analysis's own look finds the hidden rise (once, sampled every 10 min).
    // (`warmup_bound` off: with it that rise is held as a warm-up first; section 51.)
    let mut got = Vec::new();
    replay(
        Situation::BatchLeak,
        3,
        true,
        40,
        |c| c.warmup_bound = 0.0,
        |a| {
            got.extend(a.not_a_leak_because.map(|r| (a.verdict, r)));
        },
    );
    assert!(got.contains(&(Verdict::Healthy, NotJudgedYet)), "{got:?}");
}

#[test]
fn the_reason_round_trips_through_json() {
    let all = [
        TooShort,
        LevelledOff,
        WarmUp,
        TooSmall,
        Noise,
        ExplainedByLoad,
        DailyCycle,
        NoCollectionYet,
        NotJudgedYet,
    ];
    for r in all {
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<NoLeakReason>(&j).unwrap(), r);
    }
    assert_eq!(
        serde_json::to_string(&ExplainedByLoad).unwrap(),
        "\"explained_by_load\""
    );
    let mut a = crate::detect::analyze(
        &[crate::detect::s(0, 1.0), crate::detect::s(15, 1.0)],
        &DetectorConfig::default(),
    )
    .unwrap();
    a.not_a_leak_because = Some(DailyCycle);
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["not_a_leak_because"], "daily_cycle");
    assert_eq!(serde_json::from_value::<Analysis>(v).unwrap(), a);
    // Older documents without the field still read.
    let mut v = serde_json::to_value(&a).unwrap();
    v.as_object_mut().unwrap().remove("not_a_leak_because");
    assert_eq!(
        serde_json::from_value::<Analysis>(v)
            .unwrap()
            .not_a_leak_because,
        None
    );
}
