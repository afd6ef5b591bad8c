//! The one formatter for what people read: bytes (IEC units), counts, rates, durations, times,
//! shares, confidence levels, verdicts, alert states and why a rise is not a leak. The report's text, the CLI's text and
//! its HTML page all print through these, so one figure reads the same everywhere.

use crate::detect::{AlertState, NoLeakReason, SeriesKind, Verdict};

/// Significant digits of every quantity: enough to compare two figures, few enough to read.
const DIGITS: i32 = 4;

/// `v` rounded to [`DIGITS`] significant digits, printed without trailing zeros.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let scale = 10f64.powi(DIGITS - 1 - v.abs().log10().floor() as i32);
    format!("{}", (v * scale).round() / scale)
}

/// Bytes with a binary (IEC) unit, keeping the sign: `512 B`, `1.235 KiB`, `305.2 MiB`.
pub fn bytes(v: f64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (1_099_511_627_776.0, "TiB"),
        (1_073_741_824.0, "GiB"),
        (1_048_576.0, "MiB"),
        (1024.0, "KiB"),
    ];
    for (scale, unit) in UNITS {
        if v.abs() >= scale {
            return format!("{} {unit}", significant(v / scale));
        }
    }
    format!("{} B", significant(v))
}

/// A value of a series of `kind`: bytes for a heap, a plain number for a count.
pub fn quantity(kind: SeriesKind, v: f64) -> String {
    match kind {
        SeriesKind::Heap => bytes(v),
        SeriesKind::Count => significant(v),
    }
}

/// An amount in an OpenTelemetry unit: IEC bytes for `By`; for a count's annotation, the count
/// with its unit's name (`{file_descriptor}` reads `file descriptor`), plural unless the number
/// reads 1: `1 goroutine`, `0.5 goroutines`, `5776 file descriptors`; any other unit as given.
pub fn amount(unit: &str, v: f64) -> String {
    if unit == crate::report::BYTES {
        return bytes(v);
    }
    let number = significant(v);
    let Some(word) = unit.strip_prefix('{').and_then(|u| u.strip_suffix('}')) else {
        return format!("{number} {unit}");
    };
    let word = word.replace('_', " ");
    if number == "1" || number == "-1" {
        format!("{number} {word}")
    } else {
        format!("{number} {}", plural(&word))
    }
}

/// The English plural of a unit's name (its last word): `threads`, `file descriptors`,
/// `boxes`, `entries`. Unit names are nouns the catalog chose, so the regular rules suffice.
fn plural(word: &str) -> String {
    let ends = |s: &str| word.ends_with(s);
    let consonant_y = word.len() >= 2
        && ends("y")
        && !matches!(
            word.as_bytes()[word.len() - 2],
            b'a' | b'e' | b'i' | b'o' | b'u'
        );
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|s| ends(s)) {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// A growth rate given per second, shown per hour (a leak's bytes per second are tiny numbers):
/// `12.5 MiB/h`, or `40/h` for a count.
pub fn rate(kind: SeriesKind, per_sec: f64) -> String {
    format!("{}/h", quantity(kind, per_sec * 3600.0))
}

/// Seconds as `42s`, `5m 3s`, `1h 2m` or `3d 4h 5m`.
pub fn duration(secs: f64) -> String {
    let s = secs.round() as i64;
    let sign = if s < 0 { "-" } else { "" };
    let s = s.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sign}{s}s"),
        (0, 0, _) => format!("{sign}{m}m {}s", s % 60),
        (0, _, _) => format!("{sign}{h}h {m}m"),
        _ => format!("{sign}{d}d {h}h {m}m"),
    }
}

/// Unix milliseconds as RFC 3339 UTC, `2026-11-25T06:34:56Z`, with a fraction only when the
/// time has one (`…:01.5Z`). Civil-from-days is Howard Hinnant's algorithm.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let fraction = if frac == 0 {
        String::new()
    } else {
        format!(".{frac:03}").trim_end_matches('0').to_string()
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A confidence level as a percentage: `95%`, `99%`, `99.8%`.
pub fn percent(level: f64) -> String {
    let p = format!("{:.1}", level * 100.0);
    format!("{}%", p.strip_suffix(".0").unwrap_or(&p))
}

/// A fraction as a whole percentage: `42%`.
pub fn share(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

/// A relative change as a signed whole percentage: `+40%`, `-5%`.
pub fn change(fraction: f64) -> String {
    format!("{:+.0}%", fraction * 100.0)
}

/// The detector's verdict in words.
pub fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Leak => "LEAK",
        Verdict::Healthy => "healthy",
        Verdict::Insufficient => "insufficient data",
    }
}

