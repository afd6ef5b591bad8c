#!/usr/bin/env bash
# Builds every release artifact into dist/ at the one version of the root Cargo.toml, checks
# each (platform tags, file formats, exported symbols, glibc symbol versions, versions), and
# runs the install test. Cross builds go through zig, so one x86_64 Linux machine makes them all.
#
#   bash scripts/dist.sh               everything (about 30 min on 2 cores with warm caches)
#   bash scripts/dist.sh --host        only what this machine runs: the x86_64 glibc wheel and the
#                                      sdist, the linux-x64-gnu and wasm32-wasi addons, the Go
#                                      module with linux_amd64 and linux_amd64_musl, the x86_64
#                                      CLI; no install test
#                                      (scripts/test.sh runs it, and the binding tests use these
#                                      builds)
#   bash scripts/dist.sh [--host] PART...   only these parts: python node go cli
#
# dist/ (git-ignored; each part rewrites its own directory):
#   python/   abi3 wheels (CPython 3.9+) and the sdist
#   npm/      npm pack tarballs: leaksense, leaksense-<platform>
#   go/module/  the Go module tree with include/ and lib/<os>_<arch>[_musl]/libleaksense_ffi.a
#   go/proxy/   a GOPROXY=file:// directory serving it at v<version>
#   cli/      leaksense-<version>-<target>.tar.gz, static musl binaries
#   SIZES.md  the artifact sizes against their goals
# Needs Rust 1.95 (rustup adds the targets), Python 3.11+, Node 20, Go 1.26, file, nm. The
# Python tools (scripts/requirements-dist.txt) go into the test venv, $LEAKSENSE_VENV.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
export CARGO_TARGET_DIR="$(abs "${CARGO_TARGET_DIR:-$root/target}")"
dist="$(abs "${LEAKSENSE_DIST:-$root/dist}")"
cd "$root"

host_only=false
parts=()
for arg in "$@"; do
  case "$arg" in
    --host) host_only=true ;;
    python | node | go | cli) parts+=("$arg") ;;
    *) echo "dist.sh: unknown argument $arg (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=(python node go cli)
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "dist.sh: builds on x86_64 Linux only" >&2; exit 2; }

version="$(python3 scripts/check-versions.py --print)"
python3 scripts/check-versions.py
stage="$dist/.stage"
mkdir -p "$dist" "$stage"

say() { printf '\n--> dist: %s\n' "$*"; }
fail() { echo "dist.sh: $*" >&2; exit 1; }

# The Python tools; zig comes from the ziglang wheel (cargo-zigbuild and maturin find it there).
venv="${LEAKSENSE_VENV:-$HOME/.cache/leaksense-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-dist.txt
export PATH="$venv/bin:$PATH"

rust_targets=(x86_64-unknown-linux-gnu wasm32-wasip1-threads x86_64-unknown-linux-musl)
$host_only || rust_targets+=(aarch64-unknown-linux-gnu aarch64-unknown-linux-musl)
for t in "${rust_targets[@]}"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
sysroot="$(rustc --print sysroot)"
# llvm-objcopy as shipped with rustc: unlike GNU strip here, it reads aarch64 objects too.
objcopy() { LD_LIBRARY_PATH="$sysroot/lib" "$sysroot/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/rust-objcopy" "$@"; }

# The newest GLIBC_x.y an ELF file needs must not pass 2.17 (what manylinux_2_17 promises).
max_glibc() { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1; }
check_glibc() {
  local need
  need="$(max_glibc "$1")"
  [ -n "$need" ] || fail "$1 names no GLIBC symbol version (objdump could not read it?)"
  [ "$(printf '%s\n2.17\n' "$need" | sort -V | tail -1)" = 2.17 ] || fail "$1 needs glibc $need (> 2.17)"
}
check_file() { # check_file PATH PATTERN: `file` must describe PATH with PATTERN
  local desc
  desc="$(file -b "$1")"
  [[ "$desc" == $2 ]] || fail "$1: file says \"$desc\", expected $2"
  echo "  $(basename "$1"): $desc" | cut -c1-150
}

