//! Prints live process-memory samples, the effective memory limit and the metric catalog.
//!
//! Run: `cargo run -p leaksense-core --example live_samples -- [samples] [interval_ms]`

use std::time::Duration;

use leaksense_core::catalog::{self, Naming, Runtime};
use leaksense_core::collect::Collector;

fn main() {
    let mut args = std::env::args().skip(1);
    let samples: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let interval_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);

    let mut collector = match Collector::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "leaksense: cannot read process memory: {e} (code {})",
                e.code()
            );
            std::process::exit(1);
        }
    };
    println!("probe: {}", collector.probe_name());
    match collector.cgroup() {
        Some(cg) => println!("cgroup: {:?} at {}", cg.version, cg.dir.display()),
        None => println!("cgroup: none (no container limit)"),
    }
    let limits = collector.limits();
    match limits.effective() {
        Some((bytes, source)) => println!("effective limit: {} MiB ({source:?})", bytes >> 20),
        None => println!("effective limit: unknown"),
    }

    // Grow the heap a little between samples so the numbers move.
    let mut ballast: Vec<Vec<u8>> = Vec::new();
    for i in 0..samples {
        let m = collector.process_memory().expect("statm read");
        let peak = collector.peak_rss().unwrap_or(0);
        println!(
            "sample {i}: rss {:>8} KiB  virtual {:>9} KiB  peak {:>8} KiB",
            m.rss_bytes >> 10,
            m.virtual_bytes >> 10,
            peak >> 10
        );
        ballast.push(vec![1u8; 4 << 20]);
        std::thread::sleep(Duration::from_millis(interval_ms));
    }

    for naming in [Naming::Semconv, Naming::Legacy] {
        println!("\ncatalog ({naming:?}, python):");
        for m in catalog::metrics(Runtime::Python, naming) {
            let attrs = if m.attributes.is_empty() {
                String::new()
            } else {
                format!(" {:?}", m.attributes)
            };
            println!(
                "  {:<48} {:<26} {:<14}{attrs}",
                m.name,
                format!("{:?}", m.kind),
                m.unit
            );
        }
    }
    std::hint::black_box(ballast);
}
