#!/usr/bin/env bash
# Installs each artifact of dist/ as a user would, in fresh directories outside the clone, with
# no cargo or rustc on PATH, and runs the snippets of docs/install.md as they are written:
#   python  a fresh venv, pip install from the wheel directory, a Flask app on 127.0.0.1 serving
#           real requests; the sdist refuses to build without Rust instead of downloading it
#   node    a fresh npm project with the tarballs, an Express app serving real requests, the
#           native addon from its platform package, then the WASI build forced on
#   go      a fresh module fetching bindings-go through the dist GOPROXY, a net/http app built
#           with cgo serving real requests; a fully static musl program (-tags musl, zig cc;
#           then musl-gcc, static and dynamic, when installed) printing its report;
#           examples/go-leak built as a user would (no go.work)
#   cli     the static binary analyzing a sample series
# Usage: scripts/install-test.sh [--arch arm64] [python] [node] [go] [cli]   (default: all)
#   --arch arm64  the aarch64 artifacts under qemu-user (Debian's qemu-user-static and
#                 libc6-arm64-cross): the wheel with Debian's aarch64 Python 3.11 and the addon
#                 with its Node.js 18, both from scripts/arm64-root.sh (deb.debian.org); the Go
#                 program cross-compiled with zig; the static CLI
# Needs what scripts/dist.sh --host made (LEAKSENSE_DIST, default dist/), python3, node, go, curl.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$(cd "${LEAKSENSE_DIST:-$root/dist}" && pwd)"
version="$(python3 "$root/scripts/check-versions.py" --print)"
arch=amd64
parts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="$2"; shift ;;
    python | node | go | cli) parts+=("$1") ;;
    *) echo "install-test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#parts[@]} -gt 0 ] || parts=(python node go cli)
case "$arch" in
  amd64) ;;
  arm64)
    arm_root=""
    for p in "${parts[@]}"; do [[ "$p" == python || "$p" == node ]] && arm_root="$(bash "$root/scripts/arm64-root.sh")"; done
    ;;
  *) echo "install-test.sh: --arch amd64|arm64" >&2; exit 2 ;;
esac

# What the user has: the Go module cache's download directory doubles as their usual proxy, so
# modules other than leaksense come from there (or proxy.golang.org) into a fresh cache. zig from
# the dist venv is the aarch64 and the musl C compiler for cgo. Both are looked up before PATH is
# cleaned.
user_goproxy="file://$(go env GOMODCACHE)/cache/download,https://proxy.golang.org"
zig="${LEAKSENSE_VENV:-$HOME/.cache/leaksense-venv}/bin/python-zig"
zig_cc="$zig cc"
# The type checkers that read the documented apps against the installed packages' typings, so a
# snippet using a name the package lacks fails even where no request reaches that line (the
# event listeners): the repository's, since a user's project need not have them.
mypy="${LEAKSENSE_VENV:-$HOME/.cache/leaksense-venv}/bin/mypy"
tsc="$root/bindings-node/node_modules/.bin/tsc"
node_types="$root/bindings-node/node_modules/@types"

