#!/usr/bin/env bash
# The previous detector on the current generator, for detector-quality's fourth column.
# Builds bench/examples/timeline.rs in an export of REV (default 3d07fb9: the detector before
# the traffic covariate, with the current scenarios) and writes its timelines for seeds A..B.
#
#   scripts/detector-previous.sh 1000 1020 > /tmp/prev-1000.jsonl
#   cargo run --release -p leaksense-bench --bin detector-quality -- --seeds 1000..1020 \
#       --previous /tmp/prev-1000.jsonl
set -euo pipefail
a=${1:?usage: detector-previous.sh A B [REV]} b=${2:?usage: detector-previous.sh A B [REV]}
rev=${3:-3d07fb9}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
dir=${TMPDIR:-/tmp}/leaksense-previous-$rev
if [ ! -x "$dir/timeline" ]; then
    rm -rf "$dir" && mkdir -p "$dir/src"
    git -C "$root" archive "$rev" | tar -x -C "$dir/src"
    cp "$root/bench/examples/timeline.rs" "$dir/src/bench/examples/"
    # The dependencies build once in a shared target directory; the example, whose name is
    # the same in both trees, is copied out at once.
    target=${CARGO_TARGET_DIR:-$dir/target}
    (cd "$dir/src" && CARGO_TARGET_DIR="$target" \
        cargo build --release --quiet -p leaksense-bench --example timeline >&2)
    cp "$target/release/examples/timeline" "$dir/timeline"
    rm -rf "$dir/src" "$dir/target"
fi
"$dir/timeline" "$a" "$b"
