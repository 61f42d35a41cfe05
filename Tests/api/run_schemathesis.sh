#!/usr/bin/env bash
# Checks the running server against openapi.yaml.
#
#   bash Tests/api/run_schemathesis.sh .build/debug/forkpool
#
# 1. installs the pinned Python packages (requirements.txt) when they are not importable;
# 2. validates openapi.yaml with openapi-spec-validator;
# 3. starts the given forkpool binary on a free port, with a token and an ipc key of its own;
# 4. runs schemathesis (positive and negative data, explicit examples, links) against it;
# 5. runs extra_checks.py (what schemathesis cannot derive from the spec: unknown routes,
#    auth, 413/415/422/429, body and query rules, long polls, cancel, pagination, ...);
# 6. SIGTERMs the server while a job runs: /readyz and POST must answer 503 while it drains,
#    it must exit 0 and leave no process and no System V object with its key;
# 7. does 3 and 6 again for a small server (one worker, queue of one) to see a 429.
# Exits non-zero on any failure. The last line is "run_schemathesis: N passed, M failed".
#
# Environment: FORKPOOL_API_MAX_EXAMPLES (default 50) and FORKPOOL_API_SEED (default fixed)
# tune schemathesis; FORKPOOL_API_SPEC checks another spec file than openapi.yaml;
# PYTHON picks the interpreter (default python3).

set -u -o pipefail
# No job control: a background child is then never a process group leader, so setsid(1)
# makes it a session leader in place instead of forking, and $! is the server itself.
set +m

if [ $# -ne 1 ]; then
    echo "usage: $0 path/to/forkpool" >&2
    exit 2
fi
case "$1" in
    /*) BIN=$1 ;;
    *) BIN=$PWD/$1 ;;
esac
if [ ! -x "$BIN" ]; then
    echo "run_schemathesis: $BIN is not an executable" >&2
    exit 2
fi

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SPEC=${FORKPOOL_API_SPEC:-$ROOT/openapi.yaml}
PY=${PYTHON:-python3}
MAX_EXAMPLES=${FORKPOOL_API_MAX_EXAMPLES:-50}
SEED=${FORKPOOL_API_SEED:-20261128}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/forkpool-api.XXXXXX")
TOKEN="api-test-$$-$RANDOM$RANDOM"
STARTED=$SECONDS

PASSED=0
FAILED=0
FAILURES=()
pass() { PASSED=$((PASSED + 1)); echo "run_schemathesis: ok   $1"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$1"); echo "run_schemathesis: FAIL $1" >&2; }

# Servers this script started: pid, ipc key, name.
SERVER_PIDS=()
SERVER_KEYS=()

cleanup() {
    local index pid key
    for index in "${!SERVER_PIDS[@]}"; do
        pid=${SERVER_PIDS[$index]}
        key=${SERVER_KEYS[$index]}
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null; then
            echo "run_schemathesis: stopping server $pid left running" >&2
            kill -TERM "$pid" 2>/dev/null
            for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        # Its own session and process group (setsid): the supervisor, the pool, the front-ends, the workers.
        if pgrep -s "$pid" >/dev/null 2>&1; then
            echo "run_schemathesis: killing what is left of server $pid" >&2
            kill -KILL -- "-$pid" 2>/dev/null
        fi
        remove_ipc "$key"
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The ipcs lines (shared memory, semaphores, queues) whose key is $1.
ipc_lines() {
    local hex
    hex=$(printf '0x%08x' "$1")
    ipcs -a 2>/dev/null | awk -v key="$hex" '$1 == key'
}

# Removes what a failed run left with key $1 (only that key).
remove_ipc() {
    local hex
    hex=$(printf '0x%08x' "$1")
    ipc_lines "$1" | grep -q . || return 0
    ipcrm -M "$hex" 2>/dev/null
    ipcrm -S "$hex" 2>/dev/null
    ipcrm -Q "$hex" 2>/dev/null
}

# A key no System V object uses yet, from the runner's pid and a base ($1).
free_key() {
    local base=$1 attempt key
    for attempt in $(seq 0 20); do
        key=$(( base | (($$ + attempt * 7919) & 0xffffff) ))
        if ! ipc_lines "$key" | grep -q .; then
            echo "$key"
            return 0
        fi
    done
    return 1
}

# start_server NAME KEY [serve flags...]: starts the binary in a session of its own and waits
# for its "listening on" line; sets SERVER_PID and SERVER_PORT.
start_server() {
    local name=$1 key=$2 line deadline
    shift 2
    SERVER_PID=
    SERVER_PORT=
    if command -v setsid >/dev/null 2>&1; then
        setsid "$BIN" serve --host 127.0.0.1 --port 0 --ipc-key "$key" --token "$TOKEN" "$@" \
            >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
    else
        "$BIN" serve --host 127.0.0.1 --port 0 --ipc-key "$key" --token "$TOKEN" "$@" \
            >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
    fi
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    SERVER_KEYS+=("$key")
    sleep 0.05
    if command -v setsid >/dev/null 2>&1 && kill -0 "$SERVER_PID" 2>/dev/null \
            && [ "$(ps -o sid= -p "$SERVER_PID" | tr -d ' ')" != "$SERVER_PID" ]; then
        echo "run_schemathesis: the $name server (pid $SERVER_PID) is not in a session of its own" >&2
        return 1
    fi
    deadline=$((SECONDS + 30))
    while :; do
        line=$(grep -m1 'listening on' "$WORK/$name.out" 2>/dev/null)
        [ -n "$line" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "run_schemathesis: the $name server exited before listening; its standard error:" >&2
            sed 's/^/    /' "$WORK/$name.err" >&2
            return 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "run_schemathesis: no 'listening on' line from the $name server within 30 s" >&2
            return 1
        fi
        sleep 0.05
    done
    SERVER_PORT=$(printf '%s\n' "$line" | sed -n 's/.*listening on http:\/\/.*:\([0-9][0-9]*\).*/\1/p')
    if [ -z "$SERVER_PORT" ]; then
        echo "run_schemathesis: cannot read the port from: $line" >&2
        return 1
    fi
    echo "run_schemathesis: $name server pid $SERVER_PID, ipc key $(printf '0x%08x' "$key"): $line"
}

