#!/usr/bin/env bash
# Builds the static C ABI library (the one documented command), then runs go vet and
# go test -race for the Go binding with cgo, and its build and test without cgo. Needs Go 1.24+
# and gcc; Go modules download on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

echo "==> cargo build -p leaksense-ffi --release"
cargo build -p leaksense-ffi --release

cd bindings-go
# cgo also looks in ../target/release; this covers a custom CARGO_TARGET_DIR.
export CGO_ENABLED=1 CGO_LDFLAGS="-L$CARGO_TARGET_DIR/release ${CGO_LDFLAGS:-}"

echo "==> gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt needed: $unformatted" >&2
  exit 1
fi

echo "==> go vet"
go vet ./...

echo "==> go test -race"
go test -race -count=1 ./...

echo "==> without cgo"
CGO_ENABLED=0 go vet ./...
CGO_ENABLED=0 go test -count=1 ./...

echo "==> examples/go-leak (go test -race: a service under load until each leak is alerted as itself and its route named, 1-2 min)"
cd ../examples/go-leak
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt needed: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 ./...
