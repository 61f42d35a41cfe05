#!/usr/bin/env bash
# bench/profile.sh: where the time goes, for the rows of `make bench` that compare with C
# (`make profile`; run `make bench` first, it builds what this uses).
#
# 1. Fork per task: CPU and page faults per fork of the pool (perf stat --no-inherit) and of
#    its workers (the rest), beside the bare C fork loop; then the pool's own profile.
# 2. Poll: system calls per request (strace -c) and CPU per request (perf stat -p) of one
#    front-end and of the minimal C server under the same wrk load; then the front-end's
#    profile by library.
# Needs perf (Debian: linux-perf), strace, wrk, and the binaries in .build/static and .build/bench.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=.build/static/release
for tool in perf strace wrk; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/profile.sh: $tool is missing" >&2; exit 2; }
done
for binary in "$BUILD/forkpool" "$BUILD/forkpool-bench" .build/bench/fork_loop .build/bench/mhd_minimal; do
  [ -x "$binary" ] || { echo "bench/profile.sh: $binary is missing; run make bench first" >&2; exit 2; }
done
OUT=.build/bench/profile
mkdir -p "$OUT"
children=()
cleanup() { for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Prints "task-clock-ms page-faults" of a perf stat output file.
clock_and_faults() {
  awk '/task-clock/ {gsub(",", "", $1); ms = $1} /page-faults/ {gsub(",", "", $1); faults = $1} END {print ms, faults}' "$1"
}

# Per fork: whole tree, and the parent alone (--no-inherit); the child is the difference.
per_fork() {
  local name=$1 forks=$2; shift 2
  perf stat -e task-clock,page-faults -o "$OUT/$name.all" "$@" >/dev/null
  perf stat --no-inherit -e task-clock,page-faults -o "$OUT/$name.parent" "$@" >/dev/null
  read -r all_ms all_faults < <(clock_and_faults "$OUT/$name.all")
  read -r parent_ms parent_faults < <(clock_and_faults "$OUT/$name.parent")
  python3 -c "
forks = $forks
print(f'%-22s parent %6.1f us %5.1f faults   child %6.1f us %5.1f faults   (per fork, {forks} forks)' % (
    '$name', $parent_ms * 1000 / forks, $parent_faults / forks,
    ($all_ms - $parent_ms) * 1000 / forks, ($all_faults - $parent_faults) / forks))"
}

echo "== 1. fork per task"
per_fork "C fork loop" 2000 .build/bench/fork_loop 2000 4
per_fork "forkpool engine" 6000 "$BUILD/forkpool-bench" fork   # three rows of 2000
perf record -g --no-inherit -o "$OUT/pool.data" "$BUILD/forkpool-bench" fork >/dev/null 2>&1
echo "the engine's pool, share of its time (perf record -g --no-inherit; children included):"
perf report -i "$OUT/pool.data" --children --sort sym --stdio -g none 2>/dev/null |
  grep -E "\] (_Fork|dup_mmap|copy_page_range|asm_exc_page_fault|do_wp_page)$" | sed 's/^/  /'

echo
echo "== 2. poll GET /v1/jobs/{id}, one front-end against one C process (wrk -t2 -c32 -d4s)"
"$BUILD/forkpool" serve --host 127.0.0.1 --port 0 --ipc-key 0x7eb0fff0 --log-level warning --frontends 1 \
  > "$OUT/serve.out" 2>"$OUT/serve.err" &
children+=($!)
for _ in $(seq 200); do grep -q "listening on" "$OUT/serve.out" && break; sleep 0.05; done
port=$(grep -o "127.0.0.1:[0-9]*" "$OUT/serve.out" | cut -d: -f2)
curl -s -X POST "http://127.0.0.1:$port/v1/jobs?wait=5" -H 'Content-Type: application/json' \
  -d '{"task":"echo","input":{"hello":"world"}}' > "$OUT/body.json"
job=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT/body.json")
frontend=$(curl -s -i "http://127.0.0.1:$port/v1/jobs/$job" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-forkpool-frontend" {print $2}')
.build/bench/mhd_minimal 127.0.0.1 "$OUT/body.json" 1 300 > "$OUT/mhd.out" 2>&1 &
children+=($!)
for _ in $(seq 200); do grep -q "listening on" "$OUT/mhd.out" && break; sleep 0.05; done
mhd_port=$(grep -o "127.0.0.1:[0-9]*" "$OUT/mhd.out" | cut -d: -f2)
mhd_server=$(pgrep -P "${children[1]}" | head -1)
mhd_server=${mhd_server:-${children[1]}}

measure() {
  local name=$1 pid=$2 url=$3 requests
  timeout 6 strace -c -f -p "$pid" -o "$OUT/$name.strace" 2>/dev/null &
  local tracer=$!
  sleep 0.5
  requests=$(wrk -t2 -c32 -d4s "$url" | awk '/requests in/ {print $1}')
  wait "$tracer" || true
  echo "$name: system calls per request (strace -c, $requests requests):"
  awk -v n="$requests" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {printf "  %-12s %.2f\n", $NF, $4 / n}' "$OUT/$name.strace" |
    sort -k2 -rn | head -6
  perf stat -e task-clock -p "$pid" -o "$OUT/$name.cpu" -- sleep 4.2 &
  local stat=$!
  requests=$(wrk -t2 -c32 -d4s "$url" | awk '/requests in/ {print $1}')
  wait "$stat"
  read -r ms _ < <(clock_and_faults "$OUT/$name.cpu")
  python3 -c "print('  CPU per request: %.2f us (%d requests, %.0f/s)' % ($ms * 1000 / $requests, $requests, $requests / 4))"
}
measure forkpool "$frontend" "http://127.0.0.1:$port/v1/jobs/$job"
measure "C server" "$mhd_server" "http://127.0.0.1:$mhd_port/v1/jobs/$job"

perf record -g -p "$frontend" -o "$OUT/frontend.data" -- sleep 4 >/dev/null 2>&1 &
recorder=$!
wrk -t2 -c32 -d4s "http://127.0.0.1:$port/v1/jobs/$job" >/dev/null
wait "$recorder" || true
echo "the front-end's time by library (perf record -g -p):"
perf report -i "$OUT/frontend.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep "%" | head -5 | sed 's/^/  /'
echo "its own code, largest callers (children included):"
perf report -i "$OUT/frontend.data" --children --sort sym --stdio -g none --dsos forkpool 2>/dev/null |
  grep -E "(FrontendHandler|DaemonContext|Rendering|JobTable|RequestMetrics)" | head -8 | sed 's/^/  /' | cut -c1-140