# No Rust: drop every PATH entry holding cargo, rustc or rustup, and any venv's bin.
clean=""
IFS=: read -ra entries <<<"$PATH"
for d in "${entries[@]}"; do
  { [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || [ -e "$d/rustup" ] || [ -e "$d/../pyvenv.cfg" ]; } && continue
  clean="${clean:+$clean:}$d"
done
export PATH="$clean"
unset CARGO_TARGET_DIR CARGO_HOME RUSTUP_HOME RUSTUP_TOOLCHAIN VIRTUAL_ENV
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  echo "install-test.sh: cargo/rustc still on PATH ($(command -v cargo rustc))" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/leaksense-install.XXXXXX")"
case "$work/" in "$root"/*) echo "install-test.sh: $work is inside the clone" >&2; exit 1 ;; esac
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  chmod -R u+w "$work" 2>/dev/null || true # the Go module cache is read-only
  rm -rf "$work"
}
trap cleanup EXIT
export LEAKSENSE_DIST="$dist" npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false \
  PIP_PROGRESS_BAR=off PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\n--> install test (%s): %s\n' "$arch" "$*"; }
fail() { echo "install-test.sh: $*" >&2; exit 1; }
snip() { python3 "$root/scripts/docsnip.py" "$root/docs/install.md" "$1"; }
# run SCRIPT: runs a documented shell snippet; its output is shown only when it fails.
run() {
  bash -euo pipefail "$1" >"$1.log" 2>&1 || { cat "$1.log" >&2; fail "$1 (docs/install.md) failed"; }
  echo "  $1: ok"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve LOG CMD...: starts the app in the current directory on a free port ($port) and waits
# until it answers; the app runs as $pid.
serve() {
  local log="$1"
  shift
  port="$(free_port)"
  PORT="$port" "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/debug/leaksense" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "$* exited before serving"; }
    sleep 0.2
  done
  cat "$log" >&2
  fail "$* did not answer on 127.0.0.1:$port within 60 s"
}

# exercise ROUTE PATH_PREFIX: 25 real requests, then the report must count them under ROUTE.
exercise() {
  local route="$1" prefix="$2" n=25 i
  for i in $(seq 1 $n); do
    curl -sf "http://127.0.0.1:$port$prefix$i" >/dev/null || fail "GET $prefix$i failed"
  done
  curl -sf "http://127.0.0.1:$port/debug/leaksense" >report.json
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  check_report "$route" "$n"
}

# check_report ROUTE N: report.json (the monitor's report) counts N requests under ROUTE.
check_report() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
route, n = sys.argv[1], int(sys.argv[2])
report = json.load(open("report.json"))
assert report["schema_version"] == 1, report
rows = {r["route"]: r["requests"] for r in report["routes"]}
assert rows.get(route) == n, f"report counts {rows} (want {n} under {route!r})"
print(f"  report: verdict {report['verdict']}, {rows[route]} requests under {route}, routes {sorted(rows)}")
EOF
}

python_test() {
  say "Python: pip install from $dist/python, Flask app"
  mkdir -p "$work/python" && cd "$work/python"
  snip python/install.sh >install.sh
  snip python/app.py >app.py
  local py=(.venv/bin/python)
  if [ "$arch" = amd64 ]; then
    run install.sh
  else
    # Debian's aarch64 Python under qemu. Without binfmt_misc the venv's scripts cannot run by
    # themselves and Debian's Python has no ensurepip, so the venv is made without pip and the
    # documented pip lines run, as they are written, through Debian's pip wheel.
    py=(qemu-aarch64-static -L "$arm_root" .venv/bin/python3.11)
    local pip_whl
    pip_whl="$(echo "$arm_root"/usr/share/python-wheels/pip-*.whl)"
    {
      echo "qemu-aarch64-static -L '$arm_root' '$arm_root/usr/bin/python3.11' -m venv --without-pip .venv"
      grep '^pip install ' install.sh | sed "s#^pip #${py[*]} $pip_whl/pip #"
    } >install-arm64.sh
    [ "$(grep -c "$pip_whl/pip install" install-arm64.sh)" -eq 2 ] || fail "install.sh has not the two pip install lines"
    run install-arm64.sh
  fi
  local got
  got="$("${py[@]}" -c 'import leaksense, importlib.metadata as m, platform; print("installed leaksense", m.version("leaksense"), "from", leaksense.__file__, "on", platform.machine())')"
  echo "  $got"
  local machine=x86_64
  [ "$arch" = amd64 ] || machine=aarch64
  grep -q "leaksense $version from $work/python/.venv/.* on $machine$" <<<"$got" ||
    fail "the venv does not hold leaksense $version for $arch"
  serve app.log "${py[@]}" app.py
  exercise "/orders/<int:order_id>" /orders/
  [ "$arch" = amd64 ] || return 0 # the sdist and typings are the same for every platform
  "$mypy" --python-executable .venv/bin/python --check-untyped-defs --no-incremental app.py >mypy.log ||
    { cat mypy.log >&2; fail "mypy: app.py (docs/install.md) does not type-check against the installed leaksense"; }
  echo "  mypy app.py: ok"
  say "Python: the sdist without Rust stops with a message instead of downloading a toolchain"
  local out
  if out="$(.venv/bin/pip wheel --no-deps -w wheels "$dist/python/leaksense-$version.tar.gz" 2>&1)"; then
    fail "the sdist built without Rust"
  fi
  grep -q "will not download a Rust toolchain" <<<"$out" || { echo "$out" >&2; fail "the sdist failed without the Rust message"; }
  echo "  pip wheel leaksense-$version.tar.gz stopped as it should:"
  grep -A1 "leaksense: no prebuilt wheel" <<<"$out" | sed 's/^ */    /'

}

