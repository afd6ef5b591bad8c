//! What held an evaluation or an alarm (core feature `probe`): the replays with the diagnostic
//! tags on that the tally examples share.
use crate::{config, fed_rates, feed_traffic, overrides_from_env};
use leaksense_core::detect::scenarios::{Scenario, Situation, generate};
use leaksense_core::detect::{
    AlertEvent, AlertState, Detector, DetectorConfig, NoLeakReason, probe,
};
use leaksense_core::series::Sample;
use std::collections::BTreeMap;
use std::iter::Peekable;

/// Feeds `d` the request rates of `rates` due by `s`, then `s`, and returns the update's alert
/// event and the probe tags it raised (none where it closed no evaluation).
pub fn update_tagged<'a>(
    d: &mut Detector,
    rates: &mut Peekable<impl Iterator<Item = &'a Sample>>,
    s: Sample,
) -> (Option<AlertEvent>, Vec<String>) {
    feed_traffic(d, rates, s.ts_ms);
    probe::take();
    let event = d.update(s).expect("valid samples");
    (event, probe::take())
}

/// What the warm-up tallies print at a replay's first pending or first firing: the rise the
/// detector saw then.
pub struct FirstTransition {
    /// "pending" or "firing".
    pub first: &'static str,
    pub ts_ms: i64,
    /// The detector's baseline (`baseline` where it has none yet).
    pub baseline: f64,
    /// The growth start (the event's time where there is none).
    pub growth_start_ms: i64,
    /// The rate, in % of the baseline per hour.
    pub rate_pct_per_h: f64,
    /// The rise since the growth start at that rate, as a share of the baseline.
    pub rise: f64,
    pub time_to_limit_secs: Option<f64>,
    /// The probe tags the update raised.
    pub tags: Vec<String>,
}

/// Replays `samples` into `d` (with `traffic`'s rates when `on`) and calls `f` with the
/// detector and the rise at the first pending and at the first firing.
pub fn first_transitions(
    d: &mut Detector,
    traffic: &[Sample],
    on: bool,
    samples: &[Sample],
    baseline: f64,
    mut f: impl FnMut(&Detector, FirstTransition),
) {
    let mut rates = fed_rates(traffic, on);
    let (mut pend, mut fire) = (false, false);
    for p in samples {
        let (e, tags) = update_tagged(d, &mut rates, *p);
        let Some(e) = e else {
            continue;
        };
        let Some(first) = crate::first_transition(e.to, &mut pend, &mut fire) else {
            continue;
        };
        let an = d.analysis();
        let bl = an.baseline.unwrap_or(baseline);
        let gs = an.growth_start_ms.unwrap_or(e.ts_ms);
        let rate = an.rate_per_sec.unwrap_or(0.0);
        let t = FirstTransition {
            first,
            ts_ms: e.ts_ms,
            baseline: bl,
            growth_start_ms: gs,
            rate_pct_per_h: rate * 3600.0 / bl * 100.0,
            rise: rate * (e.ts_ms - gs) as f64 / 1000.0 / bl,
            time_to_limit_secs: an.time_to_limit_secs,
            tags,
        };
        f(d, t);
    }
}

/// The tags that say which judgement held the condition, by priority, and its name.
const HOLDERS: [(&str, &str); 4] = [
    ("dayhold", "day_hold"),
    ("raw:COND", "raw"),
    ("unm:FOUND", "unmasked"),
    ("yday:FOUND", "yesterday"),
];

/// The tags that contain any of `keys` (the warm-up tallies print the shape tests' tags).
pub fn tags_with<'a>(tags: &'a [String], keys: &[&str]) -> Vec<&'a String> {
    tags.iter()
        .filter(|t| keys.iter().any(|k| t.contains(k)))
        .collect()
}

/// Which judgement held the condition at one evaluation, from its tags (`raw`, the usable
/// floor; `unmasked`, with the load's part out; `yesterday`, against yesterday's floor;
/// `day_hold`; `-` for none).
pub fn holder(tags: &[String]) -> &'static str {
    HOLDERS
        .iter()
        .find(|(tag, _)| tags.iter().any(|t| t.ends_with(tag)))
        .map_or("-", |&(_, name)| name)
}

