#!/usr/bin/env bash
# The previous detector on the current generators, for the "previous" column of
# detector-quality and detector-unseen. Builds bench/examples/timeline.rs (with the current
# bench/src/unseen.rs and core/src/detect/scenarios/) in an export of REV (default 3d07fb9: the
# detector before the traffic covariate) and writes its timelines. The quality generator is
# append-only, so REV's own situations draw the same series with the current one; the current
# one adds the situations appended since.
#
#   scripts/detector-previous.sh 1000 1020 > /tmp/prev-1000.jsonl
#   cargo run --release -p leaksense-bench --bin detector-quality -- --seeds 1000..1020 \
#       --previous /tmp/prev-1000.jsonl
#   scripts/detector-previous.sh unseen 0 40 > /tmp/prev-unseen.jsonl
#   cargo run --release -p leaksense-bench --bin detector-unseen -- --seeds 0..40 \
#       --previous /tmp/prev-unseen.jsonl
set -euo pipefail
usage="usage: detector-previous.sh [unseen] A B [REV]"
mode=()
if [ "${1:-}" = unseen ]; then mode=(unseen); shift; fi
a=${1:?$usage} b=${2:?$usage} rev=${3:-3d07fb9}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
dir=${TMPDIR:-/tmp}/leaksense-previous-$rev
stamp=$(cat "$root/bench/examples/timeline.rs" "$root/bench/src/unseen.rs" \
    "$root"/core/src/detect/scenarios/*.rs | sha256sum | cut -c1-16)
if [ ! -x "$dir/timeline-$stamp" ]; then
    rm -rf "$dir" && mkdir -p "$dir/src"
    git -C "$root" archive "$rev" | tar -x -C "$dir/src"
    cp "$root/bench/examples/timeline.rs" "$dir/src/bench/examples/"
    cp "$root/bench/src/unseen.rs" "$dir/src/bench/src/"
    rm -rf "$dir/src/core/src/detect/scenarios"
    cp -r "$root/core/src/detect/scenarios" "$dir/src/core/src/detect/"
    grep -q '^fastrand' "$dir/src/bench/Cargo.toml" ||
        sed -i 's/^serde_json.workspace = true$/&\nfastrand.workspace = true/' \
            "$dir/src/bench/Cargo.toml"
    # The dependencies build once in a shared target directory; the example, whose name is
    # the same in both trees, is copied out at once.
    target=${CARGO_TARGET_DIR:-$dir/target}
    (cd "$dir/src" && CARGO_TARGET_DIR="$target" \
        cargo build --release --quiet -p leaksense-bench --example timeline >&2)
    cp "$target/release/examples/timeline" "$dir/timeline-$stamp"
    rm -rf "$dir/src" "$dir/target"
fi
"$dir/timeline-$stamp" "${mode[@]}" "$a" "$b"
