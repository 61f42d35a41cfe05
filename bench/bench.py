#!/usr/bin/env python3
"""forkpool's end-to-end benchmark: run by bench/run.sh (after it built everything).

Starts forkpool servers on 127.0.0.1 with unique System V keys, drives them with the C
load generator (.build/bench/loadgen) and wrk, measures the C references (fork_loop,
prefork_rtt, mhd_minimal) and the engine benchmark (forkpool-bench) in the same run, and
prints one table: what | forkpool | reference | ratio | target | met.

Every server is stopped with SIGTERM at the end (and on SIGINT/SIGTERM/an error) and must
exit 0; the System V objects of the keys used here are checked to be gone.
"""
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BENCH_BUILD", ".build/static/release"))
FORKPOOL = os.path.join(BUILD, "forkpool")
ENGINE = os.path.join(BUILD, "forkpool-bench")
OUT = os.path.join(ROOT, ".build/bench")
LOADGEN = os.path.join(OUT, "loadgen")
HOST = "127.0.0.1"
WRK_ARGS = ["-t2", "-c32", "-d5s"]
POLL_ROUNDS = 5          # alternating wrk rounds per poll comparison; the median counts
QUICK = os.environ.get("BENCH_QUICK") == "1"   # smaller store sizes, for trying the script
FILL_BOUND_SECONDS = float(os.environ.get("BENCH_FILL_SECONDS", "180"))

KEY_BASE = 0x7EB00000 + ((os.getpid() & 0xFFF) << 4)
servers = []          # live Server objects
problems = []         # things that went wrong, printed under the table
rows = []             # (what, forkpool, reference, ratio, target, met)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Server:
    """One `forkpool serve` (or mhd_minimal) process tree on 127.0.0.1:0."""

    count = 0

    def __init__(self, name, argv, key=None):
        Server.count += 1
        self.name, self.key = name, key
        self.out_path = os.path.join(OUT, "logs", f"{name}.out")
        self.err_path = os.path.join(OUT, "logs", f"{name}.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.process = subprocess.Popen(argv, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        servers.append(self)
        self.port = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            with open(self.out_path) as f:
                match = re.search(r"listening on http://[^:]+:(\d+)", f.read())
            if match:
                self.port = int(match.group(1))
                break
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"{name}: no 'listening on' line (see {self.err_path})")
        self.url = f"http://{HOST}:{self.port}"

    def stop(self):
        if self in servers:
            servers.remove(self)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait(timeout=10)
            problems.append(f"{self.name}: did not exit within 30 s of SIGTERM; killed")
        if code != 0:
            problems.append(f"{self.name}: exited with {code} after SIGTERM (see {self.err_path})")
        self.out.close()
        self.err.close()
        return code


def forkpool(name, *flags):
    key = KEY_BASE + Server.count
    return Server(name, [FORKPOOL, "serve", "--host", HOST, "--port", "0", "--ipc-key", hex(key),
                         "--log-level", "warning", *map(str, flags)], key=key)


