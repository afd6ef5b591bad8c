//! OpenTelemetry export: registers the catalog's process metrics (and the detector's gauges) as
//! observable instruments on an `opentelemetry::metrics::Meter`.
//!
//! Every name, unit, description and instrument kind comes from [`crate::catalog`], so the Rust,
//! Python, Node and Go exports cannot drift. One [`Collector`] is shared by all callbacks and
//! sampled once per collection cycle (the SDK calls each instrument's callback in turn; the
//! first one samples, the others reuse that sample).
//!
//! With the `otlp` feature, [`otlp::install`] runs a standalone OTLP/HTTP exporter for apps that
//! have no OpenTelemetry SDK of their own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::metrics::{AsyncInstrument, Meter};

use crate::catalog::{self, InstrumentKind, Metric, Naming, Runtime};
use crate::collect::{Collector, ContainerMemory};
use crate::error::{CollectError, ErrorCode};
pub use crate::gauges::LeakGauges;

/// Catalog keys [`register_process_metrics`] registers, in registration order.
pub const PROCESS_KEYS: [&str; 6] = [
    "process.memory.usage",
    "process.memory.virtual",
    "process.memory.peak",
    "container.memory.usage",
    "container.memory.oom_kills",
    "memory.limit",
];

/// Catalog keys [`register_leak_gauges`] registers, in registration order.
pub const LEAK_KEYS: [&str; 4] = [
    "memory.baseline",
    "memory.growth_rate",
    "memory.time_to_limit",
    "detector.state",
];

/// Callbacks of one collection cycle run back to back; a sample younger than this is reused
/// instead of read again. Far below any sane export interval (the SDK minimum is seconds).
const CYCLE_REUSE: Duration = Duration::from_millis(200);

/// Errors of the OpenTelemetry export family.
#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    /// A catalog key this module needs is missing (a catalog bug).
    #[error("metric key {key:?} is not in the catalog")]
    UnknownMetric { key: &'static str },
    /// The catalog gives an instrument kind that cannot be observed asynchronously.
    #[error("metric {name:?} has kind {kind:?}, which is not an observable instrument")]
    NotObservable {
        name: &'static str,
        kind: InstrumentKind,
    },
    /// The OTLP endpoint is not an http(s) URL.
    #[error("invalid OTLP endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },
    /// The export interval is zero.
    #[error("invalid export interval: {reason}")]
    InvalidInterval { reason: String },
    /// Opening the process probe failed.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// The OpenTelemetry SDK or exporter failed (build, flush or shutdown).
    #[error("OpenTelemetry export failed: {0}")]
    Export(String),
}

impl OtelError {
    /// The stable code bindings map this error to.
    pub fn code(&self) -> ErrorCode {
        match self {
            OtelError::InvalidEndpoint { .. } | OtelError::InvalidInterval { .. } => {
                ErrorCode::InvalidOption
            }
            OtelError::Collect(e) => e.code(),
            OtelError::Export(_) => ErrorCode::Io,
            OtelError::UnknownMetric { .. } | OtelError::NotObservable { .. } => {
                ErrorCode::Internal
            }
        }
    }
}

/// A caller-provided source of [`LeakGauges`], called at most once per collection cycle.
pub type LeakSource = Arc<dyn Fn() -> LeakGauges + Send + Sync>;

/// What one registration put on the meter; keep it to know the exported names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The catalog entries registered, resolved for the runtime and naming mode.
    pub metrics: Vec<Metric>,
}

impl Registration {
    /// The exported instrument names.
    pub fn names(&self) -> Vec<&'static str> {
        self.metrics.iter().map(|m| m.name).collect()
    }
}

/// A value reused by every callback of one collection cycle.
struct CycleCache<T> {
    read: Box<dyn Fn() -> Option<T> + Send + Sync>,
    last: Mutex<Option<(Instant, Option<T>)>>,
}

impl<T: Copy> CycleCache<T> {
    fn new(read: impl Fn() -> Option<T> + Send + Sync + 'static) -> Self {
        CycleCache {
            read: Box::new(read),
            last: Mutex::new(None),
        }
    }

    /// Reads afresh; the first registered instrument calls this, and the SDK runs callbacks in
    /// registration order, so each cycle samples once.
    fn refresh(&self) -> Option<T> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let v = (self.read)();
        *last = Some((Instant::now(), v));
        v
    }

    /// The value read earlier in this cycle, or a fresh one if it is stale.
    fn get(&self) -> Option<T> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, v)) = *last
            && at.elapsed() < CYCLE_REUSE
        {
            return v;
        }
        let v = (self.read)();
        *last = Some((Instant::now(), v));
        v
    }
}

