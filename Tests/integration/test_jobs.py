"""Submitting, polling, long polling, cancelling and listing jobs."""

from __future__ import annotations

import json
import time

import pytest

import fp
from fp import assert_error, check_job, wait_until


def test_submit_answers_202_with_location_and_the_job(client):
    before = time.time()
    r = client.submit({"task": "echo", "input": {"hello": "world"}})
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    job = r.json()
    check_job(job)
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["task"] == "echo"
    assert job["state"] in ("queued", "running", "succeeded")
    assert job["priority"] == 0
    assert job["max_attempts"] == 1
    created = time.mktime(time.strptime(job["created_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 5 <= created <= time.time() + 5, job["created_at"]
    # The Location answers with the same job.
    again = client.get(r.headers["Location"])
    assert again.status_code == 200
    assert again.json()["id"] == job["id"]
    done = client.finished(job["id"])
    assert done["state"] == "succeeded"
    assert done["result"] == {"hello": "world"}
    assert done["attempts"] == 1
    assert "started_at" in done and done["started_at"] >= done["created_at"]
    assert done["finished_at"] >= done["started_at"]


def test_ids_are_distinct(client):
    ids = {client.submit_ok({"task": "echo", "input": i})["id"] for i in range(20)}
    assert len(ids) == 20


def test_poll_until_finished(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 200}})
    seen = wait_until(lambda: (lambda j: j if j["state"] == "succeeded" else None)(client.job_ok(job["id"])),
                      10, interval=0.05, what="the sleep job to succeed")
    assert seen["result"] == {"slept_ms": 200}


def test_get_wait_returns_when_the_job_finishes(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 600}})
    start = time.monotonic()
    r = client.job(job["id"], wait=20)
    elapsed = time.monotonic() - start
    assert r.status_code == 200, r.text
    body = r.json()
    check_job(body)
    assert body["state"] == "succeeded", body
    assert body["result"] == {"slept_ms": 600}
    assert elapsed < 8, f"long poll took {elapsed:.2f} s for a 0.6 s job"


def test_get_wait_returns_the_unfinished_job_when_the_wait_runs_out(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 20000}})
    try:
        start = time.monotonic()
        r = client.job(job["id"], wait=1)
        elapsed = time.monotonic() - start
        assert r.status_code == 200, r.text
        body = r.json()
        check_job(body)
        assert body["state"] in ("queued", "running"), body
        assert 0.8 <= elapsed < 5, f"wait=1 answered after {elapsed:.2f} s"
    finally:
        client.cancel(job["id"])


def test_post_wait_answers_200_when_finished_in_time(client):
    r = client.submit({"task": "echo", "input": [1, 2, 3]}, wait=20)
    assert r.status_code == 200, r.text
    job = r.json()
    check_job(job)
    assert job["state"] == "succeeded"
    assert job["result"] == [1, 2, 3]


def test_post_wait_answers_202_when_not_finished_in_time(client):
    start = time.monotonic()
    r = client.submit({"task": "sleep", "input": {"ms": 20000}}, wait=1)
    elapsed = time.monotonic() - start
    job = r.json()
    try:
        assert r.status_code == 202, r.text
        check_job(job)
        assert job["state"] in ("queued", "running")
        assert r.headers["Location"] == f"/v1/jobs/{job['id']}"
        assert 0.8 <= elapsed < 5, f"wait=1 answered after {elapsed:.2f} s"
    finally:
        client.cancel(job["id"])


def test_wait_zero_answers_at_once(client):
    start = time.monotonic()
    r = client.submit({"task": "sleep", "input": {"ms": 3000}}, wait=0)
    job = r.json()
    try:
        assert r.status_code == 202, r.text
        g = client.job(job["id"], wait=0)
        assert g.status_code == 200
        assert g.json()["state"] in ("queued", "running")
        assert time.monotonic() - start < 2
    finally:
        client.cancel(job["id"])


def test_running_job_always_shows_its_worker_pid(client):
    """Contract: `worker_pid` while running: every look at a running job shows it."""
    job = client.submit_ok({"task": "sleep", "input": {"ms": 300}})
    looks = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = client.job_ok(job["id"])
        looks.append(seen)
        if seen["state"] in fp.FINISHED:
            break
    assert looks[-1]["state"] == "succeeded"
    running = [j for j in looks if j["state"] == "running"]
    assert running, "never saw the job running"
    missing = [j for j in running if "worker_pid" not in j]
    assert not missing, f"{len(missing)} of {len(running)} looks at the running job had no worker_pid, e.g. {missing[0]}"


