"""/metrics after known work gives the right counts, whichever front-end answers:
every number comes from the shared segment."""

from __future__ import annotations

import re

import fp


def sample(text: str, name: str, **labels) -> float | None:
    """The value of one sample of the exposition, or None when it is absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.fullmatch(r"([a-z_]+)(\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if found == {k: str(v) for k, v in labels.items()}:
            return float(match.group(4))
    return None


def test_metrics_count_known_work_the_same_from_every_frontend(server_factory):
    server = server_factory("--frontends", "3", "--workers", "2")
    client = server.client(fresh=True)  # a new connection per request, so several front-ends serve
    for n in range(7):
        assert client.submit_ok({"task": "echo", "input": n}, wait=10)["state"] == "succeeded"
    for _ in range(2):
        assert client.submit_ok({"task": "fail", "input": {"message": "no"}}, wait=10)["state"] == "failed"
    blocker = client.submit_ok({"task": "sleep", "input": {"ms": 30000}})
    client.wait_running(blocker["id"])
    assert client.cancel(blocker["id"]).status_code == 200
    fp.assert_error(client.get("/no/such/route"), 404)
    fp.assert_error(client.submit({"task": "echo", "priority": 99}), 400)

    scrapes = {}
    for _ in range(30):
        answer = client.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        scrapes.setdefault(answer.headers["X-Forkpool-Frontend"], answer.text)
        if len(scrapes) >= 2:
            break
    assert len(scrapes) >= 2, "every scrape came from one front-end; the test proves nothing"
    for frontend, text in scrapes.items():
        where = f"scrape from front-end {frontend}"
        assert sample(text, "forkpool_jobs_submitted_total", task="echo") == 7, where
        assert sample(text, "forkpool_jobs_submitted_total", task="fail") == 2, where
        assert sample(text, "forkpool_jobs_finished_total", task="echo", state="succeeded") == 7, where
        assert sample(text, "forkpool_jobs_finished_total", task="fail", state="failed") == 2, where
        assert sample(text, "forkpool_jobs_finished_total", task="sleep", state="canceled") == 1, where
        assert sample(text, "forkpool_job_run_seconds_count", task="echo") == 7, where
        assert sample(text, "forkpool_job_queue_wait_seconds_count", task="echo") == 7, where
        assert sample(text, "forkpool_job_run_seconds_bucket", task="echo", le="+Inf") == 7, where
        assert sample(text, "forkpool_http_requests_total", method="POST", route="/v1/jobs", status="200") == 9, where
        assert sample(text, "forkpool_http_requests_total", method="POST", route="/v1/jobs", status="202") == 1, where
        assert sample(text, "forkpool_http_requests_total", method="POST", route="/v1/jobs", status="400") == 1, where
        assert sample(text, "forkpool_http_requests_total", method="DELETE", route="/v1/jobs/{id}", status="200") == 1, where
        assert sample(text, "forkpool_http_requests_total", method="other", route="other", status="404") == 1, where
        assert sample(text, "forkpool_frontends_up") == 3, where
        assert sample(text, "forkpool_workers_max") == 2, where
        assert sample(text, "forkpool_queue_depth") == 0, where
        assert sample(text, "forkpool_segment_bytes") > 0, where
