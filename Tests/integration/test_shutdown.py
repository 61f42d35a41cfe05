"""SIGTERM and SIGINT: draining (503), running jobs finish or end with `shutdown`,
exit 0, nothing left behind, and the key can be used again."""

from __future__ import annotations

import signal
import threading
import time

import fp
from fp import assert_error, wait_until


class LongPoll(threading.Thread):
    """GET /v1/jobs/{id}?wait=S in the background."""

    def __init__(self, client: fp.Client, job_id: str, wait: int = 30):
        super().__init__(daemon=True)
        self.client, self.job_id, self.wait = client, job_id, wait
        self.response = None
        self.error = None
        self.start()

    def run(self):
        try:
            self.response = self.client.job(self.job_id, wait=self.wait)
        except BaseException as error:  # reported by result()
            self.error = error

    def result(self, timeout: float) -> dict:
        self.join(timeout)
        assert not self.is_alive(), f"the long poll on {self.job_id} was not answered within {timeout} s"
        assert self.error is None, f"the long poll on {self.job_id} failed: {self.error!r}"
        assert self.response.status_code == 200, self.response.text
        job = self.response.json()
        fp.check_job(job)
        return job


def test_sigterm_lets_a_running_job_finish_then_exits_cleanly_and_the_key_is_reusable(server_factory):
    server = server_factory("--workers", "1", "--frontends", "2", "--shutdown-grace-seconds", "5")
    key = server.key
    c = server.client()
    running = c.submit_ok({"task": "sleep", "input": {"ms": 1200}})
    c.wait_running(running["id"])
    queued = c.submit_ok({"task": "echo", "input": "queued at shutdown"})
    assert queued["state"] == "queued"
    polls = [LongPoll(server.client(), running["id"]), LongPoll(server.client(), queued["id"])]
    # Both long polls are held before the signal (seen through the front-ends' `waiting`, where shown).
    def held():
        frontends = c.get("/v1/status").json()["frontends"]
        return not all("waiting" in f for f in frontends) or sum(f["waiting"] for f in frontends) >= 2
    wait_until(held, 5, what="the long polls to be held")
    start = time.monotonic()
    server.terminate()
    finished = polls[0].result(15)
    assert finished["state"] == "succeeded", f"a job that fits the grace period must finish: {finished}"
    assert finished["result"] == {"slept_ms": 1200}
    never = polls[1].result(15)
    assert never["state"] in ("failed", "canceled"), never
    assert never["error"]["code"] == "shutdown", never
    assert "started_at" not in never, f"a queued job must not start after SIGTERM: {never}"
    assert server.wait_exit(15) == 0
    assert time.monotonic() - start < 10
    problems = server.stop()
    assert not problems, problems

    # The same key again: a new server starts and works.
    again = server_factory("--workers", "1", "--frontends", "1", ipc_key=key)
    assert again.key == key
    job = again.client().submit_ok({"task": "echo", "input": "second life"}, wait=20)
    assert job["state"] == "succeeded" and job["result"] == "second life"
    assert again.client().get("/v1/jobs").json()["jobs"] == [job], "the new server starts with an empty table"


def test_draining_answers_503_and_ends_running_jobs_with_shutdown(server_factory):
    grace = 3
    server = server_factory("--workers", "1", "--frontends", "1", "--shutdown-grace-seconds", str(grace))
    c = server.client()
    job = c.submit_ok({"task": "sleep", "input": {"ms": 60000}})
    worker = c.wait_running(job["id"])["worker_pid"]
    poll = LongPoll(server.client(), job["id"], wait=60)
    start = time.monotonic()
    server.terminate()
    # While the pool drains (the sleep job holds it for the grace period):
    wait_until(lambda: c.get("/readyz").status_code == 503, 2, what="/readyz to answer 503 after SIGTERM")
    assert_error(c.get("/readyz"), 503)
    assert_error(c.submit({"task": "echo", "input": "late"}), 503)
    assert_error(c.submit({"task": "echo", "input": "late"}, wait=5), 503)
    assert c.get("/healthz").status_code == 200, "healthz answers while the process lives"
    assert c.job_ok(job["id"])["state"] == "running", "reads still work while draining"
    assert time.monotonic() - start < grace, "the checks above must run inside the grace period"
    # The grace runs out: the job ends with `shutdown` and its worker is gone.
    ended = poll.result(grace + 10)
    assert ended["state"] == "failed", ended
    assert ended["error"]["code"] == "shutdown", ended
    assert server.wait_exit(grace + 10) == 0
    elapsed = time.monotonic() - start
    assert grace - 0.5 <= elapsed < grace + 8, f"exit {elapsed:.1f} s after SIGTERM with a {grace} s grace"
    assert not fp.process_alive(worker)
    problems = server.stop()
    assert not problems, problems


def test_sigint_on_an_idle_server(server_factory):
    server = server_factory("--workers", "2", "--frontends", "2")
    c = server.client()
    assert c.submit_ok({"task": "echo", "input": 1}, wait=20)["state"] == "succeeded"
    start = time.monotonic()
    server.terminate(signal.SIGINT)
    assert server.wait_exit(10) == 0
    assert time.monotonic() - start < 5, "an idle server stops quickly"
    problems = server.stop()
    assert not problems, problems