/// One sample of everything the process instruments export.
#[derive(Debug, Clone, Copy)]
struct ProcessSample {
    rss: u64,
    virt: u64,
    peak: Option<u64>,
    container: ContainerMemory,
    limit: Option<u64>,
}

fn sample(collector: &Mutex<Collector>) -> Option<ProcessSample> {
    let mut c = collector.lock().unwrap_or_else(|p| p.into_inner());
    // A failed read skips this cycle's observations; the export must never panic.
    let snap = c.snapshot().ok()?;
    Some(ProcessSample {
        rss: snap.process.rss_bytes,
        virt: snap.process.virtual_bytes,
        peak: snap.peak_rss,
        container: snap.container,
        limit: snap.limits.effective().map(|(v, _)| v),
    })
}

fn resolve(key: &'static str, runtime: Runtime, naming: Naming) -> Result<Metric, OtelError> {
    catalog::lookup(key, runtime, naming).ok_or(OtelError::UnknownMetric { key })
}

/// Registers one catalog metric whose value is a byte count or count (u64) read from `read`.
fn register_u64(
    meter: &Meter,
    m: &Metric,
    read: impl Fn() -> Option<u64> + Send + Sync + 'static,
) -> Result<(), OtelError> {
    // The gauge and counter builders are distinct types with the same shape.
    macro_rules! observe_u64 {
        ($builder:ident) => {{
            meter
                .$builder(m.name)
                .with_unit(m.unit)
                .with_description(m.description)
                .with_callback(move |o: &dyn AsyncInstrument<u64>| {
                    if let Some(v) = read() {
                        o.observe(v, &[]);
                    }
                })
                .build();
        }};
    }
    match m.kind {
        InstrumentKind::ObservableUpDownCounter => {
            meter
                .i64_observable_up_down_counter(m.name)
                .with_unit(m.unit)
                .with_description(m.description)
                .with_callback(move |o: &dyn AsyncInstrument<i64>| {
                    if let Some(v) = read() {
                        o.observe(i64::try_from(v).unwrap_or(i64::MAX), &[]);
                    }
                })
                .build();
        }
        InstrumentKind::ObservableGauge => observe_u64!(u64_observable_gauge),
        InstrumentKind::ObservableCounter => observe_u64!(u64_observable_counter),
        kind => return Err(OtelError::NotObservable { name: m.name, kind }),
    }
    Ok(())
}

/// Registers the process, container and limit metrics of [`PROCESS_KEYS`] on `meter`, read from
/// the shared `collector` once per collection cycle. `runtime` picks the legacy names (e.g.
/// `process.runtime.python.memory.rss`) when `naming` is [`Naming::Legacy`].
pub fn register_process_metrics(
    meter: &Meter,
    runtime: Runtime,
    naming: Naming,
    collector: Arc<Mutex<Collector>>,
) -> Result<Registration, OtelError> {
    let metrics = PROCESS_KEYS
        .iter()
        .map(|k| resolve(k, runtime, naming))
        .collect::<Result<Vec<_>, _>>()?;
    let cache = Arc::new(CycleCache::new(move || sample(&collector)));
    type Read = fn(&ProcessSample) -> Option<u64>;
    let readers: [Read; 6] = [
        |s| Some(s.rss),
        |s| Some(s.virt),
        |s| s.peak,
        |s| s.container.usage,
        |s| s.container.oom_kill,
        |s| s.limit,
    ];
    for (i, (m, read)) in metrics.iter().zip(readers).enumerate() {
        let cache = Arc::clone(&cache);
        register_u64(meter, m, move || {
            let s = if i == 0 { cache.refresh() } else { cache.get() };
            s.and_then(|s| read(&s))
        })?;
    }
    Ok(Registration { metrics })
}

