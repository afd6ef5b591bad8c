//! Writes leaksense's JSON Schemas and the Go, TypeScript and Python types generated from them
//! (run from anywhere in the repository: `cargo run -p leaksense-schema`).

fn main() -> std::io::Result<()> {
    let root = leaksense_schema::repo_root();
    for (path, text) in leaksense_schema::files() {
        let path = root.join(path);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
