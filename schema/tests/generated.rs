//! The committed schemas and generated types must be what the core's types give now, as the C
//! header is checked in ffi/tests/header.rs.

#[test]
fn committed_schemas_and_types_are_current() {
    let root = leaksense_schema::repo_root();
    let mut stale = Vec::new();
    for (path, text) in leaksense_schema::files() {
        if std::fs::read_to_string(root.join(&path)).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `{}` and commit them",
        leaksense_schema::COMMAND
    );
}

#[test]
fn every_type_is_understood() {
    let defs = leaksense_schema::definitions();
    for name in [
        "LeakReport",
        "Event",
        "EventKind",
        "Analysis",
        "MonitorOptions",
        "DetectorOptions",
        "AnalyzeOptions",
        "ReplayStep",
        "Snapshot",
    ] {
        assert!(defs.contains_key(name), "{name}");
    }
    // Options leave every field optional; what the core hands out has every field.
    let fields = |name: &str| match &defs[name].1 {
        leaksense_schema::Def::Object(f) => f.clone(),
        other => panic!("{name}: {other:?}"),
    };
    assert!(fields("MonitorOptions").iter().all(|f| f.optional));
    assert!(fields("LeakReport").iter().all(|f| !f.optional));
    let growth = fields("Analysis")
        .into_iter()
        .find(|f| f.key == "growth_start_ms")
        .unwrap();
    assert!(growth.nullable);
    let step = fields("ReplayStep");
    assert!(!step.iter().find(|f| f.key == "ts_ms").unwrap().optional);
}

#[test]
fn the_typescript_error_codes_are_the_cores() {
    let (name, (_, def)) = leaksense_schema::error_code();
    assert_eq!(name, "ErrorCode");
    let leaksense_schema::Def::Enum(values) = def else {
        panic!("{def:?}");
    };
    let got: Vec<&str> = values.iter().map(|(v, _)| v.as_str()).collect();
    let want: Vec<&str> = leaksense_core::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(got, want);
    assert!(values.iter().all(|(_, doc)| !doc.is_empty()), "{values:?}");
    let ts = &leaksense_schema::files()
        .into_iter()
        .find(|(p, _)| p.ends_with("types.d.ts"))
        .unwrap()
        .1;
    let union = want
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(
        ts.contains(&format!("export type ErrorCode = {union};")),
        "{ts}"
    );
}