# stop_server NAME PID KEY [signaled]: SIGTERM (once: a second one stops at once), exit code 0
# within a deadline, no process of its session and no System V object with its key left.
stop_server() {
    local name=$1 pid=$2 key=$3 signaled=${4:-} status deadline left
    [ -n "$signaled" ] || kill -TERM "$pid" 2>/dev/null
    deadline=$((SECONDS + 40))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name server: still running 40 s after SIGTERM"
        return
    fi
    wait "$pid"
    status=$?
    if [ "$status" -eq 0 ]; then
        pass "$name server: exit code 0 after SIGTERM"
    else
        fail "$name server: exit code $status after SIGTERM; its standard error ends:"
        tail -20 "$WORK/$name.err" | sed 's/^/    /' >&2
    fi
    # Workers die with their parent (PDEATHSIG); give them a moment.
    left=
    for _ in $(seq 50); do
        left=$(pgrep -s "$pid" 2>/dev/null | tr '\n' ' ')
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        fail "$name server: processes left in its session: $left"
        ps -o pid,ppid,stat,cmd -p "$(echo $left | tr ' ' ',')" >&2
    else
        pass "$name server: no process left"
    fi
    if ipc_lines "$key" | grep -q .; then
        fail "$name server: System V objects left with key $(printf '0x%08x' "$key"):"
        ipc_lines "$key" >&2
    else
        pass "$name server: no System V object left (key $(printf '0x%08x' "$key"))"
    fi
}

