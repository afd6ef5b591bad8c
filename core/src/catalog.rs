//! The one table of every metric leaksense emits. Bindings read it (through their native module)
//! when they register instruments on the host's MeterProvider, so names, units and descriptions
//! cannot drift between languages.
//!
//! Names follow the current OpenTelemetry semantic conventions (`process.*`, `v8js.*`, `go.*`,
//! `cpython.*`). What the conventions do not cover lives under `leaksense.*`. The legacy naming
//! mode gives the older `process.runtime.<lang>.*` names that the original article and many
//! dashboards use.

use serde::{Deserialize, Serialize};

/// The kind of OpenTelemetry instrument a metric is registered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    /// Monotonic sum, observed asynchronously.
    ObservableCounter,
    /// Non-monotonic sum, observed asynchronously.
    ObservableUpDownCounter,
    /// Point-in-time value, observed asynchronously.
    ObservableGauge,
    /// Distribution of values recorded synchronously.
    Histogram,
}

/// Which runtime, if any, a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// Process-level metrics every runtime emits (read by the core).
    Process,
    /// Node.js / V8.
    #[serde(alias = "nodejs")]
    Node,
    /// CPython.
    Python,
    /// Go.
    Go,
}

impl Runtime {
    /// Parses `process`, `node`, `python` or `go`.
    pub fn parse(s: &str) -> Option<Runtime> {
        match s {
            "process" => Some(Runtime::Process),
            "node" | "nodejs" => Some(Runtime::Node),
            "python" => Some(Runtime::Python),
            "go" => Some(Runtime::Go),
            _ => None,
        }
    }

    /// The canonical name, which [`Runtime::parse`] accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Process => "process",
            Runtime::Node => "node",
            Runtime::Python => "python",
            Runtime::Go => "go",
        }
    }
}

/// Which set of metric names to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// Current OpenTelemetry semantic conventions.
    #[default]
    Semconv,
    /// The older `process.runtime.<lang>.*` names, for existing dashboards and alert rules.
    Legacy,
}

impl Naming {
    /// Parses `semconv` or `legacy`.
    pub fn parse(s: &str) -> Option<Naming> {
        match s {
            "semconv" => Some(Naming::Semconv),
            "legacy" => Some(Naming::Legacy),
            _ => None,
        }
    }

    /// The canonical name, which [`Naming::parse`] accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Naming::Semconv => "semconv",
            Naming::Legacy => "legacy",
        }
    }
}

/// A legacy name that replaces the semconv one for a given runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyName {
    pub runtime: Runtime,
    pub name: &'static str,
    pub attributes: &'static [&'static str],
}

/// One row of the catalog, as defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// Stable key the bindings use to find a metric, whatever the naming mode.
    pub key: &'static str,
    /// The runtime that emits it.
    pub runtime: Runtime,
    /// The semantic-convention (or `leaksense.*`) name.
    pub name: &'static str,
    pub kind: InstrumentKind,
    /// UCUM unit, as OpenTelemetry uses (`By`, `s`, `{goroutine}`).
    pub unit: &'static str,
    pub description: &'static str,
    /// Attribute keys the metric carries.
    pub attributes: &'static [&'static str],
    /// Replacement names in legacy mode, per runtime.
    pub legacy: &'static [LegacyName],
    /// Whether the metric is only collected in a binding's opt-in deep mode (O(heap) cost).
    pub deep: bool,
}

/// A catalog entry resolved for one runtime and naming mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Metric {
    pub key: &'static str,
    pub name: &'static str,
    pub kind: InstrumentKind,
    pub unit: &'static str,
    pub description: &'static str,
    pub attributes: &'static [&'static str],
    pub deep: bool,
}

/// Span attribute: bytes the request allocated (net growth of the measure over the request).
pub const SPAN_ALLOCATED_BYTES: &str = "memory.allocated_bytes";
/// Span attribute: process RSS growth over the request.
pub const SPAN_RSS_DELTA_BYTES: &str = "leaksense.memory.rss_delta_bytes";