/// Why a rising floor is not a leak, in words.
pub fn not_a_leak(r: NoLeakReason) -> &'static str {
    match r {
        NoLeakReason::TooShort => "the rise is too young to judge (min_growth_secs)",
        NoLeakReason::LevelledOff => "the rise has levelled off",
        NoLeakReason::WarmUp => {
            "the rise is shaped like a warm-up (slowing down, flattening or one step)"
        }
        NoLeakReason::TooSmall => "the rise is too small to matter, and the limit far away",
        NoLeakReason::Noise => "the rise is within the floor's noise",
        NoLeakReason::ExplainedByLoad => "the traffic explains the rise",
        NoLeakReason::DailyCycle => "yesterday's floor rose as much over the same hours",
        NoLeakReason::NoCollectionYet => {
            "no garbage collection seen yet (a slow GC's first ramp looks like a leak)"
        }
        NoLeakReason::NotJudgedYet => "the rise is new since the last judgement; judged next",
    }
}

/// An alert state in words (its JSON name).
pub fn state(s: AlertState) -> &'static str {
    match s {
        AlertState::Inactive => "inactive",
        AlertState::Pending => "pending",
        AlertState::Firing => "firing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_their_unit_plural_unless_one() {
        assert_eq!(amount("{goroutine}", 1.0), "1 goroutine");
        assert_eq!(amount("{goroutine}", 0.0), "0 goroutines");
        assert_eq!(amount("{goroutine}", 0.98765), "0.9877 goroutines");
        assert_eq!(amount("{goroutine}", -1.0), "-1 goroutine");
        assert_eq!(amount("{file_descriptor}", 5776.0), "5776 file descriptors");
        assert_eq!(amount("{file_descriptor}", 1.00001), "1 file descriptor");
        for (unit, many) in [
            ("{thread}", "threads"),
            ("{resource}", "resources"),
            ("{handle}", "handles"),
            ("{fd}", "fds"),
            ("{object}", "objects"),
            ("{block}", "blocks"),
            ("{allocation}", "allocations"),
            ("{gc_cycle}", "gc cycles"),
            ("{collection}", "collections"),
            ("{box}", "boxes"),
            ("{entry}", "entries"),
            ("{key}", "keys"),
        ] {
            assert_eq!(amount(unit, 2.0), format!("2 {many}"), "{unit}");
        }
        assert_eq!(amount("By", 53_657.6), "52.4 KiB");
        assert_eq!(amount("ms", 2.0), "2 ms", "a UCUM unit is not a noun");
    }

    #[test]
    fn bytes_use_iec_units_and_four_digits() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(0.0), "0 B");
        assert_eq!(bytes(-2048.0), "-2 KiB");
        assert_eq!(bytes(1264.0), "1.234 KiB");
        assert_eq!(bytes(3.5 * 1024.0 * 1024.0), "3.5 MiB");
        assert_eq!(bytes(3.2e8), "305.2 MiB");
        assert_eq!(bytes(2e9), "1.863 GiB");
        assert_eq!(bytes(3.0 * 1_099_511_627_776.0), "3 TiB");
        assert_eq!(quantity(SeriesKind::Count, 0.012345), "0.01235");
        assert_eq!(quantity(SeriesKind::Heap, 1024.0), "1 KiB");
        assert_eq!(rate(SeriesKind::Heap, 1024.0 / 3600.0), "1 KiB/h");
        assert_eq!(rate(SeriesKind::Count, 0.5), "1800/h");
        assert_eq!(bytes(f64::NAN), "NaN B");
    }

    #[test]
    fn durations_times_and_words() {
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(303.0), "5m 3s");
        assert_eq!(duration(90.0 * 60.0), "1h 30m");
        assert_eq!(duration(3725.0), "1h 2m");
        assert_eq!(duration(90061.0), "1d 1h 1m");
        assert_eq!(duration(3.0 * 86400.0), "3d 0h 0m");
        assert_eq!(duration(-90.0), "-1m 30s");
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_500), "1970-01-01T00:00:01.5Z");
        assert_eq!(utc(1_001), "1970-01-01T00:00:01.001Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(utc(1_764_052_496_000), "2025-11-25T06:34:56Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(percent(0.95), "95%");
        assert_eq!(percent(0.998), "99.8%");
        assert_eq!(share(0.424), "42%");
        assert_eq!(change(0.4), "+40%");
        assert_eq!(verdict(Verdict::Insufficient), "insufficient data");
        assert_eq!(state(AlertState::Firing), "firing");
    }
}