node_test() {
  say "Node: npm install of the tarballs, Express app"
  mkdir -p "$work/node" && cd "$work/node"
  snip node/install.sh >install.sh
  snip node/app.js >app.js
  snip node/wasi.sh >wasi.sh
  snip node/wasi-check.js >wasi-check.js
  local node=(node) platform=linux-x64-gnu
  if [ "$arch" = amd64 ]; then
    run install.sh
  else
    # The arm64 line the docs name, installed by this x64 npm: --force lets it unpack a package
    # for another CPU. Then Debian's aarch64 Node.js 18 under qemu (the packages ask for Node 20,
    # which Debian bookworm does not have; the addon needs N-API 6, which Node 18 has).
    platform=linux-arm64-gnu
    node=(qemu-aarch64-static -L "$arm_root" "$arm_root/usr/bin/node")
    sed -e 's/leaksense-linux-x64-gnu-/leaksense-linux-arm64-gnu-/' -e 's/^npm install /npm install --force /' install.sh >install-arm64.sh
    grep -q '^npm install --force .*leaksense-linux-arm64-gnu-' install-arm64.sh || fail "install.sh has no npm install line for the addon"
    run install-arm64.sh
  fi
  "${node[@]}" -e '
    const target = require("leaksense/index.js").__napiBindingTarget;
    const from = require.resolve(process.argv[1]);
    const api = require.resolve("@opentelemetry/api");
    if (target !== "native" || !from.includes("/node_modules/")) process.exit(1);
    console.log(`  addon: ${target} (${process.arch}), from ${from}; @opentelemetry/api from ${api}`);
  ' "leaksense-$platform" || fail "the native addon did not load from its platform package"
  serve app.log "${node[@]}" app.js
  exercise /orders/:id /orders/
  [ "$arch" = amd64 ] || return 0 # the typings and the WASI build are the same for every platform
  "$tsc" --noEmit --allowJs --checkJs --module nodenext --target es2022 --typeRoots "$node_types" --types node \
    app.js wasi-check.js || fail "tsc: app.js or wasi-check.js (docs/install.md) does not type-check against leaksense's typings"
  echo "  tsc --checkJs app.js wasi-check.js: ok"
  say "Node: the WASI fallback, forced with NAPI_RS_FORCE_WASI=error"
  run wasi.sh
  grep -E '^(deriv|Monitor) ' wasi.sh.log | sed 's/^/    /'
  grep -qx "deriv 1" wasi.sh.log && grep -qx "Monitor unsupported" wasi.sh.log || fail "the WASI build answered otherwise"
  NAPI_RS_FORCE_WASI=error node --no-warnings -e '
    if (require("leaksense/index.js").__napiBindingTarget !== "wasm32-wasi") process.exit(1)' ||
    fail "NAPI_RS_FORCE_WASI=error did not load the WASI build"
}

