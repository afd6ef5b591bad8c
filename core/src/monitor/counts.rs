//! The counts a monitor watches beside memory: open file descriptors (counted here, from
//! `/proc/self/fd`, by the sampler thread at the sampling interval), goroutines, Node's active
//! handles and requests, and Python threads (read by their binding, which hands the number over
//! with [`Monitor::observe_count`]). Each count has its own count detector, alert and events
//! (the event's `measure` names it), its own catalog gauge and a line in the memory report;
//! its growth is explained by the requests per route with the same model as memory ("`/stream`
//! leaves 1 goroutine per request").

use std::collections::VecDeque;

use super::{Event, EventKind, Monitor, MonitorConfig, MonitorError, Shared, State, push_event};
use crate::catalog::Runtime;
use crate::detect::{AlertEvent, AlertState, Detector};
use crate::error::InputError;
use crate::report::{CountLine, LeakReport, Quantity, Suspect, SuspectWatch};
use crate::requests::AttributionConfig;
use crate::series::Sample;

/// A count a monitor can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountDef {
    /// Its name: the word in the `counts` option, the `measure` of its events, the `series`
    /// of its report.
    pub series: &'static str,
    /// Its unit, as its catalog gauge has it.
    pub unit: &'static str,
    /// The catalog key of its gauge.
    pub key: &'static str,
    /// Who reads it: the core (`Process`), or the binding of that runtime.
    pub runtime: Runtime,
}

/// The series name of the descriptor count, which the core reads itself.
pub const OPEN_FDS: &str = "open_fds";

/// Every count a monitor can watch.
pub static COUNTS: &[CountDef] = &[
    CountDef {
        series: OPEN_FDS,
        unit: "{file_descriptor}",
        key: "process.open_fds",
        runtime: Runtime::Process,
    },
    CountDef {
        series: "goroutines",
        unit: "{goroutine}",
        key: "go.goroutine.count",
        runtime: Runtime::Go,
    },
    CountDef {
        series: "active_resources",
        unit: "{resource}",
        key: "nodejs.active_resources",
        runtime: Runtime::Node,
    },
    CountDef {
        series: "threads",
        unit: "{thread}",
        key: "cpython.threads",
        runtime: Runtime::Python,
    },
];

/// The count named `series`.
pub fn count_def(series: &str) -> Option<&'static CountDef> {
    COUNTS.iter().find(|d| d.series == series)
}

/// The counts a monitor in `runtime` watches by default: descriptors, and the runtime's own.
pub(super) fn preset(runtime: Runtime) -> Vec<String> {
    COUNTS
        .iter()
        .filter(|d| d.runtime == Runtime::Process || d.runtime == runtime)
        .map(|d| d.series.to_string())
        .collect()
}

