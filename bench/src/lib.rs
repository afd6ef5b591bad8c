//! leaksense benchmarks. The binaries live in `src/bin`, the criterion benches in `benches/`.
