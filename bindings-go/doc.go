// Package leaksense catches memory leaks in a running Go service early and names the route
// that leaks. It wraps the leaksense Rust core through its C ABI (ffi/include/leaksense.h):
// the core collects process memory, runs the leak detector and attributes growth to routes;
// this package only feeds it what only Go can read (runtime/metrics, never the stop-the-world
// runtime.ReadMemStats), registers OpenTelemetry instruments and wraps net/http handlers.
//
// The package links the static library libleaksense_ffi.a, built from the repository root with
//
//	cargo build -p leaksense-ffi --release
//
// cgo finds it in ../target/release; set CGO_LDFLAGS=-L<dir> when it lives elsewhere (a custom
// CARGO_TARGET_DIR). Without cgo every entry point returns an *Error with CodeUnsupported.
package leaksense
