//! Options as JSON objects, parsed once here for every language: the user's object is laid
//! over the defaults (objects merge key by key, anything else replaces), then read into the
//! typed options, refusing unknown keys. Bindings and the CLI pass their users' objects through
//! unchanged, so a field added to an options type needs no binding code.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::detect::{self, Analysis, DetectorConfig, SeriesKind};
use crate::error::InputError;
use crate::series::{Sample, samples_from_secs};

/// `json` as a JSON object; anything else is `invalid_option` on `what`.
pub fn object(what: &'static str, json: &str) -> Result<Map<String, Value>, InputError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| InputError::invalid_option(what, format!("not JSON: {e}")))?;
    into_object(what, value)
}

/// `value` as a JSON object (`null` is the empty object); anything else is `invalid_option`.
pub fn into_object(what: &'static str, value: Value) -> Result<Map<String, Value>, InputError> {
    match value {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(InputError::invalid_option(
            what,
            format!("must be a JSON object, got {other}"),
        )),
    }
}

/// Lays `over` onto `base`: objects merge key by key, recursively; any other value replaces.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// `defaults` with `user` laid over them, read back as `T`. Keys `T` does not know are
/// `invalid_option`, named, with the known ones listed, even where serde would ignore them
/// (flattened fields).
pub fn over_defaults<T: Serialize + DeserializeOwned>(
    what: &'static str,
    defaults: &T,
    user: Map<String, Value>,
) -> Result<T, InputError> {
    let mut merged = to_value(what, defaults)?;
    let known: Vec<String> = merged
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(unknown) = user.keys().find(|k| !known.contains(k)) {
        return Err(InputError::invalid_option(
            what,
            format!("unknown option `{unknown}` (known: {})", known.join(", ")),
        ));
    }
    merge(&mut merged, Value::Object(user));
    serde_json::from_value(merged).map_err(|e| InputError::invalid_option(what, e.to_string()))
}

fn to_value<T: Serialize>(what: &'static str, v: &T) -> Result<Value, InputError> {
    serde_json::to_value(v).map_err(|e| InputError::invalid_option(what, e.to_string()))
}

/// The series kind an options object asks for (`kind`, default heap), which picks the defaults
/// the rest is laid over.
pub fn kind_of(fields: &Map<String, Value>) -> Result<SeriesKind, InputError> {
    match fields.get("kind") {
        None | Some(Value::Null) => Ok(SeriesKind::default()),
        Some(Value::String(k)) => k.parse(),
        Some(other) => Err(InputError::invalid_option(
            "kind",
            format!("must be a string, got {other}"),
        )),
    }
}

/// The largest limit a one-shot analysis takes (1 EB).
pub const MAX_LIMIT: f64 = 1e18;

/// Options of a one-shot analysis (`analyze` in every language, `leaksense analyze`): one flat
/// JSON object of `kind`, `limit` and every other detector option. A field left out takes the
/// default of the series' kind.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnalyzeOptions {
    /// The detector's options, `kind` and `limit` among them.
    #[serde(flatten)]
    pub detector: DetectorConfig,
}

impl AnalyzeOptions {
    /// The defaults for a series of `kind`.
    pub fn defaults(kind: SeriesKind) -> Self {
        AnalyzeOptions {
            detector: DetectorConfig::for_kind(kind),
        }
    }

    /// Parses a JSON object of options (empty or `null`: all defaults); unknown keys and bad
    /// values are `invalid_option`.
    pub fn from_json(json: &str) -> Result<Self, InputError> {
        let json = if json.trim().is_empty() { "{}" } else { json };
        Self::from_object(object("options", json)?)
    }

    /// [`AnalyzeOptions::from_json`] of an already parsed object.
    pub fn from_object(fields: Map<String, Value>) -> Result<Self, InputError> {
        let defaults = Self::defaults(kind_of(&fields)?);
        let opts = over_defaults("options", &defaults, fields)?;
        opts.detector.validate()?;
        // A limit the user types is a byte or count figure: below 1 or beyond 1 EB it is a
        // typo (1e-320 printed as "NaN B", 1e30 as a date millions of years away).
        if let Some(l) = opts.detector.limit
            && !(1.0..=MAX_LIMIT).contains(&l)
        {
            return Err(InputError::invalid_option(
                "limit",
                format!("{l:e} is not within [1, 1e18] (1 byte to 1 EB)"),
            ));
        }
        Ok(opts)
    }

