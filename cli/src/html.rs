//! `--format html`: one self-contained page (inline CSS and SVG, no script, nothing fetched).
//! Per flagged series, a chart of the raw samples, the post-GC floor, the growth-start marker and
//! the projection to the limit, then the suspects table; then every series in one table. Every
//! label and route is escaped: routes come from users and can be hostile.

use std::fmt::Write as _;

use leaksense_core::Sample;
use leaksense_core::detect::{DetectorConfig, SeriesKind, Verdict};
use leaksense_core::format::{self, percent, quantity, share, utc as iso};
use leaksense_core::report::LeakReport;

use crate::analyze::{Chart, SeriesReport};

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;word-break:break-all}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.leak{color:#b00;font-weight:bold}.chart{background:#fff;border:1px solid #ddd}\
.raw{fill:none;stroke:#9bb7d4;stroke-width:1}.floor{fill:none;stroke:#1f4e8c;stroke-width:2}\
.growth-start{stroke:#d9480f;stroke-width:1.5;stroke-dasharray:4 3}.projection{stroke:#b00;stroke-width:2;stroke-dasharray:6 4;fill:none}\
.limit{stroke:#555;stroke-width:1;stroke-dasharray:2 2}.axis{font-size:11px;fill:#555}.legend{font-size:12px}\
.icicle{background:#fff;border:1px solid #ddd}.icicle text{font-size:11px;fill:#222}.icicle rect{stroke:#fff;stroke-width:.5}";

/// The page's head, with the strict content security policy (no script, nothing fetched).
fn head(o: &mut String) {
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>leaksense report</title><style>{STYLE}</style></head><body>\n<h1>leaksense report</h1>\n"
    );
}

/// Chart size in SVG units.
const W: f64 = 900.0;
const H: f64 = 280.0;
const PAD_L: f64 = 70.0;
const PAD_R: f64 = 10.0;
const PAD_T: f64 = 10.0;
const PAD_B: f64 = 30.0;

/// The whole page.
pub fn page(source: &str, cfg: &DetectorConfig, reports: &[SeriesReport]) -> String {
    let mut o = String::new();
    let flagged: Vec<&SeriesReport> = reports.iter().filter(|r| r.flagged()).collect();
    head(&mut o);
    let _ = writeln!(
        o,
        "<p>Source: <code>{}</code>. {} series, <span class=\"leak\">{} flagged</span>.</p>",
        escape(source),
        reports.len(),
        flagged.len()
    );
    for (i, r) in flagged.iter().enumerate() {
        series_section(&mut o, i, cfg.kind, r, source);
    }
    o.push_str("<h2>All series</h2>\n<table class=\"all-series\"><tr><th>series</th><th>verdict</th><th>flagged</th><th>samples</th><th>growth start</th><th>rate</th><th>not a leak because</th></tr>\n");
    for r in reports {
        let a = &r.analysis;
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&title(r, source)),
            verdict(a.verdict),
            if r.flagged() { "yes" } else { "" },
            a.samples,
            a.growth_start_ms.map(iso).unwrap_or_default(),
            a.rate_per_sec
                .map(|v| format::rate(cfg.kind, v))
                .unwrap_or_default(),
            a.not_a_leak_because.map_or("", format::not_a_leak)
        );
    }
    o.push_str("</table>\n</body></html>\n");
    o
}

fn title(r: &SeriesReport, source: &str) -> String {
    r.name.clone().unwrap_or_else(|| source.to_string())
}

fn verdict(v: Verdict) -> String {
    match v {
        Verdict::Leak => format!("<span class=\"leak\">{}</span>", format::verdict(v)),
        _ => format::verdict(v).to_string(),
    }
}

/// A page for one saved [`LeakReport`] (`leaksense report FILE --format html`): the summary,
/// the suspect routes and the growing allocation sites with their icicle.
pub fn report_page(source: &str, report: &LeakReport) -> String {
    let mut o = String::new();
    head(&mut o);
    let _ = writeln!(
        o,
        "<p>Source: <code>{}</code>.</p>\n<section class=\"series\">",
        escape(source)
    );
    // The report's own unit: a saved count report (open_fds, goroutines) reads in its count.
    // The unit's name comes from the file, so it is escaped like any text from it.
    let q = &report.quantity;
    summary(
        &mut o,
        &|v| escape(&q.amount(v)),
        &|v| escape(&q.rate(v)),
        &report.analysis,
    );
    report_sections(&mut o, report);
    o.push_str("</section>\n</body></html>\n");
    o
}

fn series_section(o: &mut String, i: usize, kind: SeriesKind, r: &SeriesReport, source: &str) {
    let _ = writeln!(
        o,
        "<section class=\"series\" id=\"series-{i}\"><h2>{}</h2>",
        escape(&title(r, source))
    );
    summary(
        o,
        &|v| quantity(kind, v),
        &|v| format::rate(kind, v),
        &r.analysis,
    );
    if let Some(chart) = &r.chart {
        svg(o, kind, r, chart);
    }
    if let Some(report) = &r.report {
        report_sections(o, report);
    }
    o.push_str("</section>\n");
}

/// The summary table; `amount` and `rate` print the series' values in its unit.
fn summary(
    o: &mut String,
    amount: &dyn Fn(f64) -> String,
    rate: &dyn Fn(f64) -> String,
    a: &leaksense_core::detect::Analysis,
) {
    let because = a.not_a_leak_because.map_or(String::new(), |r| {
        format!(
            "<tr><th>not a leak</th><td>{}</td></tr>",
            format::not_a_leak(r)
        )
    });
    let _ = writeln!(
        o,
        "<table class=\"summary\"><tr><th>verdict</th><td>{}</td></tr>{because}\
         <tr><th>growth start</th><td>{}</td></tr><tr><th>rate</th><td>{}</td></tr>\
         <tr><th>post-GC floor now</th><td>{}</td></tr><tr><th>time to limit</th><td>{}</td></tr></table>",
        verdict(a.verdict),
        a.growth_start_ms.map_or("none".into(), iso),
        a.rate_per_sec.map_or("none".into(), rate),
        a.baseline.map_or("unknown".into(), amount),
        match (a.limit, a.time_to_limit_secs) {
            (Some(l), Some(t)) => format!("{} (limit {})", format::duration(t), amount(l)),
            (Some(l), None) => format!("not rising toward the limit of {}", amount(l)),
            (None, _) => "unknown (no limit)".into(),
        }
    );
}

/// The suspects, the article's rules, the growing sites and the notes of a report.
fn report_sections(o: &mut String, report: &LeakReport) {
    let amount = |v: f64| escape(&report.quantity.amount(v));
    {
        let _ = writeln!(
            o,
            "<h3>Suspect routes</h3>\n<table class=\"suspects\"><tr><th>route</th><th>retained per request</th><th>{} interval</th><th>requests</th><th>share of growth</th><th>why</th></tr>",
            percent(report.confidence())
        );
        for s in &report.suspects {
            let reasons: Vec<String> = s.reasons.iter().map(|x| escape(x)).collect();
            let _ = writeln!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{} .. {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&s.route),
                amount(s.retained_bytes_per_request),
                amount(s.interval[0]),
                amount(s.interval[1]),
                s.requests,
                share(s.share),
                reasons.join("<br>")
            );
        }
        o.push_str("</table>\n");
        if !report.article_suspects.is_empty() {
            o.push_str(
                "<p>The article's rules, for comparison:</p><ul class=\"article-suspects\">\n",
            );
            for s in &report.article_suspects {
                let _ = writeln!(
                    o,
                    "<li><code>{}</code>: {}</li>",
                    escape(&s.route),
                    escape(&s.reason)
                );
            }
            o.push_str("</ul>\n");
        }
    }
    if let Some(p) = &report.profile {
        crate::icicle::section(o, p);
    }
    for n in &report.notes {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", escape(n));
    }
}

/// The chart: raw samples, floor, growth start, projection of the floor to the limit.
fn svg(o: &mut String, kind: SeriesKind, r: &SeriesReport, chart: &Chart) {
    let a = &r.analysis;
    let t0 = r.first_ms as f64;
    let last = r.last_ms as f64;
    // The projection: from the newest floor point, at the estimated rate, until the limit or
    // for as long as the data spans, whichever is shorter.
    let projection = match (chart.floor.last(), a.rate_per_sec) {
        (Some(f), Some(rate)) if rate > 0.0 => {
            let span = (last - t0).max(1.0);
            let to_limit = a
                .limit
                .map(|l| (l - f.value) / rate * 1000.0)
                .filter(|d| d.is_finite() && *d >= 0.0);
            let dur = to_limit.map_or(span, |d| d.min(span));
            let end_t = f.ts_ms as f64 + dur;
            Some((
                (f.ts_ms as f64, f.value),
                (end_t, f.value + rate * dur / 1000.0),
            ))
        }
        _ => None,
    };
    let t1 = projection
        .map_or(last, |(_, (t, _))| t.max(last))
        .max(t0 + 1.0);
    let values = chart
        .samples
        .iter()
        .chain(&chart.floor)
        .map(|s| s.value)
        .chain(projection.map(|(_, (_, v))| v))
        .chain(a.limit.filter(|_| projection.is_some()));
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return;
    }
    if hi - lo < 1e-9 {
        hi += 1.0;
        lo -= 1.0;
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = ((lo - pad).max(0.0_f64.min(lo)), hi + pad);
    let x = |t: f64| PAD_L + (t - t0) / (t1 - t0) * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (hi - v) / (hi - lo) * (H - PAD_T - PAD_B);
    let points = |s: &[Sample]| {
        s.iter()
            .map(|p| format!("{:.1},{:.1}", x(p.ts_ms as f64), y(p.value)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        o,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"memory chart\">"
    );
    for (v, anchor) in [(hi - pad, "top"), (lo + pad, "bottom")] {
        let _ = writeln!(
            o,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" data-pos=\"{anchor}\">{}</text>",
            PAD_L - 4.0,
            y(v) + 4.0,
            escape(&quantity(kind, v))
        );
    }
    let _ = writeln!(
        o,
        "<text class=\"axis\" x=\"{PAD_L}\" y=\"{:.1}\">{}</text><text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        H - 8.0,
        iso(r.first_ms),
        W - PAD_R,
        H - 8.0,
        iso(t1 as i64)
    );
    let _ = writeln!(
        o,
        "<polyline class=\"raw\" points=\"{}\"/>",
        points(&chart.samples)
    );
    let _ = writeln!(
        o,
        "<polyline class=\"floor\" points=\"{}\"/>",
        points(&chart.floor)
    );
    if let Some(gs) = a.growth_start_ms {
        let gx = x(gs as f64);
        let _ = writeln!(
            o,
            "<line class=\"growth-start\" x1=\"{gx:.1}\" x2=\"{gx:.1}\" y1=\"{PAD_T}\" y2=\"{:.1}\"/>",
            H - PAD_B
        );
    }
    if let Some(((ax, ay), (bx, by))) = projection {
        let _ = writeln!(
            o,
            "<line class=\"projection\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
            x(ax),
            y(ay),
            x(bx),
            y(by)
        );
        if let Some(l) = a.limit {
            let _ = writeln!(
                o,
                "<line class=\"limit\" x1=\"{PAD_L}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
                W - PAD_R,
                y(l),
                y(l)
            );
        }
    }
    o.push_str("</svg>\n<p class=\"legend\">Raw samples (light blue), post-GC floor (dark blue), growth start (orange), projection of the floor to the limit (red, dashed), limit (grey).</p>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_markup_inert() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape(r#"a"b'c&d"#), "a&quot;b&#39;c&amp;d");
    }
}
