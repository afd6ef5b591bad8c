//! `leaksense rules`: Prometheus alerting rules over the metrics leaksense emits, with metric
//! names read from the core catalog, and a promtool unit-test file that proves them on a
//! healthy GC sawtooth (must stay silent) and a leak (must fire).

mod names;
mod promtool;

use std::fmt::Write as _;

use leaksense_core::catalog::{Naming, Runtime, lookup};

pub use names::{label_name, prometheus_name};
pub use promtool::tests_yaml;

/// What the generated rules watch and how.
#[derive(Debug, Clone)]
pub struct RulesSpec {
    /// The runtime whose metrics are used.
    pub runtime: Runtime,
    /// Semconv or legacy metric names.
    pub naming: Naming,
    /// How long a condition must hold before the alert fires (seconds).
    pub for_secs: u64,
    /// Restricts every selector to this `job`.
    pub job: Option<String>,
    /// The window `min_over_time` takes the post-GC floor over (seconds); must be longer than
    /// the longest GC cycle.
    pub floor_window_secs: u64,
    /// How far ahead `predict_linear` projects the floor toward the limit (seconds).
    pub horizon_secs: u64,
}

/// Minimum floor growth the rules call a leak, as a fraction of the floor per hour.
pub const MIN_GROWTH_PER_HOUR: f64 = 0.01;
/// Minimum count growth per hour (and fraction of the count floor) for a count leak.
pub const MIN_COUNT_GROWTH_PER_HOUR: f64 = 5.0;
/// Fraction of the count floor per hour for a count leak.
pub const MIN_COUNT_GROWTH_RATIO: f64 = 0.02;

/// A memory signal: a selector, or a sum over one attribute of it.
#[derive(Debug, Clone)]
pub(crate) struct Signal {
    /// Prometheus metric name.
    pub metric: String,
    /// A label summed away (e.g. `go_memory_type`), making the signal an expression.
    pub sum_without: Option<String>,
    /// What it is, for annotations.
    pub what: &'static str,
}

/// The metrics the rules of one runtime use.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    /// Floor-growth signal (the runtime's heap, or RSS).
    pub floor: Signal,
    /// Runtime memory and its limit (V8 heap limit, GOMEMLIMIT), when the runtime has one.
    pub runtime_limit: Option<(Signal, String)>,
    /// Process RSS and leaksense's effective memory limit.
    pub rss: Signal,
    pub memory_limit: String,
    /// A count that leaks (goroutines, allocated blocks), with the alert name.
    pub count: Option<(Signal, &'static str)>,
    /// leaksense's own detector state gauge.
    pub detector_state: String,
}

fn metric(key: &str, spec: &RulesSpec) -> String {
    let m = lookup(key, spec.runtime, spec.naming)
        .unwrap_or_else(|| panic!("catalog key {key} exists"));
    prometheus_name(&m)
}

fn plain(key: &str, spec: &RulesSpec, what: &'static str) -> Signal {
    Signal {
        metric: metric(key, spec),
        sum_without: None,
        what,
    }
}

pub(crate) fn metrics(spec: &RulesSpec) -> Metrics {
    let rss = plain("process.memory.usage", spec, "resident memory (RSS)");
    let (floor, runtime_limit, count) = match spec.runtime {
        Runtime::Node => (
            plain("v8js.heap.used", spec, "V8 heap"),
            Some((
                plain("v8js.heap.used", spec, "V8 heap"),
                metric("v8js.heap.limit", spec),
            )),
            None,
        ),
        Runtime::Go => (
            plain("go.heap.objects_bytes", spec, "Go heap"),
            Some((
                Signal {
                    metric: metric("go.memory.used", spec),
                    sum_without: Some(label_name("go.memory.type")),
                    what: "Go runtime memory",
                },
                metric("go.memory.limit", spec),
            )),
            Some((
                plain("go.goroutine.count", spec, "goroutine count"),
                "LeakSenseGoroutineLeak",
            )),
        ),
        Runtime::Python => (
            rss.clone(),
            None,
            Some((
                plain(
                    "cpython.allocated_blocks",
                    spec,
                    "count of blocks the interpreter holds",
                ),
                "LeakSenseObjectLeak",
            )),
        ),
        Runtime::Process => (rss.clone(), None, None),
    };
    Metrics {
        floor,
        runtime_limit,
        rss,
        memory_limit: metric("memory.limit", spec),
        count,
        detector_state: metric("detector.state", spec),
    }
}

