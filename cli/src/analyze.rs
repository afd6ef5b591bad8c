//! `leaksense analyze`: replays each series through the core's streaming detector, sample by
//! sample as a live process would see them, and keeps every alert state change.

use leaksense_core::detect::{AlertEvent, AlertState, Analysis, Detector, DetectorConfig, Verdict};
use leaksense_core::report::LeakReport;
use leaksense_core::{InputError, Sample};

use crate::prometheus::Labels;

/// A request-rate series shared by the series it is fed to (the traffic covariate).
pub type Traffic = std::sync::Arc<Vec<Sample>>;

/// Most points a chart of one series keeps (pairs of bucket minimum and maximum).
pub const CHART_POINTS: usize = 800;

/// The result for one series.
#[derive(Debug, Clone)]
pub struct SeriesReport {
    /// The series name (`name{labels}`) or `None` for single-series files.
    pub name: Option<String>,
    /// The series' labels, when it came from Prometheus.
    pub labels: Option<Labels>,
    /// First and last sample time (unix ms).
    pub first_ms: i64,
    pub last_ms: i64,
    /// The detector's final analysis.
    pub analysis: Analysis,
    /// Every alert state change, oldest first (the analysis keeps only the newest few).
    pub events: Vec<AlertEvent>,
    /// What a chart of a flagged series needs; `None` for the others (memory stays bounded).
    pub chart: Option<Chart>,
    /// The report with suspect routes, when request counts were given and the series leaks.
    pub report: Option<LeakReport>,
}

/// The samples of a flagged series, thinned to at most [`CHART_POINTS`], and its floor.
#[derive(Debug, Clone)]
pub struct Chart {
    pub samples: Vec<Sample>,
    pub floor: Vec<Sample>,
}

impl SeriesReport {
    /// Whether the report flags this series: it leaks now, or its alert fired during the
    /// range (a leak that follows traffic can resolve overnight and still be a leak).
    pub fn flagged(&self) -> bool {
        self.analysis.verdict == Verdict::Leak
            || self.events.iter().any(|e| e.to == AlertState::Firing)
    }
}

/// Replays `samples` (non-empty) through a new detector. On bad input, the index of the
/// offending sample and the error.
pub fn replay(
    name: Option<String>,
    samples: &[Sample],
    traffic: Option<Traffic>,
    cfg: &DetectorConfig,
) -> Result<(SeriesReport, Vec<Sample>), (usize, InputError)> {
    let mut live = Live::new(name, cfg, traffic).map_err(|e| (0, e))?;
    for (i, sample) in samples.iter().enumerate() {
        live.push(*sample).map_err(|e| (i, e))?;
    }
    Ok(live.finish())
}

/// A series being replayed sample by sample: its detector and what the report keeps, all of
/// bounded size however long the series.
pub struct Live {
    name: Option<String>,
    detector: Detector,
    /// The request rate fed alongside (the traffic covariate), and how much of it was fed.
    traffic: Option<(Traffic, usize)>,
    events: Vec<AlertEvent>,
    chart: Thinner,
    first_ms: Option<i64>,
    last_ms: i64,
}

impl Live {
    /// A new series with its own detector, fed `traffic` (validated request rates, in time
    /// order) as the covariate.
    pub fn new(
        name: Option<String>,
        cfg: &DetectorConfig,
        traffic: Option<Traffic>,
    ) -> Result<Live, InputError> {
        Ok(Live {
            name,
            detector: Detector::new(cfg.clone())?,
            traffic: traffic.map(|t| (t, 0)),
            events: Vec::new(),
            chart: Thinner::new(CHART_POINTS),
            first_ms: None,
            last_ms: 0,
        })
    }

    /// Feeds the next sample, after the request rates up to its time.
    pub fn push(&mut self, s: Sample) -> Result<(), InputError> {
        if let Some((traffic, next)) = &mut self.traffic {
            while let Some(r) = traffic.get(*next).filter(|r| r.ts_ms <= s.ts_ms) {
                self.detector.observe_traffic(*r)?;
                *next += 1;
            }
        }
        if let Some(e) = self.detector.update(s)? {
            self.events.push(e);
        }
        self.first_ms.get_or_insert(s.ts_ms);
        self.last_ms = s.ts_ms;
        self.chart.push(s);
        Ok(())
    }

