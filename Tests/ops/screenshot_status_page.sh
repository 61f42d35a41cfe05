#!/usr/bin/env bash
# Takes screenshots of the status page (GET /) with headless Chromium, at a phone's
# width and a desktop's, while the server has running, finished and failed jobs.
# usage: Tests/ops/screenshot_status_page.sh BIN [OUT_DIR]   (OUT_DIR: .build/screenshots)
set -euo pipefail
bin=${1:?usage: screenshot_status_page.sh BIN [OUT_DIR]}
out=${2:-.build/screenshots}
mkdir -p "$out"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
key=$(printf '0x465d%04x' $(( $$ & 0xffff )))
log=$(mktemp)
"$bin" serve --host 127.0.0.1 --port 0 --ipc-key "$key" --frontends 2 --workers 3 \
  --job-capacity 1000 --store-bytes 16777216 > "$log.out" 2> "$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log" "$log.out"' EXIT
for _ in $(seq 300); do grep -q "listening on" "$log.out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '[0-9]*$' "$log.out")
base="http://127.0.0.1:$port"
post() { curl -s -o /dev/null -X POST "$base/v1/jobs$2" -H 'Content-Type: application/json' -d "$1"; }
for n in $(seq 1 12); do post "{\"task\": \"echo\", \"input\": $n}" "?wait=5"; done
for n in 1 2; do post '{"task": "sha256", "input": {"data": "abc", "rounds": 20000}}' "?wait=10"; done
post '{"task": "fail", "input": {"message": "disk full"}}' "?wait=5"
for n in 1 2 3; do post '{"task": "sleep", "input": {"ms": 30000}}' ""; done
for n in 1 2 3 4; do post '{"task": "sleep", "input": {"ms": 1000}}' ""; done
# Wait until the three long sleeps run, so the page shows busy workers.
for _ in $(seq 100); do
  curl -s "$base/v1/status" | grep -q '"busy":3' && break
  sleep 0.1
done
for shape in phone:412,915 desktop:1280,900; do
  name=${shape%%:*}
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${shape#*:}" \
    --screenshot="$out/status-$name.png" "$base/" >/dev/null 2>&1
  echo "screenshot: $out/status-$name.png"
done
