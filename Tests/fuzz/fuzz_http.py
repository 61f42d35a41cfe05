#!/usr/bin/env python3
"""Hostile clients against a real server: random bytes, truncated requests, 64 KB
headers, and a slowloris of 50 connections. Afterwards the server must still
answer, a normal job must succeed, no front-end may have crashed (no restart),
and SIGTERM must stop it cleanly.

usage: fuzz_http.py --bin PATH [--seed N]
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import requests


def start(binary, key, extra):
    process = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--ipc-key", key, "--frontends", "2", "--workers", "2",
         "--job-capacity", "5000", "--store-bytes", "33554432", "--max-body-bytes", "65536"] + extra,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline and "listening on" not in line:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise SystemExit("server exited before it was ready")
    return process, int(re.search(r":(\d+)\s*$", line).group(1))


def connect(port, source="127.0.0.1", timeout=5):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def exchange(port, payload, linger=0.2):
    """Sends bytes, reads what comes back until close or a short timeout; never raises on the server's doing."""
    try:
        sock = connect(port)
        sock.sendall(payload)
        sock.settimeout(linger)
        try:
            while sock.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
        sock.close()
    except (ConnectionResetError, BrokenPipeError, ConnectionRefusedError, socket.timeout):
        pass


def normal_job_succeeds(base, source="127.0.0.1"):
    session = requests.Session()
    session.mount("http://", SourceAdapter(source))
    answer = session.post(f"{base}/v1/jobs?wait=10", json={"task": "echo", "input": {"still": "alive"}}, timeout=15)
    return answer.status_code == 200 and answer.json().get("result") == {"still": "alive"}


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connects from a given loopback address, so per-address limits can be told apart."""

    def __init__(self, source):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    key = hex(0x46590000 | (os.getpid() & 0xFFFF))
    process, port = start(args.bin, key, ["--connection-timeout-seconds", "2", "--max-connections-per-ip", "30"])
    base = f"http://127.0.0.1:{port}"
    results = {}

    # 1. Random bytes, some starting like a request.
    for _ in range(300):
        head = rng.choice([b"", b"GET ", b"POST /v1/jobs HTTP/1.1\r\n", b"\x16\x03\x01"])
        exchange(port, head + os.urandom(rng.randint(0, 4096)))
    results["random bytes"] = normal_job_succeeds(base)

    # 2. Truncated requests: heads cut anywhere, bodies shorter than announced.
    body = json.dumps({"task": "echo", "input": "truncated"}).encode()
    request = (b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
               + str(len(body)).encode() + b"\r\n\r\n" + body)
    for _ in range(200):
        exchange(port, request[: rng.randint(1, len(request) - 1)], linger=0.05)
    exchange(port, b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"task\"")
    results["truncated requests"] = normal_job_succeeds(base)

    # 3. Headers of 64 KB: refused or dropped, never a crash.
    for size in (8 * 1024, 64 * 1024, 256 * 1024):
        exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n", linger=1)
        exchange(port, b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(size // 8)) + b"\r\n", linger=1)
    results["64 KB headers"] = normal_job_succeeds(base)

    # 4. Slowloris: 50 connections dribbling a header byte at a time.
    slow = []
    for _ in range(50):
        try:
            sock = connect(port)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        except OSError:
            pass
    during = normal_job_succeeds(base, source="127.0.0.2")
    deadline = time.monotonic() + 10
    closed = 0
    while time.monotonic() < deadline and closed < len(slow):
        closed = 0
        for sock in slow:
            try:
                sock.sendall(b"X")
                sock.settimeout(0.01)
                if sock.recv(1) == b"":
                    closed += 1
            except socket.timeout:
                pass
            except OSError:
                closed += 1
        time.sleep(0.5)
    for sock in slow:
        sock.close()
    results["slowloris: a normal client is served meanwhile"] = during
    results[f"slowloris: {closed} of {len(slow)} slow connections closed by the server"] = closed == len(slow)
    results["after slowloris"] = normal_job_succeeds(base)

    status = json.loads(subprocess.run([args.bin, "status", "--ipc-key", key, "--json"], capture_output=True, text=True).stdout)
    restarts = status["supervisor"]["frontend_restarts"] + status["supervisor"]["pool_restarts"]
    results["no process crashed (no restarts)"] = restarts == 0
    check = subprocess.run([args.bin, "status", "--ipc-key", key, "--check"], capture_output=True, text=True)
    results["table checker"] = check.returncode == 0
    process.send_signal(signal.SIGTERM)
    results["exit 0 after SIGTERM"] = process.wait(timeout=60) == 0
    ipcs = subprocess.run(["ipcs", "-m", "-s"], capture_output=True, text=True).stdout
    results["no System V object left"] = key[2:].rjust(8, "0") not in ipcs

    print(f"fuzz: seed {args.seed}")
    for name, passed in results.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    failed = [name for name, passed in results.items() if not passed]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