const SPACE: &[&str] = &["v8js.heap.space.name"];
const GEN: &[&str] = &["cpython.gc.generation"];
const NONE: &[&str] = &[];

const fn legacy(runtime: Runtime, name: &'static str) -> LegacyName {
    LegacyName {
        runtime,
        name,
        attributes: NONE,
    }
}

const fn def(
    key: &'static str,
    runtime: Runtime,
    name: &'static str,
    kind: InstrumentKind,
    unit: &'static str,
    description: &'static str,
) -> MetricDef {
    MetricDef {
        key,
        runtime,
        name,
        kind,
        unit,
        description,
        attributes: NONE,
        legacy: &[],
        deep: false,
    }
}

use InstrumentKind::ObservableUpDownCounter as UpDown;
use InstrumentKind::{Histogram, ObservableCounter as Counter, ObservableGauge as Gauge};
use Runtime::{Go, Node, Process, Python};

/// Every metric leaksense can emit.
pub static CATALOG: &[MetricDef] = &[
    // Process, read by the core from procfs (or sysinfo elsewhere).
    MetricDef {
        legacy: &[
            legacy(Node, "process.runtime.nodejs.memory.rss"),
            legacy(Python, "process.runtime.python.memory.rss"),
            legacy(Go, "process.runtime.go.memory.rss"),
        ],
        ..def(
            "process.memory.usage",
            Process,
            "process.memory.usage",
            UpDown,
            "By",
            "The amount of physical memory in use.",
        )
    },
    def(
        "process.memory.virtual",
        Process,
        "process.memory.virtual",
        UpDown,
        "By",
        "The amount of committed virtual memory.",
    ),
    def(
        "process.memory.peak",
        Process,
        "leaksense.process.memory.peak",
        Gauge,
        "By",
        "Peak resident set size of the process (VmHWM).",
    ),
    def(
        "container.memory.usage",
        Process,
        "leaksense.container.memory.usage",
        Gauge,
        "By",
        "Memory charged to the process's cgroup (memory.current or memory.usage_in_bytes).",
    ),
    def(
        "container.memory.oom_kills",
        Process,
        "leaksense.container.memory.oom_kills",
        Counter,
        "{event}",
        "Processes in the cgroup killed by the OOM killer (memory.events oom_kill).",
    ),
    // Counted by the core at the sampling interval (Linux: /proc/self/fd).
    def(
        "process.open_fds",
        Process,
        "process.unix.file_descriptor.count",
        UpDown,
        "{file_descriptor}",
        "Number of unix file descriptors in use by the process.",
    ),
    // leaksense's own view of the leak.
    def(
        "memory.limit",
        Process,
        "leaksense.memory.limit",
        Gauge,
        "By",
        "Effective memory limit: the smallest of the cgroup limit, the runtime limit and host memory.",
    ),
    def(
        "memory.baseline",
        Process,
        "leaksense.memory.baseline",
        Gauge,
        "By",
        "Memory left after the last full garbage collection: the floor of the sawtooth.",
    ),
    def(
        "memory.growth_rate",
        Process,
        "leaksense.memory.growth_rate",
        Gauge,
        "By/s",
        "Estimated growth rate of the post-GC baseline.",
    ),
    def(
        "memory.time_to_limit",
        Process,
        "leaksense.memory.time_to_limit",
        Gauge,
        "s",
        "Estimated time until the effective memory limit is reached at the current growth rate.",
    ),
    def(
        "detector.state",
        Process,
        "leaksense.detector.state",
        Gauge,
        "1",
        "Leak detector alert state: 0 inactive, 1 pending, 2 firing.",
    ),
    // V8 (Node.js).
    MetricDef {
        attributes: SPACE,
        legacy: &[LegacyName {
            runtime: Node,
            name: "process.runtime.nodejs.memory.heap_space.used",
            attributes: &["nodejs.heap_space.name"],
        }],
        ..def(
            "v8js.heap.space.used",
            Node,
            "v8js.memory.heap.used",
            UpDown,
            "By",
            "Heap Memory size allocated.",
        )
    },
    MetricDef {
        attributes: SPACE,
        ..def(
            "v8js.heap.space.limit",
            Node,
            "v8js.memory.heap.limit",
            UpDown,
            "By",
            "Total heap memory size pre-allocated.",
        )
    },
    MetricDef {
        attributes: SPACE,
        ..def(
            "v8js.heap.space.available",
            Node,
            "v8js.memory.heap.space.available_size",
            UpDown,
            "By",
            "Heap space available size.",
        )
    },
    MetricDef {
        attributes: SPACE,
        ..def(
            "v8js.heap.space.physical",
            Node,
            "v8js.memory.heap.space.physical_size",
            UpDown,
            "By",
            "Committed size of a heap space.",
        )
    },
    MetricDef {
        attributes: &["v8js.gc.type"],
        ..def(
            "v8js.gc.duration",
            Node,
            "v8js.gc.duration",
            Histogram,
            "s",
            "Garbage collection duration.",
        )
    },
    MetricDef {
        legacy: &[legacy(Node, "process.runtime.nodejs.memory.heap_used")],
        ..def(
            "v8js.heap.used",
            Node,
            "leaksense.v8js.heap.used",
            Gauge,
            "By",
            "Used V8 heap across all spaces.",
        )
    },
    MetricDef {
        legacy: &[legacy(Node, "process.runtime.nodejs.memory.heap_total")],
        ..def(
            "v8js.heap.total",
            Node,
            "leaksense.v8js.heap.total",
            Gauge,
            "By",
            "Total size of the V8 heap across all spaces.",
        )
    },
    def(
        "v8js.heap.limit",
        Node,
        "leaksense.v8js.heap.limit",
        Gauge,
        "By",
        "V8 heap size limit (heap_size_limit).",
    ),
    MetricDef {
        legacy: &[legacy(Node, "process.runtime.nodejs.memory.external")],
        ..def(
            "v8js.external",
            Node,
            "leaksense.v8js.memory.external",
            Gauge,
            "By",
            "Memory used by C++ objects bound to JavaScript objects.",
        )
    },
    def(
        "v8js.array_buffers",
        Node,
        "leaksense.v8js.memory.array_buffers",
        Gauge,
        "By",
        "Memory allocated for ArrayBuffers and SharedArrayBuffers.",
    ),
    def(
        "nodejs.active_resources",
        Node,
        "leaksense.nodejs.active_resources",
        Gauge,
        "{resource}",
        "Handles, requests and timers keeping the event loop alive (process.getActiveResourcesInfo()).",
    ),
    // CPython.
    MetricDef {
        attributes: GEN,
        legacy: &[LegacyName {
            runtime: Python,
            name: "process.runtime.python.gc.collections",
            attributes: &["gc.generation"],
        }],
        ..def(
            "cpython.gc.collections",
            Python,
            "cpython.gc.collections",
            Counter,
            "{collection}",
            "The number of times a generation was collected since interpreter start.",
        )
    },
    MetricDef {
        attributes: GEN,
        ..def(
            "cpython.gc.collected_objects",
            Python,
            "cpython.gc.collected_objects",
            Counter,
            "{object}",
            "The total number of objects collected inside a generation since interpreter start.",
        )
    },
    MetricDef {
        attributes: GEN,
        ..def(
            "cpython.gc.uncollectable_objects",
            Python,
            "cpython.gc.uncollectable_objects",
            Counter,
            "{object}",
            "The total number of objects which were found to be uncollectable inside a generation since interpreter start.",
        )
    },
    MetricDef {
        attributes: GEN,
        ..def(
            "cpython.gc.pending",
            Python,
            "leaksense.cpython.gc.pending_objects",
            Gauge,
            "{object}",
            "Allocations minus deallocations since the generation was last collected (gc.get_count()).",
        )
    },
    def(
        "cpython.threads",
        Python,
        "leaksense.cpython.thread.count",
        Gauge,
        "{thread}",
        "Python threads alive (threading.active_count()).",
    ),
    // Deep: in CPython 3.11 sys.getallocatedblocks() walks every memory pool (its cost grows
    // with the heap: about 80 µs at 1M objects), so it is not for a default scrape.
    MetricDef {
        deep: true,
        ..def(
            "cpython.allocated_blocks",
            Python,
            "leaksense.cpython.memory.allocated_blocks",
            Gauge,
            "{block}",
            "Memory blocks currently allocated by the interpreter (sys.getallocatedblocks()).",
        )
    },
    MetricDef {
        legacy: &[legacy(Python, "process.runtime.python.gc.objects")],
        deep: true,
        ..def(
            "cpython.gc.objects",
            Python,
            "leaksense.cpython.gc.objects",
            Gauge,
            "{object}",
            "Objects tracked by the garbage collector (deep mode: walks the heap).",
        )
    },
    MetricDef {
        attributes: &["python.object_type"],
        legacy: &[LegacyName {
            runtime: Python,
            name: "process.runtime.python.gc.objects.by_type",
            attributes: &["python.object_type"],
        }],
        deep: true,
        ..def(
            "cpython.gc.objects.by_type",
            Python,
            "leaksense.cpython.gc.objects.by_type",
            Gauge,
            "{object}",
            "Tracked objects of the ten most common types (deep mode: walks the heap).",
        )
    },
    // Go, from runtime/metrics (never runtime.ReadMemStats by default).
    MetricDef {
        attributes: &["go.memory.type"],
        ..def(
            "go.memory.used",
            Go,
            "go.memory.used",
            UpDown,
            "By",
            "Memory used by the Go runtime.",
        )
    },
    def(
        "go.memory.limit",
        Go,
        "go.memory.limit",
        UpDown,
        "By",
        "Go runtime memory limit configured by the user, if a limit exists.",
    ),
    def(
        "go.memory.allocated",
        Go,
        "go.memory.allocated",
        Counter,
        "By",
        "Memory allocated to the heap by the application.",
    ),
    def(
        "go.memory.allocations",
        Go,
        "go.memory.allocations",
        Counter,
        "{allocation}",
        "Count of allocations to the heap by the application.",
    ),
    def(
        "go.memory.gc.goal",
        Go,
        "go.memory.gc.goal",
        UpDown,
        "By",
        "Heap size target for the end of the GC cycle.",
    ),
    MetricDef {
        legacy: &[legacy(Go, "process.runtime.go.goroutines")],
        ..def(
            "go.goroutine.count",
            Go,
            "go.goroutine.count",
            UpDown,
            "{goroutine}",
            "Count of live goroutines.",
        )
    },
    def(
        "go.config.gogc",
        Go,
        "go.config.gogc",
        UpDown,
        "%",
        "Heap size target percentage configured by the user, otherwise 100.",
    ),
    MetricDef {
        legacy: &[legacy(Go, "process.runtime.go.memory.heap_alloc")],
        ..def(
            "go.heap.objects_bytes",
            Go,
            "leaksense.go.memory.heap.objects",
            Gauge,
            "By",
            "Bytes of allocated heap objects (/gc/heap/objects:bytes).",
        )
    },
    MetricDef {
        legacy: &[legacy(Go, "process.runtime.go.memory.heap_objects")],
        ..def(
            "go.heap.objects_count",
            Go,
            "leaksense.go.memory.heap.object_count",
            Gauge,
            "{object}",
            "Number of allocated heap objects (/gc/heap/objects:objects).",
        )
    },
    MetricDef {
        legacy: &[legacy(Go, "process.runtime.go.memory.heap_inuse")],
        ..def(
            "go.heap.in_use",
            Go,
            "leaksense.go.memory.heap.in_use",
            Gauge,
            "By",
            "Bytes in heap spans that hold at least one object (objects plus unused slots).",
        )
    },
    def(
        "go.heap.live",
        Go,
        "leaksense.go.memory.heap.live",
        Gauge,
        "By",
        "Heap bytes marked live by the previous GC (/gc/heap/live:bytes): the post-GC floor.",
    ),
    def(
        "go.heap.free",
        Go,
        "leaksense.go.memory.heap.free",
        Gauge,
        "By",
        "Free heap memory not yet returned to the OS (/memory/classes/heap/free:bytes).",
    ),
    def(
        "go.heap.released",
        Go,
        "leaksense.go.memory.heap.released",
        Gauge,
        "By",
        "Free heap memory returned to the OS (/memory/classes/heap/released:bytes).",
    ),
    MetricDef {
        legacy: &[legacy(Go, "process.runtime.go.gc.count")],
        ..def(
            "go.gc.cycles",
            Go,
            "leaksense.go.gc.cycles",
            Counter,
            "{gc_cycle}",
            "Completed GC cycles (/gc/cycles/total:gc-cycles).",
        )
    },
];