def status(server):
    output = subprocess.run([FORKPOOL, "status", "--ipc-key", hex(server.key), "--json"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(output)


def key_values(text):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([-\d.]+)", text)}


def loadgen(server, clients, requests, mode="wait", warmup=0, bound=120, offset=0, sample=10):
    argv = [LOADGEN, "-h", HOST, "-p", str(server.port), "-c", str(clients), "-n", str(requests),
            "-w", str(warmup), "-m", mode, "-T", str(bound), "-o", str(offset), "-s", str(sample)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=bound + 60)
    values = key_values(result.stdout)
    if result.returncode != 0 or not values:
        problems.append(f"loadgen {mode} c={clients} n={requests} on {server.name}: rc {result.returncode}: "
                        f"{result.stdout.strip()} {result.stderr.strip()[:300]}")
    return values


def wrk(url):
    result = subprocess.run(["wrk", *WRK_ARGS, url], capture_output=True, text=True, timeout=60)
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if result.returncode != 0 or not match:
        problems.append(f"wrk {url}: rc {result.returncode}: {result.stdout[-300:]} {result.stderr[-300:]}")
        return 0.0
    for bad in ("Non-2xx or 3xx responses", "Socket errors"):
        if bad in result.stdout:
            problems.append(f"wrk {url}: {re.search(bad + '.*', result.stdout).group(0)}")
    return float(match.group(1))


def cpu_seconds(pids):
    """User + system CPU time the processes used so far (from /proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wrk_cpu(url, pids):
    """wrk on `url`: (requests/s, CPU microseconds the serving processes spent per request)."""
    before = cpu_seconds(pids)
    started = time.monotonic()
    rate = wrk(url)
    elapsed = time.monotonic() - started
    spent = cpu_seconds(pids) - before
    # wrk's own rate times its run time is the request count, near enough (its -d bounds both).
    requests = rate * min(elapsed, float(WRK_ARGS[-1].lstrip("-d").rstrip("s")))
    return rate, (spent * 1e6 / requests if requests else 0.0)


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def http(method, url, body=None):
    request = urllib.request.Request(url, method=method, data=body,
                                     headers={"Content-Type": "application/json"} if body else {})
    with urllib.request.urlopen(request, timeout=40) as answer:
        return answer.status, answer.read()


def finished_job(server):
    """Submits one echo job, waits for it, returns (id, the exact bytes GET /v1/jobs/{id} answers)."""
    status_code, body = http("POST", server.url + "/v1/jobs?wait=30", b'{"task":"echo","input":{"poll":1}}')
    job = json.loads(body)
    assert status_code == 200 and job["state"] == "succeeded", body
    status_code, body = http("GET", f"{server.url}/v1/jobs/{job['id']}")
    assert status_code == 200, body
    return job["id"], body


def wait_drained(server, bound):
    """Waits until nothing is queued or running; returns the status, or None after `bound` seconds."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        s = status(server)
        if s["queue"]["depth"] == 0 and s["jobs"]["queued"] == 0 and s["jobs"]["running"] == 0:
            return s
        time.sleep(0.2)
    problems.append(f"{server.name}: queue not drained within {bound:.0f} s")
    return None


def stored(s):
    j = s["jobs"]
    return j["queued"] + j["running"] + j["succeeded"] + j["failed"] + j["canceled"]


def rss_kib(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    fields[name] = int(value.split()[0])
    except OSError:
        pass
    return fields


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def run_best(argv, times=3):
    """Runs a reference program `times` times; the best rate (the machine is shared and noisy)."""
    best = 0.0
    for _ in range(times):
        result = subprocess.run(argv, capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            problems.append(f"{' '.join(argv)}: rc {result.returncode}: {result.stdout} {result.stderr[:300]}")
            continue
        best = max(best, key_values(result.stdout).get("rate", 0.0))
    return best


def engine_best(times=3):
    """forkpool-bench's rows {(mode, workers): tasks/s}, best of `times` runs."""
    best = {}
    for _ in range(times):
        result = subprocess.run([ENGINE], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            problems.append(f"forkpool-bench: rc {result.returncode}: {result.stderr[-300:]}")
            continue
        for mode, workers, rate in re.findall(r"^(fork per task|reused workers)\s+(\d+)\s+(\d+)", result.stdout, re.M):
            best[(mode, int(workers))] = max(best.get((mode, int(workers)), 0.0), float(rate))
    return best


# ---------------------------------------------------------------------------------------------
# the table

def fmt(value, unit=""):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if value >= 100:
        text = f"{value:,.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return text + unit


def row(what, value, reference=None, unit="", target="", met=None, ratio=None):
    if ratio is None and isinstance(value, (int, float)) and isinstance(reference, (int, float)) and reference:
        ratio = value / reference
    rows.append((what, fmt(value, unit), fmt(reference, unit), "-" if ratio is None else f"{ratio:.2f}x",
                 target or "", "" if met is None else ("met" if met else "MISSED")))


def print_table():
    header = ("what", "forkpool", "reference", "ratio", "target", "met")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(6)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    for r in [header, None, *rows]:
        if r is None:
            print(line)
            continue
        print("  ".join(str(c).ljust(w) if i in (0, 4, 5) else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    print(line)


# ---------------------------------------------------------------------------------------------

def main():
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
    started = time.monotonic()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    header = [f"forkpool end-to-end benchmark, {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
              f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}; "
              f"load average {os.getloadavg()[0]:.2f} at start",
              f"commit: {commit}{' (with uncommitted changes)' if dirty else ''}; {wrk_version}; "
              f"wrk {' '.join(WRK_ARGS)}; everything on {HOST}"]
    for line in header:
        log(line)

    # --- 6. references and the engine (first, while nothing else of ours runs) -----------------
    log("references: fork_loop, prefork_rtt; the engine: forkpool-bench (best of 3 each)")
    fork_ref = {k: run_best([os.path.join(OUT, "fork_loop"), "2000", str(k)]) for k in (1, 4, 16)}
    rtt_ref = {k: run_best([os.path.join(OUT, "prefork_rtt"), "50000", str(k)]) for k in (1, 4)}
    engine = engine_best()

    # --- 1. end to end: fork per task --------------------------------------------------------
    log("end to end, fork per task: 5000 echo jobs, 16 clients, POST ?wait=30")
    server = forkpool("fork-per-task", "--frontends", 2, "--tasks-per-worker", 1)
    e2e_fork = loadgen(server, 16, 5000, warmup=5)
    server.stop()

    # --- 1, 2, 3, 5 on one server with reused workers ----------------------------------------
    log("end to end, reused workers; latency; memory")
    server = forkpool("reused", "--frontends", 2)
    e2e_reused = loadgen(server, 16, 5000, warmup=5)
    latency = loadgen(server, 1, 2000, warmup=200)
    s = status(server)
    pids = {"supervisor": s["supervisor"]["pid"], "pool": s["pool"]["pid"]}
    for fe in s["frontends"]:
        pids[f"front-end {fe['index']}"] = fe["pid"]
    workers = children(s["pool"]["pid"])
    if workers:
        pids["worker"] = workers[0]
    memory = {role: rss_kib(pid) for role, pid in pids.items()}
    server.stop()

    # --- 3, 4. poll beside the minimal C server, and submit, with 1, 2 and 4 front-ends --------
    scaling = {}
    for frontends in (1, 2, 4):
        log(f"--frontends {frontends}: poll (wrk, alternating with mhd_minimal, {frontends} processes, "
            f"the same body), submit (5000 POST without wait, 16 clients)")
        server = forkpool(f"frontends-{frontends}", "--frontends", frontends)
        fe_job, body = finished_job(server)
        body_path = os.path.join(OUT, f"poll-body-{frontends}.json")
        with open(body_path, "wb") as f:
            f.write(body)
        minimal = Server(f"mhd-minimal-{frontends}", [os.path.join(OUT, "mhd_minimal"), HOST, body_path, str(frontends), "300"])
        ours = [f["pid"] for f in status(server)["frontends"]]
        theirs = children(minimal.process.pid) or [minimal.process.pid]
        # Five rounds each, taken in turns, and the median: the machine drifts, and one wrk
        # run of the same server varies by 15% and more (outliers both ways).
        rounds = [(wrk_cpu(f"{server.url}/v1/jobs/{fe_job}", ours), wrk_cpu(f"{minimal.url}/v1/jobs/{fe_job}", theirs))
                  for _ in range(POLL_ROUNDS)]
        minimal.stop()
        poll, reference = median([r[0][0] for r in rounds]), median([r[1][0] for r in rounds])
        cpu, reference_cpu = median([r[0][1] for r in rounds]), median([r[1][1] for r in rounds])
        submit = loadgen(server, 16, 5000, mode="nowait", warmup=5).get("rate", 0.0)
        wait_drained(server, 60)
        server.stop()
        scaling[frontends] = (poll, reference, submit, len(body), cpu, reference_cpu)

    # --- 4. stored jobs: 1k, 100k, 1M ------------------------------------------------------------
    sizes = [1000, 20000] if QUICK else [1000, 100_000, 1_000_000]
    capacity = max(sizes) + max(sizes) // 10 + 20000
    store_bytes = capacity * 3 * 128   # input and result: one 128-byte block each, and room
    log(f"stored jobs: --job-capacity {capacity} --queue-capacity {capacity} --store-bytes {store_bytes}")
    server = forkpool("store", "--frontends", 2, "--job-capacity", capacity, "--queue-capacity", capacity,
                      "--store-bytes", store_bytes)
    growth = {}
    offset = 10_000_000
    fill_note = ""
    for size in sizes:
        have = stored(status(server))
        need = size - have
        if need > 0:
            # Estimate the fill from the previous step's rate (fill and drain together).
            bound = FILL_BOUND_SECONDS
            if growth:
                rate = growth[max(growth)]["fill_rate"]
                if rate > 0 and need / rate > bound:
                    new_size = have + int(rate * bound * 0.9) // 1000 * 1000
                    fill_note = (f"1M stored jobs would take ~{need / rate:.0f} s to fill at {rate:,.0f} jobs/s; "
                                 f"measured at {new_size:,} instead")
                    log(fill_note)
                    need = new_size - have
                    size = new_size
            log(f"filling to {size:,} stored jobs: {need:,} POST without wait, 16 clients (bound {bound:.0f} s)")
            t0 = time.monotonic()
            fill = loadgen(server, 16, need, mode="nowait", bound=bound, offset=offset, sample=0)
            offset += need
            drained = wait_drained(server, bound)
            fill_seconds = time.monotonic() - t0
            fill_rate = need / fill_seconds
            log(f"  filled {need:,} in {fill_seconds:.1f} s ({fill_rate:,.0f} jobs/s; submit alone "
                f"{fill.get('rate', 0):,.0f}/s)")
        else:
            fill_rate = 0.0
        s = status(server)
        count = stored(s)
        fill_job, _ = finished_job(server)
        # The best of several rounds: the machine is shared, and one wrk or loadgen run varies by
        # 15-20%; the best round is what the table allows when nothing else gets in the way.
        poll = max(wrk(f"{server.url}/v1/jobs/{fill_job}") for _ in range(3))
        submit = 0.0
        for _ in range(5):
            submit = max(submit, loadgen(server, 16, 5000, mode="nowait", warmup=5, offset=offset).get("rate", 0.0))
            offset += 5000 + 16 * 5
            wait_drained(server, 120)
        growth[size] = {"stored": count, "poll": poll, "submit": submit, "fill_rate": fill_rate, "status": s}
    last = growth[max(growth)]
    seg = last["status"]["segment"]
    per_job = seg["used_bytes"] / max(1, last["stored"])
    s = status(server)
    store_memory = {"pool": rss_kib(s["pool"]["pid"]), "front-end 0": rss_kib(s["frontends"][0]["pid"])}
    server.stop()

    # --- the table --------------------------------------------------------------------------------
    ok = lambda values: values.get("fail", 1) == 0 and values.get("mismatch", 1) == 0
    r = e2e_reused.get("rate", 0.0)
    row("1. end to end, reused workers (16 clients, jobs/s)", r, target=">= 10,000 jobs/s", met=r >= 10000 and ok(e2e_reused))
    r = e2e_fork.get("rate", 0.0)
    row("1. end to end, fork per task (16 clients, jobs/s; ref: C fork loop, 4 in flight)", r, fork_ref[4],
        target=">= 0.7x C fork loop", met=fork_ref[4] > 0 and r / fork_ref[4] >= 0.7 and ok(e2e_fork))
    # Both machines' cores are busy in either run, so CPU per job is 2 cores / rate: a fork per
    # task costs at least a reused job's CPU plus a bare C fork's. Its best possible rate here:
    reused_rate = e2e_reused.get("rate", 0.0)
    if reused_rate > 0 and fork_ref[4] > 0:
        row("   fork per task: ceiling here, 1 / (1 / reused rate + 1 / C fork rate) (jobs/s)",
            1 / (1 / reused_rate + 1 / fork_ref[4]), fork_ref[4])
    for name, values in (("reused", e2e_reused), ("fork per task", e2e_fork)):
        row(f"   {name}: answers checked (failures / results compared, mismatches)",
            f"{values.get('fail', -1):.0f} / {values.get('checked', 0):.0f}, {values.get('mismatch', 0):.0f}",
            target="0 failures, 0 mismatches", met=ok(values))
        row(f"   {name}: latency p50 / p99 under 16 clients (ms)",
            f"{values.get('p50_us', 0) / 1000:.2f} / {values.get('p99_us', 0) / 1000:.2f}")
    p50, p90, p99 = (latency.get(k, 0) / 1000 for k in ("p50_us", "p90_us", "p99_us"))
    row("2. submit-to-result latency, 1 client, reused: p50 (ms)", p50, target="<= 0.5 ms", met=p50 <= 0.5 and ok(latency))
    row("2. submit-to-result latency, 1 client, reused: p90 (ms)", p90)
    row("2. submit-to-result latency, 1 client, reused: p99 (ms)", p99, target="<= 2 ms", met=p99 <= 2)
    row("2. (1 client: jobs/s)", latency.get("rate", 0.0))
    poll, reference, _, body_length, cpu, reference_cpu = scaling[2]
    row(f"3. poll GET /v1/jobs/{{id}}, {body_length}-byte job, 2 front-ends (req/s, median of 5; ref: C MHD, 2 processes)",
        poll, reference, target=">= 0.8x minimal C MHD", met=reference > 0 and poll / reference >= 0.8)
    # Lower is better here, so the ratio is the reference's cost over ours (1.0x = as cheap as C).
    row("3. CPU per poll in the serving processes (µs; ratio: C's over ours)", cpu, reference_cpu,
        ratio=reference_cpu / cpu if cpu else None)
    for frontends in (1, 2, 4):
        poll, reference, submit, _, _, _ = scaling[frontends]
        row(f"4. --frontends {frontends}: poll (req/s, median of 5; ref: C MHD, {frontends} procs)", poll, reference,
            target=">= 0.8x minimal C MHD", met=reference > 0 and poll / reference >= 0.8)
        row(f"4. --frontends {frontends}: submit, POST without wait (jobs/s)", submit)
    base = growth[min(growth)]
    for size, g in growth.items():
        label = f"4. {g['stored']:,} stored jobs"
        if size == min(growth):
            row(f"{label}: submit, POST without wait (jobs/s; best of 5)", g["submit"])
            row(f"{label}: poll (req/s; best of 3)", g["poll"])
        else:
            row(f"{label}: submit (jobs/s, best of 5; ref: at {base['stored']:,})", g["submit"], base["submit"],
                target="drop < 10%", met=g["submit"] >= 0.9 * base["submit"])
            row(f"{label}: poll (req/s, best of 3; ref: at {base['stored']:,})", g["poll"], base["poll"],
                target="drop < 10%", met=g["poll"] >= 0.9 * base["poll"])
        if g["fill_rate"]:
            row(f"   fill rate to {g['stored']:,} (POST + run + drain, jobs/s)", g["fill_rate"])
    if fill_note:
        row("   note: " + fill_note, "-")
    for role, fields in memory.items():
        row(f"5. VmRSS {role} (MiB; anon / shmem in ref column)", fields.get("VmRSS", 0) / 1024,
            f"{fields.get('RssAnon', 0) / 1024:.1f} / {fields.get('RssShmem', 0) / 1024:.1f}", ratio=None)
    for role, fields in store_memory.items():
        row(f"5. VmRSS {role} with {last['stored']:,} stored (MiB; anon / shmem)", fields.get("VmRSS", 0) / 1024,
            f"{fields.get('RssAnon', 0) / 1024:.1f} / {fields.get('RssShmem', 0) / 1024:.1f}")
    row(f"5. segment bytes per stored job ({seg['used_bytes']:,} B / {last['stored']:,})", per_job)
    for k in (1, 4, 16):
        e = engine.get(("fork per task", k), 0.0)
        row(f"6. engine, fork per task, {k} in flight (tasks/s; ref: C fork+socketpair)", e, fork_ref[k],
            target=">= 0.7x C fork loop", met=fork_ref[k] > 0 and e / fork_ref[k] >= 0.7)
    for k in (1, 4, 16):
        e = engine.get(("reused workers", k), 0.0)
        ref = rtt_ref.get(k)
        row(f"6. engine, reused workers, {k} (tasks/s; ref: C pre-forked round trips)", e, ref)

    cleanup()   # every server stopped and every key checked before the table is printed
    print()
    for line in header:
        print(line)
    print_table()
    for p in problems:
        print("problem: " + p)
    print(f"load average at the end {os.getloadavg()[0]:.2f} (other work on this machine skews every row)")
    print(f"run time {time.monotonic() - started:.0f} s; server logs in {os.path.relpath(OUT, ROOT)}/logs")
    missed = [r[0].strip() for r in rows if r[5] == "MISSED"]
    print(f"targets: {sum(r[5] == 'met' for r in rows)} met, {len(missed)} missed")
    return 1 if problems else 0


cleaned = False


def cleanup():
    global cleaned
    if cleaned and not servers:
        return
    cleaned = True
    for server in list(servers):
        try:
            server.stop()
        except Exception as error:  # keep stopping the others
            problems.append(f"{server.name}: stop failed: {error}")
    # No System V object of ours may stay behind.
    ipcs = subprocess.run(["ipcs"], capture_output=True, text=True).stdout.lower()
    for n in range(Server.count + 1):
        key = f"0x{KEY_BASE + n:08x}"
        if key in ipcs:
            problems.append(f"System V object with key {key} left behind; removing it")
            subprocess.run(["ipcrm", "-M", key], capture_output=True)
            subprocess.run(["ipcrm", "-S", key], capture_output=True)


def on_signal(number, frame):
    raise KeyboardInterrupt(f"signal {number}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    code = 1
    try:
        code = main()
    except KeyboardInterrupt as interrupt:
        print(f"interrupted ({interrupt}); stopping servers", file=sys.stderr)
    finally:
        before = len(problems)
        cleanup()
        for p in problems[before:]:
            print("problem: " + p)
        if problems and code == 0:
            code = 1
    sys.exit(code)
