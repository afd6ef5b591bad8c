//! The detector's view as gauges: the numbers every language exports on its OpenTelemetry
//! meter under the catalog's names. Built here once, so the alert-state-to-number mapping and
//! the set of gauges cannot differ between languages.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::detect::{AlertState, Analysis};

/// Catalog keys of the gauges, in the order [`LeakGauges::values`] gives them.
pub const GAUGE_KEYS: [&str; 5] = [
    "memory.limit",
    "memory.baseline",
    "memory.growth_rate",
    "memory.time_to_limit",
    "detector.state",
];

/// What the detector's gauges read now; `None` is "do not observe" (no limit known, no rate
/// while memory is flat, or a non-finite figure).
///
/// Serializes as an object keyed by catalog key (`{"memory.baseline": 5e7, ...}`, `null` where
/// absent), which is what the bindings receive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LeakGauges {
    /// The limit the detector uses, bytes.
    pub limit_bytes: Option<f64>,
    /// Post-GC baseline, bytes.
    pub baseline_bytes: Option<f64>,
    /// Growth rate of the baseline, bytes per second.
    pub growth_rate_bytes_per_sec: Option<f64>,
    /// Seconds until the limit is reached at the current rate (sooner for a rise that
    /// significantly accelerates: the detector's `ttl_accel_sigmas`).
    pub time_to_limit_secs: Option<f64>,
    /// The alert state.
    pub state: AlertState,
}

/// The number an alert state is exported as: 0 inactive, 1 pending, 2 firing.
pub fn state_value(state: AlertState) -> i64 {
    match state {
        AlertState::Inactive => 0,
        AlertState::Pending => 1,
        AlertState::Firing => 2,
    }
}

impl LeakGauges {
    /// The gauges of an analysis.
    pub fn from_analysis(a: &Analysis) -> Self {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        LeakGauges {
            limit_bytes: finite(a.limit),
            baseline_bytes: finite(a.baseline),
            growth_rate_bytes_per_sec: finite(a.rate_per_sec),
            time_to_limit_secs: finite(a.time_to_limit_secs),
            state: a.state,
        }
    }

    /// Every gauge by catalog key, in [`GAUGE_KEYS`] order.
    pub fn values(&self) -> [(&'static str, Option<f64>); 5] {
        let v = [
            self.limit_bytes,
            self.baseline_bytes,
            self.growth_rate_bytes_per_sec,
            self.time_to_limit_secs,
            Some(state_value(self.state) as f64),
        ];
        std::array::from_fn(|i| (GAUGE_KEYS[i], v[i]))
    }

    /// One gauge by catalog key (`None` for an unknown key or an absent value).
    pub fn value(&self, key: &str) -> Option<f64> {
        self.values()
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v)
    }
}

impl Serialize for LeakGauges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(GAUGE_KEYS.len()))?;
        for (k, v) in self.values() {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

/// Everything a monitor exports as gauges: the memory detector's ([`LeakGauges`]) and each
/// watched count's latest reading, under the count's catalog key (`None` until it is read).
///
/// Serializes as one object keyed by catalog key, the [`GAUGE_KEYS`] first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorGauges {
    /// The memory detector's gauges.
    pub leak: LeakGauges,
    /// Each watched count's catalog key and latest reading.
    pub counts: Vec<(&'static str, Option<f64>)>,
}

impl MonitorGauges {
    /// Every gauge by catalog key: [`GAUGE_KEYS`] in order, then the counts.
    pub fn values(&self) -> Vec<(&'static str, Option<f64>)> {
        let mut v = self.leak.values().to_vec();
        v.extend(self.counts.iter().copied());
        v
    }

    /// One gauge by catalog key (`None` for an unknown key or an absent value).
    pub fn value(&self, key: &str) -> Option<f64> {
        self.values()
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v)
    }
}

impl Serialize for MonitorGauges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let values = self.values();
        let mut map = s.serialize_map(Some(values.len()))?;
        for (k, v) in values {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, InstrumentKind, Naming, Runtime};
    use crate::detect::Verdict;

    #[test]
    fn gauges_of_an_analysis_by_catalog_key() {
        let a = Analysis {
            verdict: Verdict::Leak,
            state: AlertState::Pending,
            growth_start_ms: None,
            growth_stop_ms: None,
            not_a_leak_because: None,
            rate_per_sec: Some(12.5),
            rate_low: None,
            rate_high: None,
            time_to_limit_secs: Some(f64::INFINITY),
            limit: Some(1e9),
            baseline: Some(5e7),
            samples: 3,
            events: vec![],
        };
        let g = LeakGauges::from_analysis(&a);
        assert_eq!(g.value("memory.baseline"), Some(5e7));
        assert_eq!(g.value("memory.time_to_limit"), None, "not finite");
        assert_eq!(g.value("detector.state"), Some(1.0));
        assert_eq!(g.value("nope"), None);
        let json = serde_json::to_value(g).unwrap();
        assert_eq!(json["memory.limit"], 1e9);
        assert_eq!(json["memory.growth_rate"], 12.5);
        assert!(json["memory.time_to_limit"].is_null());
        assert_eq!(json.as_object().unwrap().len(), GAUGE_KEYS.len());
        let states = [
            AlertState::Inactive,
            AlertState::Pending,
            AlertState::Firing,
        ];
        assert_eq!(states.map(state_value), [0, 1, 2]);
        // Every gauge is an observable gauge of the catalog, for every runtime's exporter.
        for key in GAUGE_KEYS {
            let m = catalog::lookup(key, Runtime::Process, Naming::Semconv).unwrap();
            assert_eq!(m.kind, InstrumentKind::ObservableGauge, "{key}");
        }
        let all = MonitorGauges {
            leak: g,
            counts: vec![
                ("process.open_fds", Some(12.0)),
                ("go.goroutine.count", None),
            ],
        };
        let json = serde_json::to_value(&all).unwrap();
        assert_eq!(json["process.open_fds"], 12.0);
        assert!(json["go.goroutine.count"].is_null());
        assert_eq!(json["memory.baseline"], 5e7);
        assert_eq!(json.as_object().unwrap().len(), GAUGE_KEYS.len() + 2);
        assert_eq!(all.value("process.open_fds"), Some(12.0));
        assert_eq!(all.values()[0].0, GAUGE_KEYS[0]);
    }
}