/// One alerting rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub alert: &'static str,
    pub expr: String,
    pub for_secs: u64,
    pub severity: &'static str,
    pub summary: String,
    pub description: String,
}

/// A Prometheus duration (`1h30m`, `45s`) of whole seconds.
pub fn fmt_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            let _ = write!(out, "{}{unit}", rest / size);
            rest %= size;
        }
    }
    out
}

/// Parses a Prometheus duration (`30m`, `1h30m`, `90s`, `2d`) into whole seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not a duration such as 30m, 1h30m or 90s");
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            "ms"
        } else {
            match c {
                's' => "s",
                'm' => "m",
                'h' => "h",
                'd' => "d",
                'w' => "w",
                'y' => "y",
                _ => return Err(bad()),
            }
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let secs = match unit {
            "ms" if n.is_multiple_of(1000) => n / 1000,
            "ms" => return Err(format!("{s:?}: use whole seconds")),
            "s" => n,
            "m" => n.checked_mul(60).ok_or_else(bad)?,
            "h" => n.checked_mul(3_600).ok_or_else(bad)?,
            "d" => n.checked_mul(86_400).ok_or_else(bad)?,
            "w" => n.checked_mul(604_800).ok_or_else(bad)?,
            _ => n.checked_mul(31_536_000).ok_or_else(bad)?,
        };
        total = total.checked_add(secs).ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    Ok(total)
}

/// A PromQL (and YAML/JSON) double-quoted string.
pub(crate) fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

impl RulesSpec {
    /// Checks the options the rules and tests depend on.
    pub fn validate(&self) -> Result<(), String> {
        if self.floor_window_secs < 120 {
            return Err("--floor-window must be at least 2m (and longer than a GC cycle)".into());
        }
        if self.floor_window_secs > 3600 {
            return Err("--floor-window must be at most 1h (the growth windows are 1h)".into());
        }
        if self.horizon_secs < 60 || self.horizon_secs > 30 * 86_400 {
            return Err("--horizon must be between 1m and 30d".into());
        }
        if self.for_secs > 86_400 {
            return Err("--for must be at most 1d".into());
        }
        if self.job.as_deref().is_some_and(str::is_empty) {
            return Err("--job must not be empty".into());
        }
        Ok(())
    }

    fn selector(&self, metric: &str) -> String {
        match &self.job {
            Some(job) => format!("{metric}{{job={}}}", quoted(job)),
            None => metric.to_string(),
        }
    }

    /// `signal` over a range window: a range selector for a plain metric, a subquery for a sum.
    fn range(&self, s: &Signal, window: &str) -> String {
        match &s.sum_without {
            None => format!("{}[{window}]", self.selector(&s.metric)),
            Some(label) => format!(
                "(sum without ({label}) ({}))[{window}:1m]",
                self.selector(&s.metric)
            ),
        }
    }

    /// Growth of the post-GC floor in each of the last two hours, relative to the floor.
    fn floor_growth_expr(&self, s: &Signal, min_per_hour: &str) -> String {
        let fw = fmt_duration(self.floor_window_secs);
        let floor = format!("min_over_time({})", self.range(s, &fw));
        let level = format!("min_over_time({})", self.range(s, "2h"));
        let threshold = min_per_hour.replace("FLOOR", &level);
        format!(
            "deriv({floor}[1h:1m]) * 3600 > {threshold}\nand\nderiv({floor}[1h:1m] offset 1h) * 3600 > {threshold}\n"
        )
    }

