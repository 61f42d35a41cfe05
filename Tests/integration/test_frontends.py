"""Three front-end processes on one listening socket: any of them answers for any job,
and all of them take connections."""

from __future__ import annotations

import time

import pytest

import fp

FRONTENDS = 3


@pytest.fixture(scope="module")
def three():
    factory = fp.Factory()
    server = factory("--frontends", str(FRONTENDS), "--workers", "2")
    yield server
    problems = factory.close()
    if problems:
        pytest.fail("unclean server shutdown:\n" + "\n".join(problems), pytrace=False)


def frontend_of(response) -> int:
    return int(response.headers["X-Forkpool-Frontend"])


def test_status_lists_three_frontends(three):
    c = three.client()
    status = c.get("/v1/status").json()
    pids = [f["pid"] for f in status["frontends"]]
    assert len(pids) == FRONTENDS and len(set(pids)) == FRONTENDS
    children = set(three.child_pids())
    assert set(pids) <= children, f"front-ends {pids} are not all children of the supervisor ({children})"


def test_every_frontend_serves_and_reads_every_job(three):
    c = three.client(fresh=True)  # a new TCP connection for every request
    expected = {f["pid"] for f in c.get("/v1/status").json()["frontends"]}
    assert len(expected) == FRONTENDS

    # Submit over fresh connections.
    jobs = {}
    submitted_by = set()
    for i in range(30):
        r = c.submit({"task": "echo", "input": {"n": i, "s": f"job {i} \u2713"}})
        assert r.status_code == 202, r.text
        submitted_by.add(frontend_of(r))
        jobs[r.json()["id"]] = {"n": i, "s": f"job {i} \u2713"}
    for job_id in jobs:
        assert c.finished(job_id)["state"] == "succeeded"

    # Read every job back until every front-end has answered for it.
    readers = {job_id: set() for job_id in jobs}
    requests_sent = 0
    cap = 3000
    deadline = time.monotonic() + 60
    seen = set(submitted_by)
    while any(len(r) < FRONTENDS for r in readers.values()):
        assert requests_sent < cap and time.monotonic() < deadline, (
            f"after {requests_sent} reads some jobs were not read from every front-end: "
            f"{ {j: sorted(r) for j, r in readers.items() if len(r) < FRONTENDS} }; front-ends seen {sorted(seen)}")
        for job_id, value in jobs.items():
            if len(readers[job_id]) == FRONTENDS:
                continue
            r = c.get(f"/v1/jobs/{job_id}")
            requests_sent += 1
            assert r.status_code == 200, f"front-end {frontend_of(r)} could not read {job_id}: {r.status_code} {r.text}"
            job = r.json()
            assert job["id"] == job_id and job["state"] == "succeeded" and job["result"] == value
            pid = frontend_of(r)
            assert pid in expected, f"answer from {pid}, not one of the front-ends {expected}"
            readers[job_id].add(pid)
            seen.add(pid)
    assert seen == expected
    print(f"\n{requests_sent} reads over fresh connections; submissions served by {len(submitted_by)} front-ends")


def test_all_frontends_take_connections(three):
    c = three.client(fresh=True)
    expected = {f["pid"] for f in c.get("/v1/status").json()["frontends"]}
    counts = {pid: 0 for pid in expected}
    sent = 0
    deadline = time.monotonic() + 30
    while min(counts.values()) == 0:
        assert sent < 2000 and time.monotonic() < deadline, f"front-ends never seen after {sent} connections: {counts}"
        r = c.get("/healthz")
        sent += 1
        assert r.status_code == 200
        counts[frontend_of(r)] += 1
    assert all(n > 0 for n in counts.values())
