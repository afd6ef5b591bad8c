//! `leaksense analyze --prometheus`: the series of a whole fleet, pulled from a Prometheus
//! server one series at a time as exact raw samples, analyzed in parallel, and correlated with
//! request counts by the core's attribution.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use leaksense_core::Sample;
use leaksense_core::detect::{Detector, DetectorConfig};
use leaksense_core::report::LeakReport;
use leaksense_core::requests::{AttributionConfig, RouteSnapshot, SlotCounts, TrackerSnapshot};

use crate::analyze::{SeriesReport, replay};
use crate::error::CliError;
use crate::prometheus::{Client, Labels, ServerOptions, compatible, display_name, exact_selector};
use crate::safe::{QUOTE_MAX, clip};
use leaksense_core::options::MAX_LIMIT;

/// Most series one analysis pulls (memory stays bounded; narrow the selector for more).
pub const MAX_SERIES: usize = 100_000;
/// Most routes taken from `--requests` (the attribution pools the rest beyond its top-K).
pub const MAX_ROUTES: usize = 1_000;

/// What to pull and how.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub server: ServerOptions,
    /// A series selector.
    pub query: String,
    /// How far back from `time_ms` to read (ms).
    pub range_ms: i64,
    /// The end of the range (unix ms).
    pub time_ms: i64,
    /// A query of memory limits; each series gets the smallest compatible one (see
    /// [`compatible`]), else `--limit`.
    pub limit_query: Option<String>,
    /// Labels to sum series by (one series per group, evaluated every `step_ms`).
    pub group_by: Vec<String>,
    /// Step of the grouped subquery (ms).
    pub step_ms: i64,
    /// A query of request counts per route and slot, e.g.
    /// `sum by (http_route) (increase(http_server_request_duration_seconds_count[5m]))`.
    pub requests: Option<String>,
    /// The slot width: the step the requests query is evaluated at (ms).
    pub requests_step_ms: i64,
    /// The label naming a route in the requests query's result.
    pub route_label: String,
    /// Series pulled and analyzed at once.
    pub workers: usize,
}

fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} series ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Duration in whole seconds for a PromQL range (`86400s`).
fn promql_secs(ms: i64) -> String {
    format!("{}s", (ms / 1000).max(1))
}

/// Pulls and analyzes every series `opts.query` matches.
pub fn run(opts: &FleetOptions, cfg: &DetectorConfig) -> Result<Vec<SeriesReport>, CliError> {
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    if opts.requests.is_some() {
        AttributionConfig::default()
            .validate()
            .map_err(CliError::Option)?;
    }
    let client = Client::new(&opts.server)?;
    let start_ms = opts.time_ms - opts.range_ms;
    let requests = match &opts.requests {
        Some(q) => Some(requests_series(&client, q, opts, start_ms)?),
        None => None,
    };
    let limits = match &opts.limit_query {
        Some(q) => {
            let got = client.instant(q, opts.time_ms)?;
            if got.is_empty() {
                return Err(CliError::Prometheus(format!(
                    "--limit-query `{}` returned no value at {}",
                    clip(q, QUOTE_MAX),
                    crate::render::iso(opts.time_ms)
                )));
            }
            got
        }
        None => Vec::new(),
    };
    let cfg_for = |labels: &Labels| -> DetectorConfig {
        // A limit series may say "unlimited" with a huge number (cgroup v1: 2^63), or be junk:
        // only the limits a user could type count (1 byte to 1 EB).
        let limit = limits
            .iter()
            .filter(|(l, v)| (1.0..=MAX_LIMIT).contains(v) && compatible(l, labels, ""))
            .map(|(_, v)| *v)
            .reduce(f64::min);
        DetectorConfig {
            limit: limit.or(cfg.limit),
            ..cfg.clone()
        }
    };
    let mut reports = if opts.group_by.is_empty() {
        per_series(&client, opts, &cfg_for, start_ms)?
    } else {
        grouped(&client, opts, &cfg_for)?
    };
    if let Some(requests) = &requests {
        for r in reports.iter_mut().filter(|r| r.flagged()) {
            attach_report(r, requests, opts)?;
        }
    }
    Ok(reports)
}

fn empty_result(opts: &FleetOptions) -> CliError {
    CliError::Prometheus(format!(
        "no series match `{}` between {} and {}",
        clip(&opts.query, QUOTE_MAX),
        crate::render::iso(opts.time_ms - opts.range_ms),
        crate::render::iso(opts.time_ms)
    ))
}

