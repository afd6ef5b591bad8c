//! leaksense's JSON Schemas, made from the core's Rust types with `schemars`, and the Go,
//! TypeScript and Python types generated from them. `cargo run -p leaksense-schema` writes
//! every file; `cargo test -p leaksense-schema` fails when a committed one differs.
//!
//! The generator understands the subset of JSON Schema that `schemars` emits for these types:
//! objects with properties, string enums (`oneOf` of `const`s), nullable types, arrays (fixed
//! length when `minItems == maxItems`), string-keyed maps and `$ref`s into `$defs`.

mod lang;

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::Value;

use leaksense_core::collect::Snapshot;
use leaksense_core::detect::Analysis;
use leaksense_core::monitor::{Event, MonitorConfig, ReplayStep};
use leaksense_core::options::AnalyzeOptions;
use leaksense_core::report::LeakReport;

/// Names the bindings give the core's option types (what a user passes in).
const RENAMES: [(&str, &str); 3] = [
    ("MonitorConfig", "MonitorOptions"),
    ("DetectorConfig", "DetectorOptions"),
    ("AttributionConfig", "AttributionOptions"),
];

/// One schema file and its root type.
pub struct Root {
    /// File name under `schema/`.
    pub file: &'static str,
    /// Whether values of this type come out of the core (every field present, `null` when
    /// absent) or go into it (every field optional: left out takes the default).
    pub output: bool,
    /// The schema, `default`s removed (defaults depend on the runtime; docs/options.md).
    pub schema: Value,
}

fn root<T: JsonSchema>(file: &'static str, output: bool) -> Root {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    strip_defaults(&mut schema);
    Root {
        file,
        output,
        schema,
    }
}

fn strip_defaults(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("default");
            m.values_mut().for_each(strip_defaults);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

/// Every schema, in file order.
pub fn roots() -> Vec<Root> {
    vec![
        root::<Analysis>("analysis.schema.json", true),
        root::<AnalyzeOptions>("analyze-options.schema.json", false),
        root::<Event>("event.schema.json", true),
        root::<MonitorConfig>("monitor-options.schema.json", false),
        root::<ReplayStep>("replay-step.schema.json", false),
        root::<LeakReport>("report.schema.json", true),
        root::<Snapshot>("snapshot.schema.json", true),
    ]
}

/// A type of a property.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// A string.
    Str,
    /// A boolean.
    Bool,
    /// An integer of a Rust format (`int64`, `uint64`, `uint32`, `uint`).
    Int(String),
    /// A floating-point number.
    Num,
    /// A named type.
    Named(String),
    /// An array; `Some(n)` when its length is fixed.
    Array(Box<Ty>, Option<usize>),
    /// An object of string keys.
    Map(Box<Ty>),
}

/// A property of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON key.
    pub key: String,
    /// Its type.
    pub ty: Ty,
    /// Whether it may be `null`.
    pub nullable: bool,
    /// Whether it may be left out.
    pub optional: bool,
    /// Its documentation.
    pub doc: String,
}

/// A named type.
#[derive(Debug, Clone, PartialEq)]
pub enum Def {
    /// An object with fields, in key order.
    Object(Vec<Field>),
    /// A string enum: each value and its documentation.
    Enum(Vec<(String, String)>),
}

/// The core's stable `ErrorCode` strings as a named enum, with their documentation.
pub fn error_code() -> (String, (String, Def)) {
    let schema = schemars::schema_for!(leaksense_core::ErrorCode).to_value();
    (title(&schema), (doc(&schema), definition(&schema, true)))
}

/// Every named type of every schema, by binding name, with its documentation.
pub fn definitions() -> BTreeMap<String, (String, Def)> {
    let mut out: BTreeMap<String, (String, Def)> = BTreeMap::new();
    for r in roots() {
        let mut named: Vec<(String, &Value)> = vec![(title(&r.schema), &r.schema)];
        if let Some(Value::Object(defs)) = r.schema.get("$defs") {
            named.extend(defs.iter().map(|(k, v)| (k.clone(), v)));
        }
        for (name, schema) in named {
            let def = (doc(schema), definition(schema, r.output));
            let name = rename(&name);
            if let Some(seen) = out.get(&name) {
                assert_eq!(seen, &def, "{name} differs between schemas");
            }
            out.insert(name, def);
        }
    }
    out
}

