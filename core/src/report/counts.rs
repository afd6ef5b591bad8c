//! The watched counts (goroutines, descriptors, handles, threads) as lines of a report: each
//! count's latest reading, its detector's verdict and rate, and the routes its own `suspects`
//! event named. A count's full report, with its route table, is the one its events carry.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{Quantity, Suspect};
use crate::detect::{AlertState, Analysis, Verdict};
use crate::format::{self, share};

/// One watched count in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CountLine {
    /// The count (`goroutines`, `open_fds`, `active_resources`, `threads`): the `measure` of
    /// its events.
    pub series: String,
    /// Its unit as OpenTelemetry writes it (`{goroutine}`, `{file_descriptor}`, ...).
    pub unit: String,
    /// The latest reading.
    pub value: f64,
    /// When it was read (unix ms).
    pub ts_ms: i64,
    /// The count detector's verdict.
    pub verdict: Verdict,
    /// Its alert state (each count alerts on its own).
    pub state: AlertState,
    /// The count's floor: what is left at its quietest moments.
    pub baseline: Option<f64>,
    /// Growth rate of the floor, per second.
    pub rate_per_sec: Option<f64>,
    /// When the floor began to rise (unix ms).
    pub growth_start_ms: Option<i64>,
    /// The count's limit, when it has one (`open_fds`: the soft `RLIMIT_NOFILE`).
    pub limit: Option<f64>,
    /// Seconds until the floor reaches the limit at the current rate (sooner for a rise that
    /// significantly accelerates: the detector's `ttl_accel_sigmas`).
    pub time_to_limit_secs: Option<f64>,
    /// The routes the count's `suspects` event named (empty before it, and once the alert
    /// resolves); `retained_bytes_per_request` is in the count's unit.
    pub suspects: Vec<Suspect>,
}

impl CountLine {
    /// The line of a count read as `value` at `ts_ms`, judged by `analysis`.
    pub fn new(
        quantity: &Quantity,
        value: f64,
        ts_ms: i64,
        analysis: &Analysis,
        suspects: Vec<Suspect>,
    ) -> CountLine {
        CountLine {
            series: quantity.series.clone(),
            unit: quantity.unit.clone(),
            value,
            ts_ms,
            verdict: analysis.verdict,
            state: analysis.state,
            baseline: analysis.baseline,
            rate_per_sec: analysis.rate_per_sec,
            growth_start_ms: analysis.growth_start_ms,
            limit: analysis.limit,
            time_to_limit_secs: analysis.time_to_limit_secs,
            suspects,
        }
    }

    fn quantity(&self) -> Quantity {
        Quantity {
            series: self.series.clone(),
            unit: self.unit.clone(),
        }
    }
}

/// The `counts` section of a report's text (nothing when there are none).
pub(super) fn render(lines: &[CountLine], s: &mut String) {
    if lines.is_empty() {
        return;
    }
    s.push_str("\ncounts\n");
    let w = lines.iter().map(|l| l.series.len()).max().unwrap_or(0);
    for l in lines {
        let q = l.quantity();
        let _ = write!(
            s,
            "  {:<w$}  {}  {} (alert {})",
            l.series,
            q.amount(l.value),
            format::verdict(l.verdict),
            format::state(l.state)
        );
        if l.verdict == Verdict::Leak
            && let Some(r) = l.rate_per_sec
        {
            let _ = write!(s, ", rising {}", q.rate(r));
        }
        if let (Some(t), Some(limit)) = (l.time_to_limit_secs, l.limit) {
            let _ = write!(s, ", limit {} in {}", q.amount(limit), format::duration(t));
        }
        s.push('\n');
        for x in &l.suspects {
            let _ = writeln!(
                s,
                "    {} leaves {} per request [{} .. {}], {} of growth",
                x.route,
                q.amount(x.retained_bytes_per_request),
                q.amount(x.interval[0]),
                q.amount(x.interval[1]),
                share(x.share)
            );
        }
    }
}