/// One query per series, `workers` at a time; each worker analyzes what it pulled and keeps
/// only the result.
fn per_series(
    client: &Client,
    opts: &FleetOptions,
    cfg: &(dyn Fn(&Labels) -> DetectorConfig + Sync),
    start_ms: i64,
) -> Result<Vec<SeriesReport>, CliError> {
    let list = client.series(&opts.query, start_ms, opts.time_ms)?;
    if list.is_empty() {
        return Err(empty_result(opts));
    }
    if list.len() > MAX_SERIES {
        return Err(CliError::Prometheus(format!(
            "`{}` matches {} series, more than {MAX_SERIES}: narrow the selector",
            clip(&opts.query, QUOTE_MAX),
            list.len()
        )));
    }
    let pb = progress(list.len() as u64, "pulling");
    let range = promql_secs(opts.range_ms);
    let pull = |labels: &Labels| -> Result<Option<SeriesReport>, CliError> {
        let got = client.raw(
            &format!("{}[{range}]", exact_selector(labels)),
            opts.time_ms,
        )?;
        // The series can vanish between listing and pulling (retention, deletion).
        let Some((labels, samples)) = got.into_iter().next() else {
            return Ok(None);
        };
        let cfg = cfg(&labels);
        analyze_one(labels, &samples, &cfg)
    };
    let out = parallel(&list, opts.workers, &pb, pull)?;
    pb.finish_and_clear();
    let out: Vec<SeriesReport> = out.into_iter().flatten().collect();
    if out.is_empty() {
        return Err(empty_result(opts));
    }
    Ok(out)
}

/// One subquery summing series by the group labels; the groups are analyzed in parallel.
fn grouped(
    client: &Client,
    opts: &FleetOptions,
    cfg: &(dyn Fn(&Labels) -> DetectorConfig + Sync),
) -> Result<Vec<SeriesReport>, CliError> {
    let expr = format!(
        "(sum by ({}) ({}))[{}:{}]",
        opts.group_by.join(", "),
        opts.query,
        promql_secs(opts.range_ms),
        promql_secs(opts.step_ms)
    );
    let pb = if std::io::stderr().is_terminal() {
        let pb = ProgressBar::new_spinner();
        // Written to the terminal by the progress bar itself, past main's output filter.
        let shown = crate::safe::for_terminal(&clip(&expr, QUOTE_MAX)).into_owned();
        pb.set_message(format!("querying {shown}"));
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    } else {
        ProgressBar::hidden()
    };
    let got = client.raw(&expr, opts.time_ms);
    pb.finish_and_clear();
    let got = got?;
    if got.iter().all(|(_, s)| s.is_empty()) {
        return Err(empty_result(opts));
    }
    let pb = ProgressBar::hidden();
    let out = parallel(&got, opts.workers, &pb, |(labels, samples)| {
        analyze_one(labels.clone(), samples, &cfg(labels))
    })?;
    Ok(out.into_iter().flatten().collect())
}

fn analyze_one(
    labels: Labels,
    samples: &[Sample],
    cfg: &DetectorConfig,
) -> Result<Option<SeriesReport>, CliError> {
    if samples.is_empty() {
        return Ok(None);
    }
    let name = display_name(&labels);
    let (mut report, _) = replay(Some(name.clone()), samples, cfg).map_err(|(i, e)| {
        CliError::Prometheus(format!(
            "series {name}: sample {i}: {}",
            crate::input::describe(&e)
        ))
    })?;
    report.labels = Some(labels);
    Ok(Some(report))
}

/// Runs `job` on every item with `workers` threads; results keep the items' order. Stops at the
/// first error and returns it.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    pb: &ProgressBar,
    job: impl Fn(&T) -> Result<R, CliError> + Sync,
) -> Result<Vec<R>, CliError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<R, CliError>>>> =
        items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = job(&items[i]);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                    pb.inc(1);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(items.len());
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => return Err(e),
            // Skipped after another item failed; that error is returned above or below.
            None => {}
        }
    }
    Ok(out)
}

/// The request-count series of `--requests`, one per route (and per any other label).
fn requests_series(
    client: &Client,
    query: &str,
    opts: &FleetOptions,
    start_ms: i64,
) -> Result<Vec<(Labels, Vec<Sample>)>, CliError> {
    let got = client.range(query, start_ms, opts.time_ms, opts.requests_step_ms)?;
    let got: Vec<_> = got.into_iter().filter(|(_, s)| !s.is_empty()).collect();
    if got.is_empty() {
        return Err(CliError::Prometheus(format!(
            "--requests `{}` returned no series between {} and {}",
            clip(query, QUOTE_MAX),
            crate::render::iso(start_ms),
            crate::render::iso(opts.time_ms)
        )));
    }
    if !got.iter().any(|(l, _)| l.contains_key(&opts.route_label)) {
        return Err(CliError::Prometheus(format!(
            "--requests `{}`: no result carries the route label `{}` (set --route-label, \
             or aggregate `by ({})`)",
            clip(query, QUOTE_MAX),
            clip(&opts.route_label, QUOTE_MAX),
            clip(&opts.route_label, QUOTE_MAX)
        )));
    }
    Ok(got)
}

