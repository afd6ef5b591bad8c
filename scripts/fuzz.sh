#!/usr/bin/env bash
# Fuzzes what leaksense reads from strangers (issue #18) with cargo-fuzz: libFuzzer on nightly,
# with AddressSanitizer. Targets (fuzz/src/lib.rs): csv, json, openmetrics (the `analyze` input
# readers, through the detector and every renderer), options (MonitorConfig::from_json and the
# detector/attribution options), ffi (sequences of C ABI calls; no call may answer INTERNAL).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   fuzz (default: 60 s each, all targets)
#   scripts/fuzz.sh --replay                            run the seeds and the saved regressions
#                                                       once (the test suite's step)
# The corpus grows in fuzz/corpus/ (not committed). A crash is written to fuzz/artifacts/; add
# its minimized input (`cargo +nightly fuzz tmin TARGET FILE`) to fuzz/regressions/TARGET/.
# Record hours run and findings in RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TARGET_DIR="${LEAKSENSE_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/../target}-fuzz}"
all=(csv json openmetrics options ffi)

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: needs a nightly toolchain and cargo-fuzz:" >&2
  echo "  rustup toolchain install nightly --profile minimal && cargo install cargo-fuzz --locked" >&2
  exit 1
fi

# libFuzzer options: a slow input is a finding too (30 s), memory is capped like a small service.
opts=(-timeout=30 -rss_limit_mb=2048 -max_len=65536)

if [ "${1:-}" = "--replay" ]; then
  cargo +nightly fuzz build >/dev/null
  for t in "${all[@]}"; do
    mkdir -p "regressions/$t"
    echo "fuzz: replaying seeds/$t and regressions/$t"
    # -runs=0 executes every input once; a crash makes libFuzzer exit non-zero.
    if ! log="$(cargo +nightly fuzz run "$t" "seeds/$t" "regressions/$t" -- -runs=0 "${opts[@]}" 2>&1)"; then
      echo "$log" | tail -40 >&2
      echo "fuzz: $t failed on a seed or regression input" >&2
      exit 1
    fi
    echo "$log" | grep -E "^(INFO: seed corpus|Done)" || true
  done
  exit 0
fi

secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "regressions/$t"
  echo "fuzz: $t for ${secs}s"
  cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" "regressions/$t" -- \
    -max_total_time="$secs" "${opts[@]}" -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|error)" || true
done
