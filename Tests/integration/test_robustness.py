"""Malformed requests crash nothing; defaults, worker reuse, progress and retention."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

import fp
from fp import assert_error, wait_until

JSON_HEADERS = {"Content-Type": "application/json"}


def raw_exchange(port: int, data: bytes, timeout: float = 3.0) -> bytes:
    """Sends raw bytes on a new connection and reads what comes back until close or timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def test_malformed_requests_crash_no_process(server_factory):
    server = server_factory("--workers", "2", "--frontends", "2")
    c = server.client()
    keep = c.submit_ok({"task": "echo", "input": "untouched"}, wait=20)
    before = sorted(server.child_pids())
    assert len(before) == 3, f"expected the pool and two front-ends as children, got {before}"

    # Not HTTP, cut-off requests, abandoned connections.
    for data in (b"GARBAGE\r\n\r\n", b"\x00\xff" * 1000, b"GET / HTTP/9.9\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost",
                 b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ta",
                 b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n",
                 b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n"):
        raw_exchange(server.port, data, timeout=0.5)
    abandoned = [socket.create_connection(("127.0.0.1", server.port), timeout=2) for _ in range(20)]
    for sock in abandoned:
        sock.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n")
    for sock in abandoned:
        sock.close()

    # Bodies that are valid HTTP but hostile JSON: an answer, never a crash.
    hostile = [
        (b"[" * 500_000, {400}),
        (b'{"task": "echo", "input": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", {200, 202, 400, 422}),
        (b'{"task": "echo", "input": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}", {200, 202, 400, 422}),
        (b'{"task": "echo", "input": "\xff\xfe\xc0\xaf"}', {400}),
        (b'{"task": "echo\x00", "input": 1}', {400}),
        (b'{"task": "echo", "input": "\\ud800"}', {200, 202, 400}),
        (b'{"task": "echo", "input": 1e999999}', {200, 202, 400}),
        (b'{"task": "echo", "input": ' + b"9" * 5000 + b"}", {200, 202, 400}),
        (b'{"task": "echo", "input": 1, "task": "fail"}', {200, 202, 400}),
        (b'{"task": "sha256", "input": {"data": "x", "rounds": 99999999999999999999}}', {400, 422}),
        (b'{"task": "sleep", "input": {"ms": 1e308}}', {400, 422}),
        (b'{"task": "echo", "timeout_ms": 99999999999999999999999}', {200, 202, 400}),
        (b'{"task": "echo", "priority": -9223372036854775809}', {400}),
        (b"\xef\xbb\xbf{\"task\": \"echo\"}", {200, 202, 400}),
    ]
    for body, allowed in hostile:
        r = c.post("/v1/jobs?wait=10", data=body, headers=JSON_HEADERS, timeout=30)
        assert r.status_code in allowed, f"{body[:60]!r}...: {r.status_code} {r.text[:300]}"
        if r.status_code >= 400:
            assert_error(r, r.status_code)
        else:
            fp.check_job(r.json())

    # The same processes still serve, and the job nobody named is unchanged.
    assert sorted(server.child_pids()) == before, "a front-end or the pool was replaced"
    for pid in before:
        assert fp.process_alive(pid)
    assert c.get("/healthz").status_code == 200
    assert c.job_ok(keep["id"]) == keep


def test_an_oversized_header_is_refused_by_libmicrohttpd_and_harms_nothing(client):
    """The one documented exception to the JSON error shape: a request head that
    libmicrohttpd cannot take (larger than the per-connection memory) is answered
    by libmicrohttpd itself, 431, before any forkpool code sees it (README, openapi.yaml)."""
    session = fp.requests.Session()  # no hook: this answer has no X-Forkpool-Frontend
    r = session.get(client.base_url + "/healthz", headers={"X-Big": "a" * 100_000}, timeout=10)
    assert r.status_code == 431, r.status_code
    assert client.get("/healthz").status_code == 200
    assert client.submit_ok({"task": "echo", "input": "after"}, wait=5)["result"] == "after"


def test_defaults_follow_the_affinity_mask(server_factory):
    cpus = len(os.sched_getaffinity(0))
    server = server_factory(small=True)
    status = server.client().get("/v1/status").json()
    assert len(status["frontends"]) == cpus
    assert status["pool"]["workers"]["max"] == 2 * cpus
    one = server_factory(affinity={min(os.sched_getaffinity(0))})
    status = one.client().get("/v1/status").json()
    assert len(status["frontends"]) == 1, "frontends default to the CPUs of the affinity mask"
    assert status["pool"]["workers"]["max"] == 2


@pytest.mark.parametrize("tasks_per_worker,distinct", [(1, 3), (50, 1)])
def test_tasks_per_worker(server_factory, tasks_per_worker, distinct):
    server = server_factory("--workers", "1", "--frontends", "1", "--tasks-per-worker", str(tasks_per_worker))
    c = server.client()
    pids = []
    for i in range(3):
        job = c.submit_ok({"task": "sleep", "input": {"ms": 400}})
        pids.append(c.wait_running(job["id"])["worker_pid"])
        assert c.finished(job["id"])["state"] == "succeeded"
    assert len(set(pids)) == distinct, f"--tasks-per-worker {tasks_per_worker}: worker pids {pids}"


def test_progress_of_a_running_job(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 3000}})
    try:
        seen = wait_until(lambda: (lambda j: j if "progress" in j else None)(client.job_ok(job["id"])), 3,
                          interval=0.05, what="progress to show")
        progress = seen["progress"]
        assert 0 <= progress["percent"] <= 100
        assert "message" not in progress or type(progress["message"]) is str
    finally:
        client.cancel(job["id"])


def test_expired_jobs_answer_404_and_free_their_idempotency_key(server_factory):
    server = server_factory("--workers", "1", "--frontends", "1", "--retention-seconds", "1")
    c = server.client()
    job = c.submit_ok({"task": "echo", "input": "short-lived", "idempotency_key": "k1"}, wait=20)
    assert job["state"] == "succeeded"
    assert c.job_ok(job["id"])["state"] == "succeeded", "kept at least for the retention time"
    wait_until(lambda: c.job(job["id"]).status_code == 404, 15, interval=0.1, what="the job to expire")
    assert_error(c.job(job["id"]), 404)
    assert_error(c.cancel(job["id"]), 404)
    assert job["id"] not in [j["id"] for j in c.get("/v1/jobs").json()["jobs"]]
    again = c.submit({"task": "echo", "input": "another", "idempotency_key": "k1"})
    assert again.status_code == 202, again.text
    assert again.json()["id"] != job["id"]
