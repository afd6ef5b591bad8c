// Package leaksense catches memory leaks in a running Go service early and names the route
// that leaks. It wraps the leaksense Rust core through its C ABI (ffi/include/leaksense.h):
// the core collects process memory, runs the leak detector and attributes growth to routes;
// this package only feeds it what only Go can read (runtime/metrics, never the stop-the-world
// runtime.ReadMemStats), registers OpenTelemetry instruments and wraps net/http handlers.
//
// The module carries the C header (include/) and a prebuilt static libleaksense_ffi.a for
// linux/amd64 and linux/arm64 (lib/<goos>_<goarch>/, and lib/<goos>_<goarch>_musl/ under the
// musl build tag: Alpine, fully static binaries), so `go get` plus cgo builds it with no Rust
// toolchain. In a clone those files are not in git: scripts/dist.sh --host (or
// bindings-go/run-tests.sh) builds and copies them in.
// Without cgo every entry point returns an *Error with CodeUnsupported.
package leaksense
