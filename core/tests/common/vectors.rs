//! The JSON encoding of numbers in `tests/vectors/*.json`: finite numbers as JSON numbers,
//! non-finite ones as the strings "NaN", "Infinity" and "-Infinity".

use serde_json::Value;

/// A number as the vector files write it.
pub fn num_to_json(x: f64) -> Value {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "Infinity".into()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        x.into()
    }
}

/// A number as the vector files write it, read back. Panics on anything else.
pub fn json_to_num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => panic!("not a vector number: {other}"),
    }
}

/// An array of vector numbers.
pub fn json_to_nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(json_to_num)
        .collect()
}

/// Vector numbers as a JSON array.
pub fn nums_to_json(xs: &[f64]) -> Value {
    Value::Array(xs.iter().copied().map(num_to_json).collect())
}
