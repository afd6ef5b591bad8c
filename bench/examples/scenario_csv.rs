//! Writes one generated scenario as two CSV files, its memory series and its request rate:
//! `cargo run -p leaksense-bench --example scenario_csv -- daily_swing 1 DIR` writes
//! `DIR/daily_swing-1.csv` and `DIR/daily_swing-1-traffic.csv` (the examples of
//! docs/cli-traffic.md).

use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::series::Sample;
use std::io::Write;

fn write(path: &std::path::Path, samples: &[Sample]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "timestamp,value")?;
    for s in samples {
        writeln!(w, "{},{}", s.ts_ms as f64 / 1000.0, s.value.round())?;
    }
    w.flush()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: scenario_csv SITUATION SEED DIR";
    let sit = args
        .first()
        .and_then(|n| Situation::from_name(n))
        .expect(usage);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let dir = std::path::Path::new(args.get(2).expect(usage));
    let sc = generate(sit, seed, 15);
    let base = format!("{}-{seed}", sit.name());
    write(&dir.join(format!("{base}.csv")), &sc.samples)?;
    write(&dir.join(format!("{base}-traffic.csv")), &sc.traffic)?;
    println!(
        "wrote {base}.csv and {base}-traffic.csv in {}",
        dir.display()
    );
    Ok(())
}