/// Replays `sc` with `cfg` and the diagnostic tags on (its traffic, or the series alone) until
/// its leak starts (to the end without a leak), and at each update where an alert begins
/// firing calls `fired` with the detector, the sample, the [`holder`] at that alert's first
/// pending and the update's tags.
pub fn alarms_before_leak(
    sc: &Scenario,
    cfg: DetectorConfig,
    traffic: bool,
    mut fired: impl FnMut(&Detector, &Sample, &'static str, &[String]),
) {
    probe::enable();
    let leak = sc.leak_start_ms.unwrap_or(i64::MAX);
    let mut d = Detector::new(cfg).expect("valid config");
    let mut rates = fed_rates(&sc.traffic, traffic);
    let mut state = AlertState::Inactive;
    let mut onset = "-";
    for s in sc.samples.iter().take_while(|s| s.ts_ms < leak) {
        let (_, tags) = update_tagged(&mut d, &mut rates, *s);
        let now = d.state();
        if now == AlertState::Pending && state == AlertState::Inactive {
            onset = holder(&tags);
        }
        if now == AlertState::Firing && state != AlertState::Firing {
            fired(&d, s, onset, &tags);
        }
        state = now;
    }
}

/// The raw judgement's tag that says why no significant rise was found.
fn no_rise_key(tags: &[String]) -> String {
    for t in tags {
        let Some(t) = t.strip_prefix("raw:") else {
            continue;
        };
        for k in ["nohinge", "norate", "gate", "tooshort"] {
            if t == k {
                return format!("no rise: {k}");
            }
        }
        if let Some(rest) = t.strip_prefix("cheap ") {
            let kind = rest.split(' ').next().unwrap_or("");
            return format!("no rise: cheap {kind}");
        }
    }
    "no rise: (no tag)".into()
}

/// After an evaluation whose probe tags are `tags`: "pending", "firing", the analysis's
/// `not_a_leak_because` (with the warm-up test's part that held it on the usable floor), or
/// which part of the search for a significant rise failed.
pub fn held_key(d: &Detector, tags: &[String]) -> String {
    match d.state() {
        AlertState::Pending => "pending".into(),
        AlertState::Firing => "firing".into(),
        AlertState::Inactive => match d.analysis().not_a_leak_because {
            Some(reason) => {
                let part = tags
                    .iter()
                    .rev()
                    // The test's own part, not `gap_tally`'s summary tag.
                    .filter_map(|t| t.strip_prefix("raw:wu "))
                    .find(|p| !matches!(*p, "traffic" | "shape"))
                    .filter(|_| reason == NoLeakReason::WarmUp);
                match part {
                    Some(p) => format!("{reason:?} {p}"),
                    None => format!("{reason:?}"),
                }
            }
            None => no_rise_key(tags),
        },
    }
}

/// One leak replayed with the diagnostic tags on (`SET=` overrides apply).
pub struct LeakRun {
    /// (minutes since the leak's start, [`held_key`]) of each evaluation from the start.
    pub evals: Vec<(f64, String)>,
    /// The key at the half mark, if the leak reaches its limit, and whether it had fired by then.
    pub at_half: Option<(String, bool)>,
    pub first_pending_min: Option<f64>,
    pub first_firing_min: Option<f64>,
    pub bucket_min: f64,
}

impl LeakRun {
    /// Minutes from `from` (minutes since the leak's start) to the first pending (or the end),
    /// by [`held_key`] (a bucket per evaluation).
    pub fn held_before_pending(&self, from: f64) -> BTreeMap<String, f64> {
        let mut held = BTreeMap::new();
        let pending = self.first_pending_min.unwrap_or(f64::INFINITY);
        for (_, k) in self
            .evals
            .iter()
            .filter(|(m, _)| *m >= from && *m < pending)
        {
            *held.entry(k.clone()).or_default() += self.bucket_min;
        }
        held
    }
}

/// Replays the leak of `sit`'s `seed` (15-s samples), with its traffic or on the series alone;
/// `None` for a series without a leak.
pub fn replay_leak(sit: Situation, seed: u64, traffic: bool) -> Option<LeakRun> {
    let sc = generate(sit, seed, 15);
    let start = sc.leak_start_ms?;
    let half = sc.limit_reached_ms.map(|o| start + (o - start) / 2);
    let cfg = config(&sc, &overrides_from_env());
    let mut r = LeakRun {
        evals: Vec::new(),
        at_half: None,
        first_pending_min: None,
        first_firing_min: None,
        bucket_min: cfg.bucket_secs / 60.0,
    };
    let mut d = Detector::new(cfg).expect("valid config");
    probe::enable();
    let mut rates = fed_rates(&sc.traffic, traffic);
    let mut key = String::new();
    for s in &sc.samples {
        let (_, tags) = update_tagged(&mut d, &mut rates, *s);
        let evaluated = !tags.is_empty();
        if evaluated {
            key = held_key(&d, &tags);
        }
        if s.ts_ms < start {
            continue;
        }
        let mins = (s.ts_ms - start) as f64 / 6e4;
        if d.state() != AlertState::Inactive {
            r.first_pending_min.get_or_insert(mins);
        }
        if d.state() == AlertState::Firing {
            r.first_firing_min.get_or_insert(mins);
        }
        if evaluated {
            r.evals.push((mins, key.clone()));
        }
        if let Some(h) = half
            && s.ts_ms >= h
            && r.at_half.is_none()
        {
            r.at_half = Some((key.clone(), r.first_firing_min.is_some()));
        }
    }
    Some(r)
}
