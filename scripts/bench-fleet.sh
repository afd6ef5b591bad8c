#!/usr/bin/env bash
# Fleet benchmark (issue 8, part 4): `leaksense analyze` on 1,000 generated series of 24 h at
# 15 s, from an OpenMetrics file (streamed) and the same file read whole (content-guessed
# format, the non-streaming alternative), then from a real Prometheus server on 127.0.0.1
# backfilled with the same series. Prints wall time and peak RSS of each run.
# Usage: scripts/bench-fleet.sh [SERIES] (default 1000). Needs prometheus, promtool, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p leaksense-cli --bin leaksense --example gen_fleet
bin="$target/release/leaksense"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$target/release/examples/gen_fleet" "$n" 15 "$work/fleet.om"
cp "$work/fleet.om" "$work/fleet.txt"
# The scenarios start at 1_700_000_000 s and span 24 h.
end=$((1700000000 + 86400))
measure() {
  local label="$1"; shift
  /usr/bin/time -f "$label: wall %e s, user %U s, peak RSS %M kB" "$@" >"$work/out.json"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('  series', len(d['series']), 'flagged', sum(s['flagged'] for s in d['series']))" "$work/out.json"
}
measure "file, streamed (.om)" "$bin" analyze --input "$work/fleet.om" --format json
measure "file, read whole (.txt)" "$bin" analyze --input "$work/fleet.txt" --format json

echo "backfilling $n series with promtool..."
/usr/bin/time -f "promtool backfill: wall %e s" promtool tsdb create-blocks-from openmetrics "$work/fleet.om" "$work/data" >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'global:\n  scrape_interval: 1h\n' >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" 2>"$work/prom.log" &
pid=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
url="http://127.0.0.1:$port"
for workers in 1 8; do
  measure "prometheus, --workers $workers" "$bin" analyze --prometheus "$url" \
    --query 'app_memory_bytes' --range 24h --time "$end" --workers "$workers" --format json
done
measure "prometheus, --group-by instance (one subquery)" "$bin" analyze --prometheus "$url" \
  --query 'app_memory_bytes' --range 24h --time "$end" --group-by instance --step 15s --format json
