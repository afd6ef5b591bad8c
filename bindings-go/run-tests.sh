#!/usr/bin/env bash
# Builds the static C ABI library and copies it (without debug info) and the header into the
# module, as the release ships them (scripts/dist.sh --host go), then runs go vet and go test -race
# for the Go binding with cgo, and its build and test without cgo. Needs Go 1.26+ and gcc; Go
# modules download on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

echo "==> scripts/dist.sh --host go (include/leaksense.h, lib/linux_amd64{,_musl}/libleaksense_ffi.a)"
bash scripts/dist.sh --host go

cd bindings-go
export CGO_ENABLED=1

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

echo "==> soak and load without -race (RSS stays flat over 3M requests; ~1 min)"
go test -count=1 -run 'Soak|Load' ./...

echo "==> without cgo"
CGO_ENABLED=0 go vet ./...
CGO_ENABLED=0 go test -count=1 ./...

echo "==> examples/go-leak (its go.work replaces bindings-go with ../../bindings-go; go test -race: a service under load until each leak is alerted as itself and its route named, 1-2 min)"
cd ../examples/go-leak
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt needed: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 ./...