python_part() {
  say "Python wheels and sdist"
  rm -rf "$dist/python" "$stage/python"
  mkdir -p "$dist/python" "$stage/python"
  local builds=("x86_64-unknown-linux-gnu manylinux_2_17")
  $host_only || builds+=("aarch64-unknown-linux-gnu manylinux_2_17" "x86_64-unknown-linux-musl musllinux_1_2")
  local b target compat
  for b in "${builds[@]}"; do
    read -r target compat <<<"$b"
    (cd bindings-python && maturin build --release --strip --zig --target "$target" \
      --compatibility "$compat" --target-dir "$CARGO_TARGET_DIR/dist-python" --out "$stage/python/$target")
    if [[ "$target" == *musl ]]; then musl_soname "$stage/python/$target"/*.whl "${target%%-*}"; fi
    mv "$stage/python/$target"/*.whl "$dist/python/"
  done
  (cd bindings-python && maturin sdist --out "$dist/python")
  mkdir -p "$stage/empty"
  local whl tag want
  for whl in "$dist/python"/*.whl; do
    want="$(basename "$whl" .whl)"
    want="${want##*.}"                       # the last platform tag of the file name
    want="${want##*-}"
    # An empty library path: auditwheel must not mistake glibc's libc.so script for musl's.
    tag="$(auditwheel show --json --ldpaths "$stage/empty" "$whl" 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["overall_tag"])')"
    [ "$tag" = "$want" ] || fail "auditwheel: $(basename "$whl") is $tag, not $want"
    echo "  auditwheel show $(basename "$whl"): consistent with $tag"
  done
}

# zig links a musl extension against musl's libc under the name libc.so; Alpine's own builds
# say libc.musl-<arch>.so.1, which is what auditwheel's musllinux policy allows. musl's loader
# treats both names as itself, so this renames, it does not change what gets loaded.
musl_soname() {
  local whl="$1" arch="$2" dir so
  dir="$(mktemp -d "$stage/python/unpack.XXXX")"
  wheel unpack -d "$dir" "$whl" >/dev/null
  so="$(find "$dir" -name '_native*.so')"
  patchelf --replace-needed libc.so "libc.musl-$arch.so.1" "$so"
  rm "$whl"
  wheel pack -d "$(dirname "$whl")" "$dir"/leaksense-* >/dev/null
  rm -rf "$dir"
}

node_part() {
  say "Node packages"
  rm -rf "$dist/npm" "$stage/npm"
  mkdir -p "$dist/npm" "$stage/npm"
  (
    cd bindings-node
    [ -x node_modules/.bin/napi ] || npm ci --no-audit --no-fund
    # Each binding's zig builds get their own target directory: maturin and napi set different
    # flags for the same triples, and sharing one directory rebuilt every crate on each switch.
    local napi=(npx napi build --platform --release --target-dir "$CARGO_TARGET_DIR/dist-node")
    # The WASI fallback; its typings lack the Monitor, so they go to a scratch file, as do the
    # (identical) typings of the other cross builds.
    "${napi[@]}" --target wasm32-wasip1-threads --no-js --dts .wasi-build.d.ts
    # gnu targets are pinned to glibc 2.17 through zig (-x runs cargo zigbuild).
    if ! $host_only; then
      "${napi[@]}" --strip --target aarch64-unknown-linux-gnu.2.17 -x --no-js --dts .wasi-build.d.ts
      "${napi[@]}" --strip --target x86_64-unknown-linux-musl -x --no-js --dts .wasi-build.d.ts
    fi
    rm -f .wasi-build.d.ts
    # Last: the host build writes index.js and index.d.ts (run-tests.sh checks them against git),
    # which the builds above, seeing the WASI loader claim index.js, may delete.
    "${napi[@]}" --strip --target x86_64-unknown-linux-gnu.2.17 -x
  )
  local platforms=(linux-x64-gnu wasm32-wasi) p
  $host_only || platforms+=(linux-arm64-gnu linux-x64-musl)
  for p in "${platforms[@]}"; do
    mkdir -p "$stage/npm/$p"
    cp "bindings-node/npm/$p/package.json" "bindings-node/npm/$p/README.md" "$stage/npm/$p/"
    if [ "$p" = wasm32-wasi ]; then
      cp bindings-node/leaksense.wasm32-wasi.wasm bindings-node/leaksense.wasi.cjs bindings-node/wasi-worker.mjs "$stage/npm/$p/"
      check_file "$stage/npm/$p/leaksense.wasm32-wasi.wasm" "WebAssembly (wasm) binary module*"
    else
      cp "bindings-node/leaksense.$p.node" "$stage/npm/$p/"
      check_addon "$stage/npm/$p/leaksense.$p.node" "$p"
    fi
  done
  # The main package: the loader, typings and lib/, and every platform package as an optional
  # dependency at this version (what `napi pre-publish` adds at publish time).
  mkdir -p "$stage/npm/leaksense"
  cp -r bindings-node/index.js bindings-node/index.d.ts bindings-node/lib bindings-node/package.json "$stage/npm/leaksense/"
  node -e '
    const fs = require("fs");
    const [file, npmDir] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    pkg.optionalDependencies = {};
    for (const dir of fs.readdirSync(npmDir).sort()) pkg.optionalDependencies[`${pkg.name}-${dir}`] = pkg.version;
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  ' "$stage/npm/leaksense/package.json" bindings-node/npm
  for p in leaksense "${platforms[@]}"; do
    (cd "$stage/npm/$p" && npm pack --silent --pack-destination "$dist/npm" >/dev/null)
  done
  ls "$dist/npm"
}

check_addon() { # check_addon FILE PLATFORM
  local f="$1" p="$2"
  case "$p" in
    linux-x64-gnu | linux-x64-musl) check_file "$f" "ELF 64-bit LSB shared object, x86-64*" ;;
    linux-arm64-gnu) check_file "$f" "ELF 64-bit LSB shared object, ARM aarch64*" ;;
  esac
  nm -D --defined-only "$f" | grep -qw napi_register_module_v1 || fail "$f does not export napi_register_module_v1"
  case "$p" in
    *-gnu) check_glibc "$f" ;;
    *-musl) readelf -d "$f" | grep -q 'NEEDED.*libc\.so' || fail "$f is not linked against musl's libc" ;;
  esac
}

go_part() {
  say "Go module"
  rm -rf "$dist/go" bindings-go/include bindings-go/lib
  mkdir -p "$dist/go" bindings-go/include
  cp ffi/include/leaksense.h bindings-go/include/
  cargo build -p leaksense-ffi --release
  go_lib "$CARGO_TARGET_DIR/release/libleaksense_ffi.a" linux_amd64 "x86-64"
  # musl (Alpine, fully static binaries; the `musl` build tag picks it): the target directory
  # the CLI's musl build uses, so the two share their dependencies' builds. (cargo warns that it
  # drops the cdylib: a static musl target has none.)
  cargo zigbuild -p leaksense-ffi --release --target x86_64-unknown-linux-musl
  go_lib "$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/libleaksense_ffi.a" linux_amd64_musl "x86-64"
  if ! $host_only; then
    cargo zigbuild -p leaksense-ffi --release --target aarch64-unknown-linux-gnu.2.17
    go_lib "$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release/libleaksense_ffi.a" linux_arm64 "ARM aarch64"
    cargo zigbuild -p leaksense-ffi --release --target aarch64-unknown-linux-musl
    go_lib "$CARGO_TARGET_DIR/aarch64-unknown-linux-musl/release/libleaksense_ffi.a" linux_arm64_musl "ARM aarch64"
  fi
  # The module tree: bindings-go's files (tracked or new, never ignored ones) plus what was
  # copied in above. The zip is made by golang.org/x/mod/zip, as the go command makes it.
  local f
  git ls-files -z --cached --others --exclude-standard bindings-go | while IFS= read -r -d '' f; do
    [ -f "$f" ] && install -D -m 644 "$f" "$dist/go/module/${f#bindings-go/}"
  done
  cp -r bindings-go/include bindings-go/lib "$dist/go/module/"
  (cd scripts/gomodproxy && go run . -module github.com/leaksense/leaksense/bindings-go \
    -version "v$version" -dir "$dist/go/module" -out "$dist/go/proxy" \
    -time "$(git -C "$root" log -1 --format=%cI)")
  find "$dist/go/proxy" -type f | sed "s#^$dist/#  #"
}

go_lib() { # go_lib STATICLIB DIR ARCH: the library without debug info, checked, into lib/DIR
  local out="bindings-go/lib/$2/libleaksense_ffi.a" fn missing=() lib="$1"
  mkdir -p "$(dirname "$out")"
  if [[ "$2" == *_musl ]]; then
    # Rust leaves the unwinder out of a musl staticlib (native-static-libs: -lunwind -lc) and
    # links its own copy, LLVM's libunwind, into musl executables. Not every musl C toolchain
    # has a libunwind (Alpine's gcc has libgcc_eh), so the library carries Rust's: the
    # LDFLAGS then need musl's libc alone, under any C compiler. llvm-ar (zig's) appends it.
    local target
    case "$3" in x86-64) target=x86_64-unknown-linux-musl ;; *) target=aarch64-unknown-linux-musl ;; esac
    lib="$stage/$2.a"
    cp "$1" "$lib"
    python-zig ar qLs "$lib" "$sysroot/lib/rustlib/$target/lib/self-contained/libunwind.a"
    nm --defined-only -g "$lib" 2>/dev/null | grep ' T _Unwind_Resume$' >/dev/null || fail "$lib: no unwinder after adding libunwind.a"
  fi
  objcopy --strip-debug "$lib" "$out"
  [ "$lib" = "$1" ] || rm "$lib"
  # Every function the header declares is defined in the library (and for the right machine).
  local defined
  defined="$(nm --defined-only -g "$out" 2>/dev/null | awk '$2 == "T" {print $3}' | sort -u)"
  local declared
  declared="$(grep -oE '\bleaksense_[a-z0-9_]+\(' ffi/include/leaksense.h | tr -d '(' | sort -u)"
  [ -n "$declared" ] || fail "no functions found in ffi/include/leaksense.h"
  for fn in $declared; do
    grep -qx "$fn" <<<"$defined" || missing+=("$fn")
  done
  [ ${#missing[@]} -eq 0 ] || fail "$out lacks ${missing[*]}"
  ar p "$out" "$(ar t "$out" | grep -m1 'leaksense_ffi.*\.o$')" >"$stage/probe.o"
  check_file "$stage/probe.o" "ELF 64-bit LSB relocatable, $3*"
  rm "$stage/probe.o"
  echo "  $out: all $(wc -w <<<"$declared") functions of the header defined"
}

cli_part() {
  say "CLI binaries"
  rm -rf "$dist/cli" "$stage/cli"
  mkdir -p "$dist/cli" "$stage/cli"
  local targets=(x86_64-unknown-linux-musl) t name
  $host_only || targets+=(aarch64-unknown-linux-musl)
  for t in "${targets[@]}"; do
    cargo zigbuild --release -p leaksense-cli --bin leaksense --target "$t"
    name="leaksense-$version-$t"
    mkdir -p "$stage/cli/$name"
    objcopy --strip-all "$CARGO_TARGET_DIR/$t/release/leaksense" "$stage/cli/$name/leaksense"
    case "$t" in
      x86_64-*) check_file "$stage/cli/$name/leaksense" "ELF 64-bit LSB *executable, x86-64*static*" ;;
      aarch64-*) check_file "$stage/cli/$name/leaksense" "ELF 64-bit LSB *executable, ARM aarch64*static*" ;;
    esac
    tar czf "$dist/cli/$name.tar.gz" -C "$stage/cli" "$name"
  done
  ls "$dist/cli"
}

sizes() { # dist/SIZES.md: every artifact that has a goal, and the rest for reference
  python3 - "$dist" <<'EOF'
import glob, os, sys
dist = sys.argv[1]
MB = 1e6
rows = []
def add(path, what, goal):
    size = os.path.getsize(path)
    status = "" if goal is None else ("under goal" if size < goal * MB else "OVER GOAL")
    rows.append((os.path.relpath(path, dist), what, size / MB, goal, status))
for p in sorted(glob.glob(f"{dist}/python/*.whl")): add(p, "wheel", 5)
for p in sorted(glob.glob(f"{dist}/python/*.tar.gz")): add(p, "sdist", None)
for p in sorted(glob.glob(f"{dist}/.stage/npm/*/*.node")): add(p, "addon", 5)
for p in sorted(glob.glob(f"{dist}/.stage/npm/*/*.wasm")): add(p, "addon (WASI)", 5)
for p in sorted(glob.glob(f"{dist}/npm/*.tgz")): add(p, "npm tarball", None)
for p in sorted(glob.glob(f"{dist}/go/module/lib/*/*.a")): add(p, "Go static library", 25)
for p in sorted(glob.glob(f"{dist}/go/proxy/**/*.zip", recursive=True)): add(p, "Go module zip", None)
for p in sorted(glob.glob(f"{dist}/cli/*.tar.gz")): add(p, "CLI (tar.gz)", None)
for p in sorted(glob.glob(f"{dist}/.stage/cli/*/leaksense")): add(p, "CLI binary", None)
out = ["| artifact | kind | size (MB) | goal (MB) | |", "| --- | --- | ---: | ---: | --- |"]
out += [f"| `{a}` | {k} | {s:.2f} | {'' if g is None else g} | {st} |" for a, k, s, g, st in rows]
open(f"{dist}/SIZES.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
}

for part in "${parts[@]}"; do "${part}_part"; done
say "sizes (dist/SIZES.md)"
sizes
say "versions"
python3 scripts/check-versions.py --dist "$dist"

if ! $host_only; then
  say "install test (x86_64), then the aarch64 artifacts under qemu-user"
  bash scripts/install-test.sh "${parts[@]}"
  if command -v qemu-aarch64-static >/dev/null && [ -d /usr/aarch64-linux-gnu/lib ]; then
    bash scripts/install-test.sh --arch arm64 "${parts[@]}"
  else
    echo "dist: no qemu-aarch64-static or /usr/aarch64-linux-gnu (apt: qemu-user-static libc6-arm64-cross):" \
      "the aarch64 artifacts got their format checks only"
  fi
fi
say "done: $dist"