/// Every name known, once, and readable in `runtime`.
pub(super) fn validate(runtime: Runtime, counts: &[String]) -> Result<(), InputError> {
    for (i, name) in counts.iter().enumerate() {
        let Some(def) = count_def(name) else {
            let known: Vec<&str> = COUNTS.iter().map(|d| d.series).collect();
            return Err(InputError::invalid_option(
                "counts",
                format!("unknown count {name:?} (known: {})", known.join(", ")),
            ));
        };
        if def.runtime != Runtime::Process && def.runtime != runtime {
            return Err(InputError::invalid_option(
                "counts",
                format!(
                    "{name:?} is read by the {} binding, not in {}",
                    def.runtime.as_str(),
                    runtime.as_str()
                ),
            ));
        }
        if counts[..i].contains(name) {
            return Err(InputError::invalid_option(
                "counts",
                format!("{name:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// One watched count and its detector.
#[derive(Debug)]
pub(super) struct CountSeries {
    def: &'static CountDef,
    detector: Detector,
    last: Option<Sample>,
    /// While its alert fires and its suspects are not announced yet.
    suspects: Option<SuspectWatch>,
    /// What its `suspects` event named, while the alert fires.
    named: Vec<Suspect>,
}

impl CountSeries {
    fn quantity(&self) -> Quantity {
        Quantity {
            series: self.def.series.into(),
            unit: self.def.unit.into(),
        }
    }
}

/// Most alert transitions of counts waiting for their report (as for memory).
const AWAITING_CAPACITY: usize = super::EVENT_QUEUE_CAPACITY;

/// The counts of one monitor: part of its state, under the same lock.
#[derive(Debug)]
pub(super) struct Counts {
    series: Vec<CountSeries>,
    /// Alert transitions waiting for their report: series index, kind, time.
    awaiting: VecDeque<(usize, EventKind, i64)>,
}

/// The limit a count runs into, if any: the descriptor soft limit.
fn limit_of(def: &CountDef) -> Option<f64> {
    #[cfg(target_os = "linux")]
    if def.series == OPEN_FDS {
        return crate::collect::procfs::fd_limit().map(|l| l as f64);
    }
    let _ = def;
    None
}

impl Counts {
    /// A detector for each count of the configuration.
    pub(super) fn new(config: &MonitorConfig) -> Result<Counts, InputError> {
        let series = config
            .counts
            .iter()
            .filter_map(|name| count_def(name))
            .map(|def| {
                Ok(CountSeries {
                    def,
                    detector: Detector::new(config.count_detector_with(limit_of(def)))?,
                    last: None,
                    suspects: None,
                    named: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, InputError>>()?;
        Ok(Counts {
            series,
            awaiting: VecDeque::new(),
        })
    }

    fn index(&self, series: &str) -> Result<usize, InputError> {
        self.series
            .iter()
            .position(|s| s.def.series == series)
            .ok_or_else(|| {
                let watched: Vec<&str> = self.series.iter().map(|s| s.def.series).collect();
                InputError::invalid_option(
                    "series",
                    format!(
                        "{series:?} is not a watched count (watched: {})",
                        watched.join(", ")
                    ),
                )
            })
    }

    /// Feeds one reading of count `i`; queues its alert transition for delivery.
    fn feed(&mut self, i: usize, sample: Sample) -> Result<Option<AlertEvent>, InputError> {
        let s = &mut self.series[i];
        let event = s.detector.update(sample)?;
        s.last = Some(sample);
        let Some(e) = event else {
            return Ok(None);
        };
        if e.to == AlertState::Firing {
            let bucket_ms = (s.detector.config().bucket_secs * 1000.0) as i64;
            s.suspects = Some(SuspectWatch::new(e.ts_ms, bucket_ms));
        } else if e.from == AlertState::Firing {
            s.suspects = None;
            s.named.clear();
        }
        if let Some(kind) = EventKind::of(&e) {
            if self.awaiting.len() == AWAITING_CAPACITY {
                self.awaiting.pop_front();
            }
            self.awaiting.push_back((i, kind, e.ts_ms));
        }
        Ok(event)
    }

    /// The report lines of the counts read so far.
    pub(super) fn lines(&self) -> Vec<CountLine> {
        self.series
            .iter()
            .filter_map(|s| {
                let last = s.last?;
                Some(CountLine::new(
                    &s.quantity(),
                    last.value,
                    last.ts_ms,
                    &s.detector.analysis(),
                    s.named.clone(),
                ))
            })
            .collect()
    }

    /// Each watched count's catalog key and latest reading.
    pub(super) fn gauges(&self) -> Vec<(&'static str, Option<f64>)> {
        self.series
            .iter()
            .map(|s| (s.def.key, s.last.map(|l| l.value)))
            .collect()
    }
}

/// Counts what the core reads itself (descriptors), for the sampler thread; a failed read or
/// a clock that did not move forward skips the reading.
pub(super) fn sample_own(st: &mut State, ts_ms: i64) {
    #[cfg(target_os = "linux")]
    if let Ok(i) = st.counts.index(OPEN_FDS)
        && st.counts.series[i].last.is_none_or(|l| ts_ms > l.ts_ms)
        && let Ok(n) = crate::collect::procfs::open_fds()
    {
        let _ = st.counts.feed(
            i,
            Sample {
                ts_ms,
                value: n as f64,
            },
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (st, ts_ms);
}

impl Monitor {
    /// Feeds one reading of a watched count (`goroutines`, `active_resources`, `threads`,
    /// which only the binding's runtime can read; `open_fds` too, for replays and tests: the
    /// sampler thread counts it otherwise) at `ts_ms` (unix ms). A count that is not watched
    /// is `invalid_option`; a non-finite value `non_finite_value`; a time that does not move
    /// forward for that count `out_of_order`.
    pub fn observe_count(
        &self,
        series: &str,
        ts_ms: i64,
        value: f64,
    ) -> Result<Option<AlertEvent>, MonitorError> {
        let event = self.shared.feed_count(series, ts_ms, value)?;
        self.shared.deliver_transitions()?;
        Ok(event)
    }

    /// The report of a watched count: its detector's verdict, the routes whose requests leave
    /// it behind (in its unit) and the route table. `"memory"` is [`Monitor::report`].
    pub fn report_for(&self, series: &str) -> Result<LeakReport, MonitorError> {
        if series == super::MEASURE_MEMORY {
            return self.report();
        }
        let i = self.shared.state()?.counts.index(series)?;
        self.shared.count_report(i, &self.shared.config.attribution)
    }

    /// The latest reading of a watched count (`None` before the first); a count that is not
    /// watched is `invalid_option`.
    pub fn count_value(&self, series: &str) -> Result<Option<f64>, MonitorError> {
        let st = self.shared.state()?;
        let i = st.counts.index(series)?;
        Ok(st.counts.series[i].last.map(|l| l.value))
    }

    /// The counts this monitor watches, by name.
    pub fn counts(&self) -> Vec<&'static str> {
        self.shared
            .state()
            .map(|st| st.counts.series.iter().map(|s| s.def.series).collect())
            .unwrap_or_default()
    }
}

impl Shared {
    pub(super) fn feed_count(
        &self,
        series: &str,
        ts_ms: i64,
        value: f64,
    ) -> Result<Option<AlertEvent>, MonitorError> {
        let mut st = self.state()?;
        let i = st.counts.index(series)?;
        Ok(st.counts.feed(i, Sample { ts_ms, value })?)
    }

    fn count_report(
        &self,
        i: usize,
        attribution: &AttributionConfig,
    ) -> Result<LeakReport, MonitorError> {
        let st = self.state()?;
        let s = &st.counts.series[i];
        let (quantity, analysis, floor) =
            (s.quantity(), s.detector.analysis(), s.detector.troughs());
        drop(st);
        let snapshot = self.tracker.snapshot();
        Ok(LeakReport::build_for(
            quantity,
            analysis,
            &floor,
            &snapshot,
            attribution,
        )?)
    }

    /// [`Shared::transitions`] for the counts. The caller holds the delivery lock.
    pub(super) fn count_transitions(&self) -> Result<(), MonitorError> {
        loop {
            let Some((i, kind, ts_ms)) = self.state()?.counts.awaiting.pop_front() else {
                return Ok(());
            };
            let report = self.count_report(i, &self.config.attribution)?;
            push_event(&mut *self.state()?, Event::new(kind, ts_ms, report));
        }
    }

    /// [`Shared::look_for_suspects`] for each firing count. The caller holds the delivery lock.
    pub(super) fn look_for_count_suspects(&self) -> Result<bool, MonitorError> {
        let n = self.state()?.counts.series.len();
        let mut announced = false;
        for i in 0..n {
            announced |= self.look_for_count_suspects_of(i)?;
        }
        Ok(announced)
    }

    fn look_for_count_suspects_of(&self, i: usize) -> Result<bool, MonitorError> {
        let watch = {
            let st = self.state()?;
            let s = &st.counts.series[i];
            match (&s.suspects, s.last) {
                (Some(w), Some(last)) if w.is_due(last.ts_ms) => w.clone(),
                _ => return Ok(false),
            }
        };
        // Built without the state lock, as for memory.
        let report = self.count_report(i, &SuspectWatch::config(&self.config.attribution))?;
        let mut st = self.state()?;
        let s = &mut st.counts.series[i];
        let Some(last) = s.last.map(|l| l.ts_ms) else {
            return Ok(false);
        };
        if !SuspectWatch::look_in(&mut s.suspects, &watch, last, &report) {
            return Ok(false);
        }
        s.named = report.suspects.clone();
        push_event(&mut st, Event::new(EventKind::Suspects, last, report));
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