    /// The report of the series (a chart only when flagged) and its post-GC floor.
    pub fn finish(self) -> (SeriesReport, Vec<Sample>) {
        let floor = self.detector.floor();
        let mut report = SeriesReport {
            first_ms: self.first_ms.unwrap_or(self.last_ms),
            last_ms: self.last_ms,
            name: self.name,
            labels: None,
            analysis: self.detector.analysis(),
            events: self.events,
            chart: None,
            report: None,
        };
        if report.flagged() {
            report.chart = Some(Chart {
                samples: self.chart.finish(),
                floor: floor.clone(),
            });
        }
        (report, floor)
    }
}

/// Streaming decimation to at most `max` points: the minimum and maximum of equal buckets of
/// consecutive samples, in time order, so a GC sawtooth keeps its troughs and peaks. When the
/// buckets fill up, neighbours merge and buckets double in size.
pub struct Thinner {
    /// Most buckets kept (each gives at most two points).
    buckets: usize,
    /// Samples per bucket.
    per: usize,
    done: Vec<(Sample, Sample)>,
    current: Option<(Sample, Sample, usize)>,
}

impl Thinner {
    /// A thinner keeping at most `max` points (at least 2).
    pub fn new(max: usize) -> Thinner {
        Thinner {
            buckets: (max / 2).max(1),
            per: 1,
            done: Vec::new(),
            current: None,
        }
    }

    /// Adds the next sample (in time order).
    pub fn push(&mut self, s: Sample) {
        let (lo, hi, n) = match self.current.take() {
            None => (s, s, 1),
            Some((lo, hi, n)) => (
                if s.value < lo.value { s } else { lo },
                if s.value > hi.value { s } else { hi },
                n + 1,
            ),
        };
        if n < self.per {
            self.current = Some((lo, hi, n));
            return;
        }
        self.done.push((lo, hi));
        if self.done.len() == self.buckets {
            self.done = self
                .done
                .chunks(2)
                .map(|c| match c {
                    [a, b] => (
                        if b.0.value < a.0.value { b.0 } else { a.0 },
                        if b.1.value > a.1.value { b.1 } else { a.1 },
                    ),
                    [a] => *a,
                    _ => unreachable!("chunks(2) yields one or two"),
                })
                .collect();
            self.per *= 2;
        }
    }

    /// The kept points, in time order.
    pub fn finish(mut self) -> Vec<Sample> {
        if let Some((lo, hi, _)) = self.current.take() {
            self.done.push((lo, hi));
        }
        let mut out = Vec::with_capacity(self.done.len() * 2);
        for (lo, hi) in self.done {
            let (a, b) = if lo.ts_ms <= hi.ts_ms {
                (lo, hi)
            } else {
                (hi, lo)
            };
            out.push(a);
            if b.ts_ms != a.ts_ms {
                out.push(b);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thin(s: &[Sample], max: usize) -> Vec<Sample> {
        let mut t = Thinner::new(max);
        for x in s {
            t.push(*x);
        }
        t.finish()
    }

    #[test]
    fn thinning_keeps_troughs_and_peaks_in_order() {
        let s: Vec<Sample> = (0..10_000)
            .map(|i| Sample {
                ts_ms: i * 15_000,
                value: (i % 40) as f64,
            })
            .collect();
        let t = thin(&s, 100);
        assert!(t.len() <= 100);
        assert!(t.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
        assert_eq!(t.iter().map(|x| x.value).fold(f64::INFINITY, f64::min), 0.0);
        assert_eq!(t.iter().map(|x| x.value).fold(0.0, f64::max), 39.0);
        assert_eq!(thin(&s[..49], 100), s[..49].to_vec());
        assert_eq!(thin(&s[..1], 2), s[..1].to_vec());
    }
}
