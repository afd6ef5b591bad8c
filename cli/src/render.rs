//! Rendering of analysis results: human text, and the stable JSON schema
//! `leaksense.analyze/v1` documented in docs/schema.md.

use leaksense_core::detect::{AlertState, DetectorConfig, NoLeakReason, SeriesKind, Verdict};
use leaksense_core::format::{self, duration, percent};
use serde::Serialize;

use crate::analyze::SeriesReport;

pub use leaksense_core::format::{quantity, utc as iso};

/// When a limit `secs` after the last sample is reached, to the second (it is an estimate).
fn reached_ms(last_ms: i64, secs: f64) -> i64 {
    let ms = last_ms.saturating_add((secs * 1000.0) as i64);
    ms - ms.rem_euclid(1000)
}

/// The human report. For a fleet (`summary`), a count of verdicts first, then only the
/// flagged series in full.
pub fn text(source: &str, cfg: &DetectorConfig, reports: &[SeriesReport], summary: bool) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let all = reports;
    let flagged: Vec<SeriesReport>;
    let reports = if summary {
        let count = |v: Verdict| all.iter().filter(|r| r.analysis.verdict == v).count();
        let _ = writeln!(
            o,
            "{source}\n  {} series: {} flagged ({} leaking now), {} healthy, {} with too little \
             data\n",
            all.len(),
            all.iter().filter(|r| r.flagged()).count(),
            count(Verdict::Leak),
            count(Verdict::Healthy),
            count(Verdict::Insufficient)
        );
        flagged = all.iter().filter(|r| r.flagged()).cloned().collect();
        &flagged[..]
    } else {
        all
    };
    let kind = cfg.kind;
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            o.push('\n');
        }
        let a = &r.analysis;
        let title = r.name.as_deref().unwrap_or(source);
        let _ = writeln!(o, "{title}");
        let _ = writeln!(
            o,
            "  samples        {} from {} to {}",
            a.samples,
            iso(r.first_ms),
            iso(r.last_ms)
        );
        let _ = writeln!(o, "  verdict        {}", format::verdict(a.verdict));
        let _ = writeln!(o, "  alert state    {}", format::state(a.state));
        if let Some(b) = a.baseline {
            let _ = writeln!(
                o,
                "  baseline       {} (the level left after GC)",
                quantity(kind, b)
            );
        }
        let start = a.growth_start_ms.map_or("none".to_string(), iso);
        let _ = writeln!(o, "  growth start   {start}");
        if let Some(why) = a.not_a_leak_because {
            let _ = writeln!(o, "  not a leak     {}", format::not_a_leak(why));
        }
        let rate = match (a.rate_per_sec, a.rate_low, a.rate_high) {
            (Some(r), Some(lo), Some(hi)) => format!(
                "{} ({} interval {} to {})",
                format::rate(kind, r),
                percent(cfg.confidence),
                format::rate(kind, lo),
                format::rate(kind, hi)
            ),
            (Some(r), _, _) => format::rate(kind, r),
            _ => "none".into(),
        };
        let _ = writeln!(o, "  rate           {rate}");
        let ttl = match (a.limit, a.time_to_limit_secs) {
            (None, _) => "unknown (no --limit given)".to_string(),
            (Some(_), None) if a.rate_per_sec.is_none() => "unknown (no growth rate yet)".into(),
            (Some(l), None) => format!("not rising toward the limit of {}", quantity(kind, l)),
            (Some(l), Some(t)) if t <= 0.0 => {
                format!(
                    "0s (the baseline is already at or above the limit of {})",
                    quantity(kind, l)
                )
            }
            (Some(l), Some(t)) => format!(
                "{} (limit {} reached about {})",
                duration(t),
                quantity(kind, l),
                iso(reached_ms(r.last_ms, t))
            ),
        };
        let _ = writeln!(o, "  time to limit  {ttl}");
        if r.events.is_empty() {
            let _ = writeln!(o, "  alert events   none");
        } else {
            let _ = writeln!(o, "  alert events");
            for e in &r.events {
                let resolved = if e.from == AlertState::Firing && e.to == AlertState::Inactive {
                    " (resolved)"
                } else {
                    ""
                };
                let _ = writeln!(
                    o,
                    "    {}  {} -> {}{resolved}",
                    iso(e.ts_ms),
                    format::state(e.from),
                    format::state(e.to)
                );
            }
        }
        if let Some(report) = &r.report {
            // The core's report, without its header (the analysis is printed above).
            let text = report.render_text();
            for line in text.lines().skip_while(|l| !l.is_empty()).skip(1) {
                let _ = writeln!(o, "  {line}");
            }
        }
    }
    o
}

/// The JSON document (schema `leaksense.analyze/v1`).
#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    source: &'a str,
    kind: SeriesKind,
    confidence: f64,
    series: Vec<SeriesJson<'a>>,
}

#[derive(Serialize)]
struct SeriesJson<'a> {
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a crate::prometheus::Labels>,
    samples: u64,
    /// Leaking now, or the alert fired during the range.
    flagged: bool,
    first_sample: String,
    last_sample: String,
    verdict: Verdict,
    state: AlertState,
    growth_start: Option<String>,
    growth_start_ms: Option<i64>,
    not_a_leak_because: Option<NoLeakReason>,
    rate_per_sec: Option<f64>,
    rate_low: Option<f64>,
    rate_high: Option<f64>,
    baseline: Option<f64>,
    limit: Option<f64>,
    time_to_limit_secs: Option<f64>,
    limit_reached_at: Option<String>,
    events: Vec<EventJson>,
    /// The core's report (suspect routes), when request counts were given and it leaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a leaksense_core::report::LeakReport>,
}

#[derive(Serialize)]
struct EventJson {
    time: String,
    ts_ms: i64,
    from: AlertState,
    to: AlertState,
}

/// The machine-readable report.
pub fn json(source: &str, cfg: &DetectorConfig, reports: &[SeriesReport]) -> String {
    let series = reports
        .iter()
        .map(|r| {
            let a = &r.analysis;
            SeriesJson {
                name: r.name.as_deref(),
                labels: r.labels.as_ref(),
                report: r.report.as_ref(),
                samples: a.samples,
                flagged: r.flagged(),
                first_sample: iso(r.first_ms),
                last_sample: iso(r.last_ms),
                verdict: a.verdict,
                state: a.state,
                growth_start: a.growth_start_ms.map(iso),
                growth_start_ms: a.growth_start_ms,
                not_a_leak_because: a.not_a_leak_because,
                rate_per_sec: a.rate_per_sec,
                rate_low: a.rate_low,
                rate_high: a.rate_high,
                baseline: a.baseline,
                limit: a.limit,
                time_to_limit_secs: a.time_to_limit_secs,
                limit_reached_at: a.time_to_limit_secs.map(|t| iso(reached_ms(r.last_ms, t))),
                events: r
                    .events
                    .iter()
                    .map(|e| EventJson {
                        time: iso(e.ts_ms),
                        ts_ms: e.ts_ms,
                        from: e.from,
                        to: e.to,
                    })
                    .collect(),
            }
        })
        .collect();
    let doc = Doc {
        schema: "leaksense.analyze/v1",
        source,
        kind: cfg.kind,
        confidence: cfg.confidence,
        series,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    s.push('\n');
    s
}