fn title(schema: &Value) -> String {
    schema["title"]
        .as_str()
        .expect("a root schema has a title")
        .to_string()
}

fn rename(name: &str) -> String {
    RENAMES
        .iter()
        .find(|(from, _)| *from == name)
        .map_or(name, |(_, to)| to)
        .to_string()
}

/// A description made plain: rustdoc links become their text.
fn doc(schema: &Value) -> String {
    let d = schema["description"].as_str().unwrap_or("");
    let mut out = String::with_capacity(d.len());
    let mut rest = d;
    while let Some(i) = rest.find("[`") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find("`]") else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        out.push_str(&after[..end + 1]);
        rest = &after[end + 2..];
        if rest.starts_with('(')
            && let Some(close) = rest.find(')')
        {
            rest = &rest[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn definition(schema: &Value, output: bool) -> Def {
    if let Some(Value::Array(variants)) = schema.get("oneOf") {
        return Def::Enum(
            variants
                .iter()
                .map(|v| {
                    let value = v["const"].as_str().expect("a string enum value");
                    (value.to_string(), doc(v))
                })
                .collect(),
        );
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Def::Enum(
            values
                .iter()
                .map(|v| {
                    (
                        v.as_str().expect("a string enum").to_string(),
                        String::new(),
                    )
                })
                .collect(),
        );
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    Def::Object(
        props
            .iter()
            .map(|(key, p)| {
                let (ty, nullable) = ty(p);
                Field {
                    key: key.clone(),
                    ty,
                    nullable,
                    optional: !output && !required.contains(&key.as_str()),
                    doc: doc(p),
                }
            })
            .collect(),
    )
}

/// The type of a property schema and whether it may be `null`.
fn ty(p: &Value) -> (Ty, bool) {
    if let Some(r) = p["$ref"].as_str() {
        return (Ty::Named(rename(r.trim_start_matches("#/$defs/"))), false);
    }
    if let Some(Value::Array(any)) = p.get("anyOf") {
        let (mut t, mut nullable) = (None, false);
        for a in any {
            if a["type"] == "null" {
                nullable = true;
            } else {
                t = Some(ty(a).0);
            }
        }
        return (t.expect("anyOf has a non-null type"), nullable);
    }
    let (name, nullable) = match &p["type"] {
        Value::String(s) => (s.as_str(), false),
        Value::Array(ts) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            let one = names
                .iter()
                .find(|t| **t != "null")
                .expect("a non-null type");
            (*one, names.contains(&"null"))
        }
        other => panic!("unsupported schema type {other}"),
    };
    let t = match name {
        "string" => Ty::Str,
        "boolean" => Ty::Bool,
        "number" => Ty::Num,
        "integer" => Ty::Int(p["format"].as_str().unwrap_or("int64").to_string()),
        "array" => {
            let fixed = match (p["minItems"].as_u64(), p["maxItems"].as_u64()) {
                (Some(a), Some(b)) if a == b => Some(a as usize),
                _ => None,
            };
            Ty::Array(Box::new(ty(&p["items"]).0), fixed)
        }
        "object" => Ty::Map(Box::new(ty(&p["additionalProperties"]).0)),
        other => panic!("unsupported schema type {other}"),
    };
    (t, nullable)
}

/// Every generated file, by path from the repository root.
pub fn files() -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = roots()
        .into_iter()
        .map(|r| {
            let mut text = serde_json::to_string_pretty(&r.schema).expect("a schema serializes");
            text.push('\n');
            (PathBuf::from("schema").join(r.file), text)
        })
        .collect();
    let defs = definitions();
    out.push(("bindings-go/types_gen.go".into(), lang::go(&defs)));
    // Node's errors carry the code as a string, typed from the core's enum; Go and Python have
    // their own error types (a numeric Code, an exception class per code).
    let mut ts = defs.clone();
    let (name, def) = error_code();
    ts.insert(name, def);
    out.push(("bindings-node/lib/types.d.ts".into(), lang::typescript(&ts)));
    out.push((
        "bindings-python/python/leaksense/schema.py".into(),
        lang::python(&defs),
    ));
    out
}

/// The repository root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("schema/ has a parent")
        .to_path_buf()
}

/// The command that regenerates every file, named in each generated file's header.
pub const COMMAND: &str = "cargo run -p leaksense-schema";