def test_running_job_has_a_live_worker_pid(shared_server, client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 20000}})
    try:
        running = client.wait_running(job["id"])
        pid = running["worker_pid"]
        assert fp.process_alive(pid), f"worker_pid {pid} is not a live process"
        assert pid in fp.descendants_of(shared_server.pid), f"worker_pid {pid} is not a process of this server"
        assert "started_at" in running
    finally:
        client.cancel(job["id"])


def test_finished_job_answers_200_with_state(client):
    job = client.submit_ok({"task": "fail", "input": {"message": "nope"}}, wait=20)
    assert job["state"] == "failed"
    again = client.job_ok(job["id"])
    assert again == job


# ------------------------------------------------------------------ cancel

def test_cancel_queued_and_running_jobs(server_factory):
    server = server_factory("--workers", "1", "--frontends", "1")
    c = server.client()
    blocker = c.submit_ok({"task": "sleep", "input": {"ms": 30000}})
    running = c.wait_running(blocker["id"])
    worker = running["worker_pid"]
    worker_start = fp.proc_starttime(worker)
    assert worker in server.seen_pids() or worker in fp.descendants_of(server.pid)
    queued = c.submit_ok({"task": "echo", "input": "never runs"})
    assert queued["state"] == "queued"

    # A queued job: canceled, never started.
    r = c.cancel(queued["id"])
    assert r.status_code == 200, r.text
    job = r.json()
    check_job(job)
    assert job["state"] == "canceled"
    assert job["error"]["code"] == "canceled"
    assert "started_at" not in job, job
    assert "finished_at" in job
    assert c.job_ok(queued["id"])["state"] == "canceled"
    assert_error(c.cancel(queued["id"]), 409)

    # A running job: canceled, its worker killed.
    r = c.cancel(blocker["id"])
    assert r.status_code == 200, r.text
    job = r.json()
    check_job(job)
    assert job["state"] == "canceled"
    assert job["error"]["code"] == "canceled"
    assert "started_at" in job
    wait_until(lambda: not fp.process_exists(worker, worker_start), 5, what=f"worker {worker} of the canceled job to disappear")
    assert_error(c.cancel(blocker["id"]), 409)
    after = c.job_ok(blocker["id"])
    assert after["state"] == "canceled"
    assert "worker_pid" not in after

    # The pool still works after killing a worker.
    done = c.submit_ok({"task": "echo", "input": "after"}, wait=20)
    assert done["state"] == "succeeded" and done["result"] == "after"


def test_cancel_of_finished_jobs_is_409(client):
    ok = client.submit_ok({"task": "echo", "input": 1}, wait=20)
    assert ok["state"] == "succeeded"
    err = assert_error(client.cancel(ok["id"]), 409)
    assert ok["id"] in err["message"] or err["message"]
    failed = client.submit_ok({"task": "fail", "input": {"message": "x"}}, wait=20)
    assert failed["state"] == "failed"
    assert_error(client.cancel(failed["id"]), 409)
    # Nothing changed.
    assert client.job_ok(ok["id"]) == ok
    assert client.job_ok(failed["id"]) == failed


# ------------------------------------------------------------------ list

@pytest.fixture(scope="module")
def listed(request):
    """A fresh server with a known set of finished jobs, oldest first."""
    factory = fp.Factory()
    server = factory("--workers", "2", "--frontends", "1")
    c = server.client()
    plan = [("echo", 1), ("fail", {"message": "f1"}), ("echo", 2), ("sha256", {"data": "x"}),
            ("fail", {"message": "f2"}), ("echo", 3), ("echo", 4)]
    jobs = []
    for task, value in plan:
        job = c.submit_ok({"task": task, "input": value}, wait=20)
        assert job["state"] in fp.FINISHED
        jobs.append(job)
    yield server, jobs
    problems = factory.close()
    if problems:
        pytest.fail("unclean server shutdown:\n" + "\n".join(problems), pytrace=False)


def _page(c, query):
    r = c.get("/v1/jobs" + query)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"jobs", "next_cursor"}, body
    assert isinstance(body["jobs"], list)
    assert body["next_cursor"] is None or (type(body["next_cursor"]) is str and body["next_cursor"])
    for job in body["jobs"]:
        check_job(job)
    created = [j["created_at"] for j in body["jobs"]]
    assert created == sorted(created, reverse=True), "not newest first"
    return body