    /// Replays `samples` through a fresh detector with these options: its final analysis.
    pub fn analyze(&self, samples: &[Sample]) -> Result<Analysis, InputError> {
        detect::analyze(samples, &self.detector)
    }
}

/// The one-shot analysis every binding calls: the series in unix seconds and the options as
/// one JSON object ([`AnalyzeOptions`]), passed through from the user unchanged.
pub fn analyze_secs(
    timestamps: &[f64],
    values: &[f64],
    options_json: &str,
) -> Result<Analysis, InputError> {
    let opts = AnalyzeOptions::from_json(options_json)?;
    opts.analyze(&samples_from_secs(timestamps, values)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn merging_lays_objects_key_by_key() {
        let mut base = json!({"a": 1, "d": {"x": 1, "y": 2}, "l": [1, 2]});
        merge(&mut base, json!({"d": {"y": 3}, "l": [9], "n": null}));
        assert_eq!(
            base,
            json!({"a": 1, "d": {"x": 1, "y": 3}, "l": [9], "n": null})
        );
    }

    #[test]
    fn analyze_options_take_the_kind_defaults_under_the_given_fields() {
        let d = AnalyzeOptions::from_json("").unwrap().detector;
        assert_eq!(d, DetectorConfig::default());
        let c = AnalyzeOptions::from_json(r#"{"kind": "count", "limit": 5, "for_secs": 60}"#)
            .unwrap()
            .detector;
        let count = DetectorConfig::for_kind(SeriesKind::Count);
        assert_eq!(c.kind, SeriesKind::Count);
        assert_eq!(c.limit, Some(5.0));
        assert_eq!(c.for_secs, 60.0);
        assert_eq!(c.min_rise_ratio, count.min_rise_ratio, "the count default");
        assert_ne!(c.min_rise_ratio, DetectorConfig::default().min_rise_ratio);
        assert_eq!(
            AnalyzeOptions::from_json("null").unwrap().detector.kind,
            SeriesKind::Heap
        );
    }

    #[test]
    fn bad_analyze_options_are_invalid_option() {
        for bad in [
            "[]",
            "5",
            "not json",
            r#"{"bogus": 1}"#,
            r#"{"kind": 3}"#,
            r#"{"kind": "gauge"}"#,
            r#"{"limit": -1}"#,
            r#"{"limit": "big"}"#,
            r#"{"for_secs": -5}"#,
            r#"{"confidence": 2}"#,
            r#"{"limit": 1e-320}"#,
            r#"{"limit": 0.5}"#,
            r#"{"limit": 1e30}"#,
        ] {
            let e = AnalyzeOptions::from_json(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOption, "{bad}");
        }
        let series = analyze_secs(&[1.0, 2.0], &[5.0, 6.0], r#"{"kind": "count"}"#).unwrap();
        assert_eq!(series.samples, 2);
        let e = analyze_secs(&[1.0], &[5.0], r#"{"limit": 0}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption);
        let e = analyze_secs(&[2.0, 1.0], &[5.0, 6.0], "{}").unwrap_err();
        assert_eq!(e.code(), ErrorCode::OutOfOrder);
        let e = analyze_secs(&[], &[], "{}").unwrap_err();
        assert_eq!(e.code(), ErrorCode::EmptyInput);
        let e = AnalyzeOptions::from_json(r#"{"limit": 1e-320}"#).unwrap_err();
        assert!(
            e.to_string().contains("1e-320 is not within [1, 1e18]"),
            "{e}"
        );
        let top = AnalyzeOptions::from_json(r#"{"limit": 1e18}"#).unwrap();
        assert_eq!(top.detector.limit, Some(MAX_LIMIT));
        let e = AnalyzeOptions::from_json(r#"{"bogus": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown option `bogus`"), "{e}");
        assert!(
            e.to_string().contains("for_secs"),
            "lists the known ones: {e}"
        );
    }
}