# 1. Python packages.
have_packages() {
    "$PY" - <<'EOF' 2>/dev/null
import sys
import openapi_schema_validator, openapi_spec_validator, schemathesis, yaml
sys.exit(0 if schemathesis.__version__.split(".")[0] == "3" else 1)
EOF
}
if ! have_packages; then
    echo "run_schemathesis: installing $(grep -v '^#' "$HERE/requirements.txt" | tr '\n' ' ')"
    if ! "$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" || ! have_packages; then
        echo "run_schemathesis: cannot install the Python packages of $HERE/requirements.txt" >&2
        echo "run_schemathesis: 0 passed, 1 failed"
        exit 1
    fi
fi

# 2. The spec itself.
if "$PY" -m openapi_spec_validator "$SPEC"; then
    pass "openapi.yaml is valid (openapi-spec-validator)"
else
    fail "openapi.yaml is not valid"
fi

# 3-6. The main server.
MAIN_KEY=$(free_key 0x5a000000) || { echo "run_schemathesis: no free ipc key" >&2; exit 1; }
if start_server main "$MAIN_KEY" --frontends 2 --workers 2 --job-capacity 2000 --store-bytes 67108864; then
    MAIN_PID=$SERVER_PID
    BASE=http://127.0.0.1:$SERVER_PORT

    echo "run_schemathesis: schemathesis against $BASE (max examples $MAX_EXAMPLES, seed $SEED)"
    # From $WORK, so nothing (.hypothesis) is written into the work tree.
    if (cd "$WORK" && timeout 600 "$PY" -m schemathesis.cli run "$SPEC" \
            --base-url "$BASE" \
            -H "Authorization: Bearer $TOKEN" \
            --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth \
            --data-generation-method all \
            --stateful links \
            --validate-schema true \
            --hypothesis-max-examples "$MAX_EXAMPLES" \
            --hypothesis-seed "$SEED" \
            --hypothesis-database none \
            --hypothesis-suppress-health-check all \
            --request-timeout 70000 \
            --hosts-file "$WORK/hosts.toml" \
            --schemathesis-io-telemetry false \
            --sanitize-output true \
            --junit-xml "$WORK/schemathesis.xml" \
            --no-color); then
        pass "schemathesis"
    else
        fail "schemathesis (rerun: FORKPOOL_API_SEED=$SEED bash $0 $1)"
    fi

    if "$PY" "$HERE/extra_checks.py" --spec "$SPEC" --base "$BASE" --token "$TOKEN" api; then
        pass "extra checks"
    else
        fail "extra checks"
    fi

    # Drain: a running job keeps the server draining for a moment after SIGTERM.
    SIGNALED=
    if "$PY" "$HERE/extra_checks.py" --spec "$SPEC" --base "$BASE" --token "$TOKEN" drain-prep; then
        kill -TERM "$MAIN_PID" 2>/dev/null
        SIGNALED=yes
        if "$PY" "$HERE/extra_checks.py" --spec "$SPEC" --base "$BASE" --token "$TOKEN" drain-probe; then
            pass "503 while draining"
        else
            fail "503 while draining"
        fi
    else
        fail "could not start a job before SIGTERM"
    fi
    stop_server main "$MAIN_PID" "$MAIN_KEY" "$SIGNALED"
else
    fail "main server did not start"
fi

# 7. A small server, to see a full queue.
SMALL_KEY=$(free_key 0x5b000000) || { echo "run_schemathesis: no free ipc key" >&2; exit 1; }
if start_server small "$SMALL_KEY" --frontends 1 --workers 1 --queue-capacity 1 --job-capacity 3 \
        --store-bytes 4194304 --shutdown-grace-seconds 0; then
    SMALL_PID=$SERVER_PID
    if "$PY" "$HERE/extra_checks.py" --spec "$SPEC" --base "http://127.0.0.1:$SERVER_PORT" --token "$TOKEN" queue-full; then
        pass "429 when the queue is full"
    else
        fail "429 when the queue is full"
    fi
    stop_server small "$SMALL_PID" "$SMALL_KEY"
else
    fail "small server did not start"
fi

echo
echo "run_schemathesis: finished in $((SECONDS - STARTED)) s"
for failure in "${FAILURES[@]+"${FAILURES[@]}"}"; do
    echo "run_schemathesis: failed: $failure"
done
echo "run_schemathesis: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