go_test() {
  say "Go: go get through the dist GOPROXY, net/http app with cgo"
  mkdir -p "$work/go" && cd "$work/go"
  export GOMODCACHE="$work/gomodcache" GOPROXY="$user_goproxy" GOFLAGS= GOWORK=off
  snip go/install.sh >install.sh
  snip go/main.go >main.go
  if [ "$arch" = amd64 ]; then
    run install.sh
    serve app.log ./shop
  else
    # The documented install, cross-compiled: zig as the aarch64 C compiler, run under qemu.
    sed 's#^CGO_ENABLED=1 go build#CGO_ENABLED=1 GOARCH=arm64 CC="$ZIG_CC -target aarch64-linux-gnu.2.17" go build#' install.sh >install-arm64.sh
    grep -q GOARCH=arm64 install-arm64.sh || fail "install.sh has no go build line to cross-compile"
    export ZIG_CC="$zig_cc"
    run install-arm64.sh
    file -b shop | grep -q "ARM aarch64" || fail "shop is not an aarch64 binary"
    serve app.log qemu-aarch64-static -L /usr/aarch64-linux-gnu ./shop
  fi
  exercise "GET /orders/{id}" /orders/
  [ "$arch" = amd64 ] || return 0
  say "Go: a fully static binary with the musl library (-tags musl, zig cc), as docs/install.md builds it"
  mkdir -p "$work/go-static/bin" && cd "$work/go-static"
  snip go-static/build.sh >build.sh
  snip go-static/main.go >main.go
  # The `zig` the snippet names: the dist venv's, whose bin/ is off PATH here.
  printf '#!/bin/sh\nexec %q "$@"\n' "$zig" >bin/zig
  chmod +x bin/zig
  PATH="$work/go-static/bin:$PATH" run build.sh
  local desc
  desc="$(file -b report)"
  [[ "$desc" == "ELF 64-bit LSB executable, x86-64"*"statically linked"* ]] || fail "report is not a static x86-64 binary: $desc"
  echo "  report: ${desc%%, Go BuildID*}"
  ./report >report.json || fail "the static binary failed"
  check_report "GET /orders/{id}" 5
  # The same program with gcc as the musl compiler (Debian's musl-gcc links libgcc_eh, as
  # Alpine's gcc does, beside the unwinder the library carries), static and dynamic.
  if command -v musl-gcc >/dev/null; then
    CGO_ENABLED=1 CC=musl-gcc go build -tags musl -ldflags '-linkmode external -extldflags -static' -o report-gcc .
    file -b report-gcc | grep -q "statically linked" || fail "report-gcc (musl-gcc) is not statically linked"
    echo "  report-gcc: musl-gcc, -extldflags -static: statically linked"
    ./report-gcc >report.json || fail "the static binary built with musl-gcc failed"
    check_report "GET /orders/{id}" 5
    CGO_ENABLED=1 CC=musl-gcc go build -tags musl -o report-gcc-dynamic .
    echo "  report-gcc-dynamic: musl-gcc, $(file -b report-gcc-dynamic | grep -o 'interpreter [^,]*')"
    ./report-gcc-dynamic >report.json || fail "the dynamic musl binary built with musl-gcc failed"
    check_report "GET /orders/{id}" 5
  else
    echo "  no musl-gcc (apt: musl-tools): the musl library was linked with zig only"
  fi
  say "Go: examples/go-leak as a user would build it (no go.work, the module from the proxy)"
  mkdir -p "$work/go-leak" && cd "$work/go-leak"
  cp "$root"/examples/go-leak/*.go "$root"/examples/go-leak/go.mod "$root"/examples/go-leak/go.sum .
  GOPROXY="file://$dist/go/proxy,$user_goproxy" GONOSUMDB=github.com/leaksense/leaksense GOFLAGS=-mod=mod \
    CGO_ENABLED=1 go vet ./...
  GOPROXY="file://$dist/go/proxy,$user_goproxy" GONOSUMDB=github.com/leaksense/leaksense GOFLAGS=-mod=mod \
    CGO_ENABLED=1 go test -count=1 -run '^$' ./...
  echo "  examples/go-leak: go vet and its test build pass against bindings-go v$version from the proxy"
}

cli_test() {
  say "CLI: leaksense analyze on a sample series"
  mkdir -p "$work/cli" && cd "$work/cli"
  cp "$root/cli/tests/fixtures/leak.csv" heap.csv
  snip cli/install.sh >install.sh
  if [ "$arch" = amd64 ]; then
    bash -euo pipefail install.sh >out.json 2>install.err || { cat install.err >&2; fail "cli/install.sh (docs/install.md) failed"; }
  else
    local name="leaksense-$version-aarch64-unknown-linux-musl"
    tar xzf "$dist/cli/$name.tar.gz"
    file -b "$name/leaksense" | grep -q "ARM aarch64.*statically linked" || fail "$name/leaksense is not a static aarch64 binary"
    qemu-aarch64-static "$name/leaksense" analyze --input heap.csv --limit 2GiB --format json >out.json
  fi
  python3 - <<'EOF'
import json
out = json.load(open("out.json"))
series = out["series"]
assert len(series) == 1 and series[0]["verdict"] == "leak", out
print(f"  analyze: verdict {series[0]['verdict']}, {series[0]['samples']} samples")
EOF
}

for part in "${parts[@]}"; do "${part}_test"; done
say "passed: ${parts[*]}"
