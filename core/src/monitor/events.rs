//! What a monitor tells its listeners: [`Event`]s of kind `leak`, `suspects` and `resolved`,
//! each with the report the core built for it, delivered the same way in every language; and
//! [`ReplayStep`], recorded data fed at injected times (replays, the shared test vector).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::detect::{AlertEvent, AlertState};
use crate::report::LeakReport;

/// Events kept until a binding polls them; the oldest are dropped first. Each holds a report,
/// and a firing or its resolution takes at least the detector's `min_for_secs`, so 64 is
/// hours of flapping between two polls.
pub const EVENT_QUEUE_CAPACITY: usize = 64;

/// The memory series' name in events. An event's `measure` is a string, not an enum, in every
/// language, since the watched counts are named by the same word (`goroutines`, `open_fds`,
/// `active_resources`, `threads`; see [`COUNTS`](super::COUNTS)).
pub const MEASURE_MEMORY: &str = "memory";

/// The kinds of [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The leak alert went to firing.
    Leak,
    /// While the alert fires, the monitor is sure of its suspect routes
    /// ([`SuspectWatch`](crate::report::SuspectWatch): intervals 5× stricter in α and the same
    /// top suspect in 3 looks in a row); the event carries the report that named them. At most
    /// once per firing, often later than the firing: the model names a route only once the
    /// traffic mix tells routes apart.
    Suspects,
    /// The alert left firing (the condition no longer holds, or the process restarted).
    Resolved,
}

impl EventKind {
    /// The kind an alert transition is delivered as, if any: the pending and inactive steps
    /// stay in the report's `events`.
    pub fn of(e: &AlertEvent) -> Option<EventKind> {
        match (e.from, e.to) {
            (_, AlertState::Firing) => Some(EventKind::Leak),
            (AlertState::Firing, _) => Some(EventKind::Resolved),
            _ => None,
        }
    }
}

/// One event of a monitor, with the report the core built for it (outside its state lock,
/// right after the sample that caused it, or at the next poll).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Timestamp (unix ms) of the sample that caused it.
    pub ts_ms: i64,
    /// The watched series: `"memory"`, or a count (`"goroutines"`, `"open_fds"`,
    /// `"active_resources"`, `"threads"`), each alerting on its own.
    pub measure: String,
    /// The report for this event. For `suspects`, the report that named them (a report built
    /// later may differ: a route near the model's significance bar can drop out and come back).
    pub report: LeakReport,
    /// `report` as text, for logs.
    pub report_text: String,
}

impl Event {
    /// An event of `kind` at `ts_ms` about the series of `report` (memory or a count).
    pub fn new(kind: EventKind, ts_ms: i64, report: LeakReport) -> Event {
        Event {
            kind,
            ts_ms,
            measure: report.quantity.series.clone(),
            report_text: report.render_text(),
            report,
        }
    }
}

/// Most requests one replay step may end on one route (the replay ends them one by one).
pub const MAX_REPLAY_REQUESTS: u64 = 1_000_000;

/// One step of recorded data for [`Monitor::replay`](super::Monitor::replay): requests ended
/// and a post-GC heap reading, all at `ts_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayStep {
    /// When (unix ms); steps move forward in time.
    pub ts_ms: i64,
    /// Requests ended at `ts_ms`, by route: how many (at most 1,000,000 per route). They carry
    /// no runtime measures (zeros); set `rss_per_request` off for a reproducible replay.
    #[serde(default)]
    pub requests: BTreeMap<String, u64>,
    /// The heap left after GC at `ts_ms`, fed after the requests as `observe_baseline` does.
    #[serde(default)]
    pub baseline: Option<f64>,
    /// Readings of watched counts at `ts_ms` (`{"open_fds": 42}`), fed after the baseline as
    /// `observe_count` does.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, f64>,
}
