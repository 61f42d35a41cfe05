#!/usr/bin/env python3
"""Chaos test: submit jobs while workers, front-ends and the pool are killed with SIGKILL.

Every submission carries its own idempotency key and is retried with the same key
when its connection dies, so a job is either accepted once or not at all. At the
end every accepted job must reach a final state (none lost, none stuck), every
succeeded job must hold its own input, the table checker must find the table
sound, and the server must stop cleanly on SIGTERM leaving no System V object.

usage: chaos.py --bin PATH [--seconds N] [--seed N]
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import requests

FINAL = {"succeeded", "failed", "canceled"}


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class Server:
    def __init__(self, binary, key, capacity):
        self.binary, self.key = binary, key
        # Room for every job the run submits: a finished job evicted to make room answers 404,
        # which would read as lost here. About 3 KiB of store per job, as before (20,000 in 64 MiB).
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--ipc-key", key,
             "--frontends", "2", "--workers", "4", "--tasks-per-worker", "20",
             "--job-capacity", str(capacity), "--store-bytes", str(capacity * 3355),
             "--shutdown-grace-seconds", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and "listening on" not in line:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise SystemExit("server exited before it was ready")
        match = re.search(r":(\d+)\s*$", line)
        if not match:
            raise SystemExit(f"no listening line: {line!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def status(self):
        out = subprocess.run([self.binary, "status", "--ipc-key", self.key, "--json"],
                             capture_output=True, text=True, timeout=10)
        return json.loads(out.stdout) if out.returncode == 0 else None

    def check(self):
        out = subprocess.run([self.binary, "status", "--ipc-key", self.key, "--check"],
                             capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout.strip() + out.stderr.strip()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return "did not stop within 60 s"


def submit_loop(server, stop, accepted, lock, counters, seed):
    rng = random.Random(seed)
    session = requests.Session()
    number = 0
    while not stop.is_set():
        number += 1
        key = f"chaos-{seed}-{number}"
        if rng.random() < 0.8:
            body = {"task": "echo", "input": {"n": number, "seed": seed, "pad": "x" * rng.randint(0, 300)}}
        else:
            body = {"task": "sleep", "input": {"ms": rng.randint(10, 200)}}
        body["max_attempts"] = 5
        for attempt in range(50):
            try:
                answer = session.post(server.url + "/v1/jobs", json=body, headers={"Idempotency-Key": key}, timeout=10)
            except requests.RequestException:
                session = requests.Session()
                with lock:
                    counters["retried submissions"] += 1
                continue
            if answer.status_code in (200, 202):
                with lock:
                    accepted[answer.json()["id"]] = body
                break
            if answer.status_code in (429, 503):
                time.sleep(0.05)
                continue
            with lock:
                counters[f"refused {answer.status_code}"] += 1
            break


def kill_loop(server, stop, kills, rng):
    last_pool_kill = 0.0
    while not stop.wait(rng.uniform(0.1, 0.4)):
        status = server.status()
        if not status:
            continue
        pool = status["pool"]["pid"]
        frontends = [f["pid"] for f in status["frontends"] if f["pid"] > 0]
        workers = children(pool) if pool > 0 else []
        roll = rng.random()
        if roll < 0.15 and time.monotonic() - last_pool_kill > 3 and pool > 0:
            kind, victim = "pool", pool
            last_pool_kill = time.monotonic()
        elif roll < 0.45 and frontends:
            kind, victim = "front-end", rng.choice(frontends)
        elif workers:
            kind, victim = "worker", rng.choice(workers)
        else:
            continue
        try:
            os.kill(victim, signal.SIGKILL)
            kills[kind] += 1
        except ProcessLookupError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    key = hex(0x46580000 | (os.getpid() & 0xFFFF))
    # A release build on 2 cores accepts about 160 jobs/s under this chaos; twice that is room.
    server = Server(args.bin, key, capacity=max(20000, int(args.seconds * 320)))
    rng = random.Random(args.seed)
    stop = threading.Event()
    accepted, lock = {}, threading.Lock()
    counters = {"retried submissions": 0}
    counters.update({f"refused {code}": 0 for code in (400, 404, 409, 413, 422)})
    kills = {"worker": 0, "front-end": 0, "pool": 0}
    submitters = [threading.Thread(target=submit_loop, args=(server, stop, accepted, lock, counters, args.seed * 100 + i))
                  for i in range(args.clients)]
    killer = threading.Thread(target=kill_loop, args=(server, stop, kills, rng))
    for thread in submitters + [killer]:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in submitters + [killer]:
        thread.join()

    # Every accepted job must reach a final state.
    session = requests.Session()
    pending = dict(accepted)
    states, lost, wrong = {}, [], []
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        for job_id in list(pending)[:200]:
            try:
                answer = session.get(f"{server.url}/v1/jobs/{job_id}?wait=5", timeout=15)
            except requests.RequestException:
                session = requests.Session()
                continue
            if answer.status_code == 404:
                lost.append(job_id)
                pending.pop(job_id)
                continue
            job = answer.json()
            if job["state"] in FINAL:
                body = pending.pop(job_id)
                label = job["state"] if job["state"] != "failed" else f"failed:{job['error']['code']}"
                states[label] = states.get(label, 0) + 1
                if job["state"] == "succeeded" and body["task"] == "echo" and job["result"] != body["input"]:
                    wrong.append(job_id)
    stuck = list(pending)
    final_status = server.status() or {}
    check_code, check_text = server.check()
    exit_code = server.stop()
    left = subprocess.run(["ipcs", "-m", "-s"], capture_output=True, text=True).stdout.count(key[2:].rjust(8, "0"))

    print(f"chaos: {args.seconds:.0f} s, seed {args.seed}")
    print(f"jobs submitted (accepted): {len(accepted)}")
    print(f"kills: {kills['worker']} workers, {kills['front-end']} front-ends, {kills['pool']} pool")
    print(f"submissions retried after a dead connection: {counters['retried submissions']}")
    print(f"final states: {json.dumps(states, sort_keys=True)}")
    supervisor = final_status.get("supervisor", {})
    print(f"restarts: {supervisor.get('pool_restarts')} pool, {supervisor.get('frontend_restarts')} front-ends; "
          f"table rebuilds after a lock holder died: {final_status.get('segment', {}).get('recoveries')}")
    print(f"jobs lost: {len(lost)}; jobs stuck: {len(stuck)}; wrong results: {len(wrong)}")
    print(f"table checker: {check_text}")
    print(f"server exit code after SIGTERM: {exit_code}; System V objects left: {left}")
    refused = {k: v for k, v in counters.items() if k.startswith("refused") and v}
    if refused:
        print(f"refused submissions: {refused}")
    failed = lost or stuck or wrong or check_code != 0 or exit_code != 0 or left or not accepted or refused
    if kills["worker"] == 0 or kills["front-end"] == 0:
        print("the run killed too little to prove anything")
        failed = True
    print("chaos: FAILED" if failed else "chaos: passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