    /// The projected peak (floor projected `horizon` ahead plus today's sawtooth amplitude)
    /// above the limit, matched on job and instance only.
    fn limit_expr(&self, s: &Signal, limit: &str) -> String {
        let fw = fmt_duration(self.floor_window_secs);
        let r = self.range(s, &fw);
        format!(
            "predict_linear(min_over_time({r})[2h:1m], {h})\n  + (max_over_time({r}) - min_over_time({r}))\n> on (job, instance) group_left ()\n  max by (job, instance) ({})\n",
            self.selector(limit),
            h = self.horizon_secs,
        )
    }

    pub(crate) fn rules(&self) -> Vec<Rule> {
        let m = metrics(self);
        let fw = fmt_duration(self.floor_window_secs);
        let horizon = fmt_duration(self.horizon_secs);
        let who = "{{ $labels.instance }} ({{ $labels.job }})";
        let mut rules = vec![Rule {
            alert: "LeakSenseMemoryFloorGrowing",
            expr: self.floor_growth_expr(&m.floor, &format!("{MIN_GROWTH_PER_HOUR} * FLOOR")),
            for_secs: self.for_secs,
            severity: "warning",
            summary: format!("{who}: the {} left after GC keeps growing", m.floor.what),
            description: format!(
                "The post-GC floor of the {} ({}, minimum over {fw}) grew by more than {}% of \
                 itself per hour in each of the last two hours. A GC sawtooth, a warm-up that \
                 has plateaued or a one-off step do not do that; a leak does.",
                m.floor.what,
                m.floor.metric,
                MIN_GROWTH_PER_HOUR * 100.0
            ),
        }];
        if let Some((s, limit)) = &m.runtime_limit {
            rules.push(Rule {
                alert: "LeakSenseRuntimeLimitSoon",
                expr: self.limit_expr(s, limit),
                for_secs: self.for_secs,
                severity: "critical",
                summary: format!(
                    "{who}: the {} will reach its limit within {horizon}",
                    s.what
                ),
                description: format!(
                    "The trend of the post-GC floor of {} over 2 h, projected {horizon} ahead, \
                     plus the current GC sawtooth amplitude, exceeds {limit}.",
                    s.metric
                ),
            });
        }
        rules.push(Rule {
            alert: "LeakSenseMemoryLimitSoon",
            expr: self.limit_expr(&m.rss, &m.memory_limit),
            for_secs: self.for_secs,
            severity: "critical",
            summary: format!("{who}: memory will reach the limit within {horizon} (OOM risk)"),
            description: format!(
                "The trend of the post-GC floor of {} over 2 h, projected {horizon} ahead, plus \
                 the current sawtooth amplitude, exceeds the effective memory limit {} (the \
                 smallest of the container, runtime and host limits).",
                m.rss.metric, m.memory_limit
            ),
        });
        if let Some((s, alert)) = &m.count {
            rules.push(Rule {
                alert,
                expr: self.floor_growth_expr(
                    s,
                    &format!(
                        "clamp_min({MIN_COUNT_GROWTH_RATIO} * FLOOR, {MIN_COUNT_GROWTH_PER_HOUR})"
                    ),
                ),
                for_secs: self.for_secs,
                severity: "warning",
                summary: format!("{who}: the {} keeps growing", s.what),
                description: format!(
                    "The floor of {} (minimum over {fw}) grew by more than {}% of itself and at \
                     least {} per hour in each of the last two hours.",
                    s.metric,
                    MIN_COUNT_GROWTH_RATIO * 100.0,
                    MIN_COUNT_GROWTH_PER_HOUR
                ),
            });
        }
        rules.push(Rule {
            alert: "LeakSenseDetectorFiring",
            expr: format!(
                "max by (job, instance) ({}) >= 2\n",
                self.selector(&m.detector_state)
            ),
            // The in-process detector already applies its own `for`.
            for_secs: 0,
            severity: "warning",
            summary: format!("{who}: leaksense's detector reports a leak"),
            description: format!(
                "{} is 2 (firing): the detector in the process found sustained growth of the \
                 post-GC baseline. Its report names the routes that retain memory.",
                m.detector_state
            ),
        });
        rules
    }