def _all_pages(c, query, limit):
    ids = []
    cursor = None
    for _ in range(50):
        q = query + ("&" if query else "") + f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = _page(c, "?" + q)
        assert len(body["jobs"]) <= limit
        ids += [j["id"] for j in body["jobs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("paging did not end")


def test_list_newest_first(listed):
    server, jobs = listed
    c = server.client()
    body = _page(c, "")
    assert [j["id"] for j in body["jobs"]] == [j["id"] for j in reversed(jobs)]
    assert body["next_cursor"] is None
    # The listed objects are the jobs themselves.
    by_id = {j["id"]: j for j in jobs}
    for job in body["jobs"]:
        assert job == by_id[job["id"]]


def test_list_filters_by_state_and_task(listed):
    server, jobs = listed
    c = server.client()
    newest = list(reversed(jobs))

    def ids(pred):
        return [j["id"] for j in newest if pred(j)]

    assert [j["id"] for j in _page(c, "?state=succeeded")["jobs"]] == ids(lambda j: j["state"] == "succeeded")
    assert [j["id"] for j in _page(c, "?state=failed")["jobs"]] == ids(lambda j: j["state"] == "failed")
    assert len(ids(lambda j: j["state"] == "failed")) == 2
    assert _page(c, "?state=running")["jobs"] == []
    assert _page(c, "?state=queued")["jobs"] == []
    assert _page(c, "?state=canceled")["jobs"] == []
    assert [j["id"] for j in _page(c, "?task=echo")["jobs"]] == ids(lambda j: j["task"] == "echo")
    assert len(ids(lambda j: j["task"] == "echo")) == 4
    assert [j["id"] for j in _page(c, "?task=fail&state=failed")["jobs"]] == ids(lambda j: j["task"] == "fail")
    assert _page(c, "?task=echo&state=failed")["jobs"] == []
    assert _page(c, "?task=nosuchtask")["jobs"] == []


def test_list_limit_and_cursor_paging(listed):
    server, jobs = listed
    c = server.client()
    expected = [j["id"] for j in reversed(jobs)]
    first = _page(c, "?limit=2")
    assert [j["id"] for j in first["jobs"]] == expected[:2]
    assert type(first["next_cursor"]) is str, "a full page with more jobs after it needs a cursor"
    second = _page(c, f"?limit=2&cursor={first['next_cursor']}")
    assert [j["id"] for j in second["jobs"]] == expected[2:4]
    for limit in (1, 2, 3, 7, 1000):
        assert _all_pages(c, "", limit) == expected, f"limit={limit}"
    assert _all_pages(c, "state=succeeded", 2) == [j["id"] for j in reversed(jobs) if j["state"] == "succeeded"]
    assert _all_pages(c, "task=fail", 1) == [j["id"] for j in reversed(jobs) if j["task"] == "fail"]


def test_list_pages_stay_stable_when_new_jobs_arrive(listed):
    server, jobs = listed
    c = server.client()
    first = _page(c, "?limit=3&task=echo")
    new = c.submit_ok({"task": "echo", "input": "newer"}, wait=20)
    rest = []
    cursor = first["next_cursor"]
    while cursor:
        page = _page(c, f"?limit=3&task=echo&cursor={cursor}")
        rest += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
    echo_ids = [j["id"] for j in reversed(jobs) if j["task"] == "echo"]
    assert [j["id"] for j in first["jobs"]] + rest == echo_ids
    assert new["id"] not in rest
    # The new job is on top of a fresh listing.
    assert _page(c, "?limit=1")["jobs"][0]["id"] == new["id"]


@pytest.mark.parametrize("query", [
    "limit=0", "limit=1001", "limit=x", "limit=-1", "limit=1.5", "limit=",
    "state=bogus", "state=",
    "cursor=garbage", "cursor=", "cursor=AAAA",
])
def test_list_rejects_bad_query_parameters(client, query):
    assert_error(client.get(f"/v1/jobs?{query}"), 400)


@pytest.mark.parametrize("wait", ["-1", "61", "abc", "", "1e3", "100000000000000000000"])
def test_wait_rejects_bad_values(client, wait):
    job = client.submit_ok({"task": "echo", "input": "w"}, wait=20)
    assert_error(client.get(f"/v1/jobs/{job['id']}?wait={wait}"), 400)
    before = client.get("/v1/jobs?limit=1").json()["jobs"][0]["id"]
    assert_error(client.post(f"/v1/jobs?wait={wait}", data=json.dumps({"task": "echo", "input": "x"}),
                             headers={"Content-Type": "application/json"}), 400)
    # The rejected submission made no job.
    assert client.get("/v1/jobs?limit=1").json()["jobs"][0]["id"] == before


def test_wait_accepts_the_bounds(client):
    job = client.submit_ok({"task": "echo", "input": "b"}, wait=20)
    for wait in ("0", "60"):
        r = client.job(job["id"], wait=wait)
        assert r.status_code == 200, r.text