impl MetricDef {
    /// This entry under the given naming mode, as emitted by `runtime`.
    pub fn resolve(&self, runtime: Runtime, naming: Naming) -> Metric {
        let legacy = match naming {
            Naming::Legacy => self.legacy.iter().find(|l| l.runtime == runtime),
            Naming::Semconv => None,
        };
        Metric {
            key: self.key,
            name: legacy.map_or(self.name, |l| l.name),
            kind: self.kind,
            unit: self.unit,
            description: self.description,
            attributes: legacy.map_or(self.attributes, |l| l.attributes),
            deep: self.deep,
        }
    }
}

/// The metrics a process running `runtime` emits: the process-level ones plus the runtime's own.
pub fn metrics(runtime: Runtime, naming: Naming) -> impl Iterator<Item = Metric> {
    CATALOG
        .iter()
        .filter(move |d| d.runtime == Runtime::Process || d.runtime == runtime)
        .map(move |d| d.resolve(runtime, naming))
}

/// Looks one metric up by its stable key.
pub fn lookup(key: &str, runtime: Runtime, naming: Naming) -> Option<Metric> {
    CATALOG
        .iter()
        .find(|d| d.key == key)
        .map(|d| d.resolve(runtime, naming))
}

/// Whether `name` satisfies OpenTelemetry's instrument-name syntax:
/// an ASCII letter, then up to 254 of `[A-Za-z0-9_.\-/]`.
pub fn is_valid_instrument_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const RUNTIMES: [Runtime; 4] = [
        Runtime::Process,
        Runtime::Node,
        Runtime::Python,
        Runtime::Go,
    ];
    const NAMINGS: [Naming; 2] = [Naming::Semconv, Naming::Legacy];

    #[test]
    fn every_name_follows_the_instrument_name_rules() {
        for d in CATALOG {
            assert!(is_valid_instrument_name(d.name), "{}", d.name);
            for l in d.legacy {
                assert!(is_valid_instrument_name(l.name), "{}", l.name);
            }
        }
        assert!(!is_valid_instrument_name(""));
        assert!(!is_valid_instrument_name("1abc"));
        assert!(!is_valid_instrument_name("a b"));
        assert!(!is_valid_instrument_name(&"a".repeat(256)));
        assert!(is_valid_instrument_name(&"a".repeat(255)));
    }

    #[test]
    fn names_and_keys_are_unique_within_each_mode() {
        for runtime in RUNTIMES {
            for naming in NAMINGS {
                let all: Vec<_> = metrics(runtime, naming).collect();
                let names: HashSet<_> = all.iter().map(|m| m.name).collect();
                let keys: HashSet<_> = all.iter().map(|m| m.key).collect();
                assert_eq!(names.len(), all.len(), "{runtime:?} {naming:?}");
                assert_eq!(keys.len(), all.len(), "{runtime:?} {naming:?}");
            }
        }
        let keys: HashSet<_> = CATALOG.iter().map(|d| d.key).collect();
        assert_eq!(keys.len(), CATALOG.len());
    }

    #[test]
    fn units_descriptions_and_legacy_owners_are_sound() {
        for d in CATALOG {
            assert!(!d.unit.is_empty() && !d.description.is_empty(), "{}", d.key);
            for l in d.legacy {
                assert!(
                    d.runtime == Runtime::Process || l.runtime == d.runtime,
                    "{}",
                    d.key
                );
                assert!(l.name.starts_with("process.runtime."), "{}", l.name);
            }
            if d.kind == InstrumentKind::Histogram {
                assert_eq!(d.unit, "s");
            }
        }
    }

    #[test]
    fn semconv_and_legacy_names_resolve_per_runtime() {
        let rss = |r| {
            lookup("process.memory.usage", r, Naming::Legacy)
                .unwrap()
                .name
        };
        assert_eq!(rss(Runtime::Node), "process.runtime.nodejs.memory.rss");
        assert_eq!(rss(Runtime::Python), "process.runtime.python.memory.rss");
        assert_eq!(rss(Runtime::Process), "process.memory.usage");
        assert_eq!(
            lookup("process.memory.usage", Runtime::Node, Naming::Semconv)
                .unwrap()
                .name,
            "process.memory.usage"
        );
        let names = |r, n| metrics(r, n).map(|m| m.name).collect::<HashSet<_>>();
        let node_legacy = names(Runtime::Node, Naming::Legacy);
        for article in [
            "process.runtime.nodejs.memory.heap_used",
            "process.runtime.nodejs.memory.heap_total",
            "process.runtime.nodejs.memory.external",
            "process.runtime.nodejs.memory.heap_space.used",
        ] {
            assert!(node_legacy.contains(article), "{article}");
        }
        let go_legacy = names(Runtime::Go, Naming::Legacy);
        for article in [
            "process.runtime.go.memory.heap_alloc",
            "process.runtime.go.memory.heap_inuse",
            "process.runtime.go.memory.heap_objects",
            "process.runtime.go.goroutines",
        ] {
            assert!(go_legacy.contains(article), "{article}");
        }
        let py = names(Runtime::Python, Naming::Semconv);
        for semconv in [
            "cpython.gc.collections",
            "cpython.gc.collected_objects",
            "cpython.gc.uncollectable_objects",
        ] {
            assert!(py.contains(semconv));
        }
        assert!(
            !py.iter()
                .any(|n| n.starts_with("v8js") || n.starts_with("go."))
        );
        let heap = lookup("v8js.heap.space.used", Runtime::Node, Naming::Legacy).unwrap();
        assert_eq!(heap.attributes, &["nodejs.heap_space.name"]);
        assert_eq!(lookup("nope", Runtime::Node, Naming::Semconv), None);
    }

    #[test]
    fn parsers_accept_known_words_only() {
        assert_eq!(Runtime::parse("node"), Some(Runtime::Node));
        assert_eq!(Runtime::parse("ruby"), None);
        assert_eq!(Naming::parse("legacy"), Some(Naming::Legacy));
        assert_eq!(Naming::parse("LEGACY"), None);
        for r in [
            Runtime::Process,
            Runtime::Node,
            Runtime::Python,
            Runtime::Go,
        ] {
            assert_eq!(Runtime::parse(r.as_str()), Some(r));
        }
        for n in [Naming::Semconv, Naming::Legacy] {
            assert_eq!(Naming::parse(n.as_str()), Some(n));
        }
    }
}