/// Registers the detector gauges of [`LEAK_KEYS`] on `meter`, read from `source` once per
/// collection cycle (the Monitor passes a closure over its latest analysis).
pub fn register_leak_gauges(
    meter: &Meter,
    naming: Naming,
    source: LeakSource,
) -> Result<Registration, OtelError> {
    let metrics = LEAK_KEYS
        .iter()
        .map(|k| resolve(k, Runtime::Process, naming))
        .collect::<Result<Vec<_>, _>>()?;
    let cache = Arc::new(CycleCache::new(move || Some(source())));
    for (i, m) in metrics.iter().enumerate() {
        if m.kind != InstrumentKind::ObservableGauge {
            return Err(OtelError::NotObservable {
                name: m.name,
                kind: m.kind,
            });
        }
        let cache = Arc::clone(&cache);
        let key = m.key;
        let read = move || {
            let g = if i == 0 { cache.refresh() } else { cache.get() };
            g.and_then(|g| g.value(key))
        };
        let builder = |name| meter.f64_observable_gauge(name);
        if key == "detector.state" {
            // A state is a whole number; exported as an integer gauge.
            meter
                .i64_observable_gauge(m.name)
                .with_unit(m.unit)
                .with_description(m.description)
                .with_callback(move |o: &dyn AsyncInstrument<i64>| {
                    if let Some(v) = read() {
                        o.observe(v as i64, &[]);
                    }
                })
                .build();
        } else {
            builder(m.name)
                .with_unit(m.unit)
                .with_description(m.description)
                .with_callback(move |o: &dyn AsyncInstrument<f64>| {
                    if let Some(v) = read() {
                        o.observe(v, &[]);
                    }
                })
                .build();
        }
    }
    Ok(Registration { metrics })
}

/// Checks an OTLP/HTTP metrics endpoint and returns it ending in `/v1/metrics` (the exporter
/// uses an endpoint set in code verbatim, so a bare `http://host:4318` would post to `/`).
pub fn metrics_endpoint(endpoint: &str) -> Result<String, OtelError> {
    let bad = |reason: &str| OtelError::InvalidEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let rest = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .ok_or_else(|| bad("must start with http:// or https://"))?;
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad("contains whitespace"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if let Some((_, port)) = authority.rsplit_once(':')
        && !authority.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(bad("has an invalid port"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("must not carry a query or fragment"));
    }
    let trimmed = endpoint.trim_end_matches('/');
    if trimmed.ends_with("/v1/metrics") {
        Ok(trimmed.to_string())
    } else {
        Ok(format!("{trimmed}/v1/metrics"))
    }
}

/// Standalone OTLP/HTTP (protobuf) export for apps with no OpenTelemetry SDK.
#[cfg(feature = "otlp")]
pub mod otlp {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_otlp::WithExportConfig;
    use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

    /// A running exporter; call [`OtlpHandle::shutdown`] to flush and stop it.
    pub struct OtlpHandle {
        provider: SdkMeterProvider,
        /// What was registered on the exporter's meter.
        pub registration: Registration,
    }

    impl OtlpHandle {
        /// A meter of the exporter's provider, e.g. for [`register_leak_gauges`].
        pub fn meter(&self) -> Meter {
            self.provider.meter("leaksense")
        }

        /// Exports what is pending now.
        pub fn flush(&self) -> Result<(), OtelError> {
            self.provider
                .force_flush()
                .map_err(|e| OtelError::Export(e.to_string()))
        }

        /// Exports a last time and stops the reader thread.
        pub fn shutdown(self) -> Result<(), OtelError> {
            self.provider
                .shutdown()
                .map_err(|e| OtelError::Export(e.to_string()))
        }
    }

    /// Starts exporting the process metrics to `endpoint` (OTLP/HTTP protobuf; `/v1/metrics`
    /// is appended when missing) every `interval`, on the SDK's own reader thread.
    pub fn install(
        endpoint: &str,
        interval: Duration,
        runtime: Runtime,
        naming: Naming,
    ) -> Result<OtlpHandle, OtelError> {
        let endpoint = metrics_endpoint(endpoint)?;
        if interval.is_zero() {
            return Err(OtelError::InvalidInterval {
                reason: "must be greater than zero".into(),
            });
        }
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_endpoint(endpoint.clone())
            .with_timeout(interval.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| OtelError::InvalidEndpoint {
                endpoint,
                reason: e.to_string(),
            })?;
        let reader = PeriodicReader::builder(exporter)
            .with_interval(interval)
            .build();
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        let collector = Arc::new(Mutex::new(Collector::new()?));
        let registration =
            register_process_metrics(&provider.meter("leaksense"), runtime, naming, collector)?;
        Ok(OtlpHandle {
            provider,
            registration,
        })
    }
}

#[cfg(test)]
mod tests;
