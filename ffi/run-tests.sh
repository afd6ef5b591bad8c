#!/usr/bin/env bash
# Builds the C ABI (the one documented command), checks the committed header, and runs the C
# test program under valgrind: any invalid access or leaked byte fails. Needs gcc and valgrind
# (scripts/setup.sh installs valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
lib="$CARGO_TARGET_DIR/release/libleaksense_ffi.a"

echo "==> cargo build -p leaksense-ffi --release"
cargo build -p leaksense-ffi --release

echo "==> header is current (cbindgen 0.29.4)"
cargo test -p leaksense-ffi --quiet

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "==> gcc ffi/tests/c/test_leaksense.c"
gcc -std=c11 -Wall -Wextra -Werror -g -O1 -I ffi/include ffi/tests/c/test_leaksense.c \
  "$lib" -ldl -lpthread -lm -o "$out/test_leaksense"

echo "==> valgrind"
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
  "$out/test_leaksense" tests/vectors/traffic.json
