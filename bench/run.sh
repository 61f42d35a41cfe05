#!/usr/bin/env bash
# bench/run.sh: forkpool's whole benchmark in one run, one table (the lead wires it as `make bench`).
#
# Builds the release `forkpool` and `forkpool-bench` (static Swift runtime, as in the image), compiles the C load generator and
# references (bench/src/*.c) with gcc -O2 into .build/bench/, then runs bench/bench.py:
# end-to-end throughput (fork per task and reused workers), latency, poll throughput beside a
# minimal C libmicrohttpd server, scaling over front-ends and stored jobs, memory, and the
# engine beside bare C fork and pre-forked loops. Needs gcc, libmicrohttpd-dev, wrk, python3.
#
# Environment: BENCH_QUICK=1 fills 20k instead of 1M stored jobs (to try the script quickly);
# BENCH_FILL_SECONDS bounds each fill of the table (default 180).
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs what the references and the load need when it is missing (wrk, gcc).
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -e /usr/include/microhttpd.h ] || missing+=(libmicrohttpd-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/run.sh: installing ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null 2>&1 || { echo "bench/run.sh: python3 is missing" >&2; exit 2; }

SWIFT=${SWIFT:-swift}
# The binaries as the container image ships them: release, Swift's runtime linked in
# statically (a fork copies fewer mappings). Their own build directory, so the debug and
# release builds of `make test` and `make run` are not rebuilt.
BUILD=(-c release --static-swift-stdlib --scratch-path .build/static)
echo "building: $SWIFT build ${BUILD[*]} --product forkpool, --product forkpool-bench; bench/src/*.c" >&2
"$SWIFT" build "${BUILD[@]}" --product forkpool >&2
"$SWIFT" build "${BUILD[@]}" --product forkpool-bench >&2
export BENCH_BUILD=.build/static/release
mkdir -p .build/bench
CFLAGS="-O2 -Wall -Wextra -Werror"
gcc $CFLAGS -pthread -o .build/bench/loadgen bench/src/loadgen.c
gcc $CFLAGS -o .build/bench/fork_loop bench/src/fork_loop.c
gcc $CFLAGS -o .build/bench/prefork_rtt bench/src/prefork_rtt.c
gcc $CFLAGS -o .build/bench/mhd_minimal bench/src/mhd_minimal.c -lmicrohttpd

# bench.py stops its servers on SIGTERM/SIGINT itself; pass ours on to it.
PYTHONDONTWRITEBYTECODE=1 python3 bench/bench.py &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true; wait "$child" || true; exit 130' INT TERM
set +e
wait "$child"
code=$?
exit $code