    /// The rule group name.
    pub fn group_name(&self) -> String {
        format!("leaksense-{}", self.runtime.as_str())
    }

    /// The rules file (Prometheus YAML).
    pub fn rules_yaml(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# Generated by `leaksense rules --runtime {} --naming {}`: metric names from the \
             leaksense catalog,\n# as the OpenTelemetry Prometheus exporters name them.",
            self.runtime.as_str(),
            self.naming.as_str()
        );
        o.push_str("groups:\n");
        let _ = writeln!(o, "  - name: {}", self.group_name());
        o.push_str("    rules:\n");
        for r in self.rules() {
            let _ = writeln!(o, "      - alert: {}", r.alert);
            o.push_str("        expr: |\n");
            for line in r.expr.lines() {
                let _ = writeln!(o, "          {line}");
            }
            if r.for_secs > 0 {
                let _ = writeln!(o, "        for: {}", fmt_duration(r.for_secs));
            }
            o.push_str("        labels:\n");
            let _ = writeln!(o, "          severity: {}", r.severity);
            o.push_str("        annotations:\n");
            let _ = writeln!(o, "          summary: {}", quoted(&r.summary));
            let _ = writeln!(o, "          description: {}", quoted(&r.description));
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_like_prometheus() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2000ms"), Ok(2));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("0s"), Ok(0));
        for bad in [
            "",
            "30",
            "m",
            "1x",
            "1.5h",
            "-1h",
            "1500ms",
            "99999999999999999999y",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(fmt_duration(5400), "1h30m");
        assert_eq!(fmt_duration(90_061), "1d1h1m1s");
        assert_eq!(fmt_duration(0), "0s");
    }

    fn spec(runtime: Runtime) -> RulesSpec {
        RulesSpec {
            runtime,
            naming: Naming::Semconv,
            for_secs: 1800,
            job: None,
            floor_window_secs: 900,
            horizon_secs: 4 * 3600,
        }
    }

    #[test]
    fn limits_match_on_job_and_instance_only() {
        let yaml = spec(Runtime::Node).rules_yaml();
        assert!(
            yaml.contains("> on (job, instance) group_left ()"),
            "{yaml}"
        );
        assert!(yaml.contains("max by (job, instance) (leaksense_memory_limit_bytes)"));
        assert!(yaml.contains("max by (job, instance) (leaksense_v8js_heap_limit_bytes)"));
        assert!(yaml.contains("deriv(min_over_time(leaksense_v8js_heap_used_bytes[15m])[1h:1m])"));
    }

    #[test]
    fn job_is_quoted_in_every_selector() {
        let mut s = spec(Runtime::Go);
        s.job = Some("api\"x\\".into());
        let yaml = s.rules_yaml();
        let quoted_job = r#"{job="api\"x\\"}"#;
        for metric in [
            "go_goroutine_count",
            "go_memory_used_bytes",
            "go_memory_limit_bytes",
            "leaksense_go_memory_heap_objects_bytes",
            "process_memory_usage_bytes",
            "leaksense_memory_limit_bytes",
            "leaksense_detector_state_ratio",
        ] {
            assert!(
                yaml.contains(&format!("{metric}{quoted_job}")),
                "{metric}: {yaml}"
            );
        }
    }

    #[test]
    fn bad_options_are_refused() {
        let mut s = spec(Runtime::Process);
        s.floor_window_secs = 60;
        assert!(s.validate().is_err());
        let mut s = spec(Runtime::Process);
        s.horizon_secs = 1;
        assert!(s.validate().is_err());
        let mut s = spec(Runtime::Process);
        s.job = Some(String::new());
        assert!(s.validate().is_err());
        let mut s = spec(Runtime::Process);
        s.for_secs = 86_401;
        assert!(s.validate().is_err());
        assert!(spec(Runtime::Process).validate().is_ok());
    }
}