/// The tracker snapshot of the request series that belong to `labels`: those whose shared
/// labels, apart from the route label, agree with the memory series (so `sum by (http_route)`
/// applies to every series, `sum by (http_route, instance)` to each instance's own).
pub fn snapshot_for(
    labels: &Labels,
    requests: &[(Labels, Vec<Sample>)],
    route_label: &str,
    step_ms: i64,
) -> Option<TrackerSnapshot> {
    let mine: Vec<&(Labels, Vec<Sample>)> = requests
        .iter()
        .filter(|(l, _)| compatible(l, labels, route_label))
        .take(MAX_ROUTES)
        .collect();
    if mine.is_empty() {
        return None;
    }
    let mut times: Vec<i64> = mine
        .iter()
        .flat_map(|(_, s)| s.iter().map(|x| x.ts_ms))
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut routes = Vec::with_capacity(mine.len());
    let mut columns = Vec::with_capacity(mine.len());
    for (l, samples) in &mine {
        let route = l
            .get(route_label)
            .cloned()
            .unwrap_or_else(|| display_name(l));
        let mut col = vec![0u64; times.len()];
        for s in samples.iter() {
            if let Ok(i) = times.binary_search(&s.ts_ms) {
                // `increase` extrapolates to fractions of a request; counts are whole.
                col[i] = s.value.max(0.0).round() as u64;
            }
        }
        let first = col.iter().position(|&c| c > 0).map(|i| times[i] - step_ms);
        routes.push(RouteSnapshot {
            route,
            first_seen_ms: first,
            count: col.iter().sum(),
            measures: Vec::new(),
        });
        columns.push(col);
    }
    let slots = times
        .iter()
        .enumerate()
        .map(|(i, t)| SlotCounts {
            // A point at t counts the requests of (t - step, t].
            start_ms: t - step_ms,
            counts: columns.iter().map(|c| c[i]).collect(),
        })
        .collect();
    Some(TrackerSnapshot {
        measures: Vec::new(),
        slot_ms: step_ms,
        routes,
        slots,
    })
}

fn attach_report(
    r: &mut SeriesReport,
    requests: &[(Labels, Vec<Sample>)],
    opts: &FleetOptions,
) -> Result<(), CliError> {
    let (Some(labels), Some(chart)) = (&r.labels, &r.chart) else {
        return Ok(());
    };
    let Some(snapshot) = snapshot_for(labels, requests, &opts.route_label, opts.requests_step_ms)
    else {
        return Ok(());
    };
    let report = LeakReport::build(
        r.analysis.clone(),
        &chart.floor,
        &snapshot,
        &AttributionConfig::default(),
    )
    .map_err(CliError::Option)?;
    r.report = Some(report);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn counts(values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Sample {
                ts_ms: 300_000 * (i as i64 + 1),
                value: *v,
            })
            .collect()
    }

    #[test]
    fn request_series_match_by_their_other_labels() {
        let requests = vec![
            (
                labels(&[("http_route", "/a"), ("instance", "i1")]),
                counts(&[0.0, 2.4, 3.0]),
            ),
            (
                labels(&[("http_route", "/b"), ("instance", "i2")]),
                counts(&[1.0, 1.0, 1.0]),
            ),
            (labels(&[("http_route", "/c")]), counts(&[5.0, -1.0, 5.0])),
        ];
        let mem = labels(&[("__name__", "heap"), ("instance", "i1"), ("job", "api")]);
        let snap = snapshot_for(&mem, &requests, "http_route", 300_000).unwrap();
        let routes: Vec<&str> = snap.routes.iter().map(|r| r.route.as_str()).collect();
        assert_eq!(routes, ["/a", "/c"]);
        assert_eq!(snap.routes[0].count, 5);
        assert_eq!(snap.routes[0].first_seen_ms, Some(300_000));
        assert_eq!(snap.routes[1].count, 10);
        assert_eq!(snap.slots.len(), 3);
        assert_eq!(snap.slots[0].start_ms, 0);
        assert_eq!(snap.slots[1].counts, vec![2, 0]);
        let other = labels(&[("__name__", "heap"), ("instance", "i9")]);
        let snap = snapshot_for(&other, &requests[..2], "http_route", 300_000);
        assert!(snap.is_none());
    }

    #[test]
    fn parallel_keeps_order_and_returns_the_error() {
        let items: Vec<u32> = (0..100).collect();
        let pb = ProgressBar::hidden();
        let out = parallel(&items, 4, &pb, |&i| Ok(i * 2)).unwrap();
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        let err = parallel(&items, 4, &pb, |&i| {
            if i == 37 {
                Err(CliError::Usage("boom".into()))
            } else {
                Ok(i)
            }
        });
        assert!(matches!(err, Err(CliError::Usage(m)) if m == "boom"));
    }
}
