//! What held an evaluation (core feature `probe`), shared by the tally examples.
use leaksense_core::detect::{AlertEvent, AlertState, Detector, NoLeakReason, probe};
use leaksense_core::series::Sample;
use std::iter::Peekable;

/// Feeds `d` the request rates of `rates` due by `s`, then `s`, and returns the update's alert
/// event and the probe tags it raised (none where it closed no evaluation).
pub fn update_tagged<'a>(
    d: &mut Detector,
    rates: &mut Peekable<impl Iterator<Item = &'a Sample>>,
    s: Sample,
) -> (Option<AlertEvent>, Vec<String>) {
    while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
        d.observe_traffic(*r).expect("valid traffic");
    }
    probe::take();
    let event = d.update(s).expect("valid samples");
    (event, probe::take())
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
