//! Writes a fleet of generated 24 h memory series as OpenMetrics, for the fleet benchmark:
//! `cargo run -p leaksense-cli --example gen_fleet -- SERIES STEP_SECS OUT.om`.
//! Situations cycle through the heap situations of the core's scenario generator, without the
//! slow-GC ones added later, so the fleet in BENCHMARKS.md stays the same.

use std::io::{BufWriter, Write};

use leaksense_core::detect::SeriesKind;
use leaksense_core::detect::scenarios::{Situation, generate};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: gen_fleet SERIES STEP_SECS OUT.om";
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let step: u32 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let out = args.get(3).expect(usage);
    let heap: Vec<Situation> = Situation::ALL
        .into_iter()
        // The situations the fleet benchmark was first measured on (24 h at the given step).
        .filter(|s| s.kind() == SeriesKind::Heap && !s.slow_gc() && s.legacy())
        .collect();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    writeln!(w, "# TYPE app_memory_bytes gauge")?;
    let mut leaking = 0;
    for i in 0..n {
        let situation = heap[i % heap.len()];
        let sc = generate(situation, 5000 + (i / heap.len()) as u64, step);
        leaking += usize::from(situation.leaks());
        for s in &sc.samples {
            writeln!(
                w,
                "app_memory_bytes{{instance=\"i-{i:04}\",situation=\"{}\"}} {} {}.{:03}",
                situation.name(),
                s.value,
                s.ts_ms.div_euclid(1000),
                s.ts_ms.rem_euclid(1000)
            )?;
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()?;
    eprintln!("{n} series ({leaking} leaking) at {step} s written to {out}");
    Ok(())
}
