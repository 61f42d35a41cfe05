"""Tasks list, health, readiness, /v1/status, /metrics and X-Forkpool-Frontend."""

from __future__ import annotations

import re

import fp
from fp import assert_error

BUILTINS = {"echo", "sleep", "sha256", "fail"}


def test_tasks_lists_the_builtins_with_schemas(client):
    r = client.get("/v1/tasks")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    body = r.json()
    assert set(body) >= {"tasks"} and isinstance(body["tasks"], list)
    names = []
    for task in body["tasks"]:
        assert type(task.get("name")) is str and task["name"]
        assert type(task.get("description")) is str and task["description"]
        assert isinstance(task.get("input_schema"), dict), task
        names.append(task["name"])
    assert len(names) == len(set(names)), f"duplicate task names: {names}"
    assert BUILTINS <= set(names)
    schemas = {t["name"]: t["input_schema"] for t in body["tasks"]}
    # The schemas say what the contract says the inputs are.
    assert schemas["sleep"].get("type") == "object" and "ms" in schemas["sleep"].get("properties", {})
    assert "ms" in schemas["sleep"].get("required", [])
    assert schemas["sha256"].get("type") == "object" and {"data", "rounds"} <= set(schemas["sha256"].get("properties", {}))
    assert "data" in schemas["sha256"].get("required", [])
    assert schemas["fail"].get("type") == "object" and "message" in schemas["fail"].get("properties", {})


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_when_accepting_work(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    r.json()


def test_head_of_healthz(client):
    r = client.request("HEAD", "/healthz")
    assert r.status_code == 200


def _is_count(value):
    return type(value) is int and value >= 0


def test_status_shape(shared_server, client):
    # Something in every state the pool can show quickly.
    done = client.submit_ok({"task": "echo", "input": "s"}, wait=20)
    assert done["state"] == "succeeded"
    r = client.get("/v1/status")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    status = r.json()
    frontends = status["frontends"]
    assert isinstance(frontends, list) and len(frontends) == 2, frontends
    children = set(shared_server.child_pids())
    for frontend in frontends:
        assert type(frontend["pid"]) is int and frontend["pid"] in children, f"{frontend} is not a child of the supervisor {children}"
    assert int(r.headers["X-Forkpool-Frontend"]) in {f["pid"] for f in frontends}
    pool = status["pool"]
    assert type(pool["pid"]) is int and pool["pid"] in children
    assert pool["pid"] not in {f["pid"] for f in frontends}
    workers = pool["workers"]
    assert workers["max"] == 4
    assert _is_count(workers["busy"]) and _is_count(workers["idle"])
    assert workers["busy"] + workers["idle"] <= workers["max"]
    queue = status["queue"]
    assert _is_count(queue["depth"]) and queue["capacity"] == 1000
    jobs = status["jobs"]
    for state in ("queued", "running", "succeeded", "failed", "canceled"):
        assert _is_count(jobs[state]), (state, jobs)
    assert jobs["succeeded"] >= 1
    segment = status["segment"]
    assert _is_count(segment["bytes"]) and _is_count(segment["used_bytes"])
    assert 0 < segment["used_bytes"] <= segment["bytes"]


def test_status_counts_follow_the_jobs(server_factory):
    server = server_factory("--workers", "1", "--frontends", "1", "--queue-capacity", "7")
    c = server.client()
    blocker = c.submit_ok({"task": "sleep", "input": {"ms": 30000}})
    c.wait_running(blocker["id"])
    queued = [c.submit_ok({"task": "echo", "input": i}) for i in range(3)]
    status = c.get("/v1/status").json()
    assert status["jobs"]["running"] == 1
    assert status["jobs"]["queued"] == 3
    assert status["queue"]["depth"] == 3 and status["queue"]["capacity"] == 7
    assert status["pool"]["workers"]["max"] == 1
    # The pool publishes its workers itself: allow it a moment.
    fp.wait_until(lambda: c.get("/v1/status").json()["pool"]["workers"]["busy"] == 1, 3, interval=0.05,
                  what="status to show 1 busy worker")
    for job in queued:
        assert c.cancel(job["id"]).status_code == 200
    assert c.cancel(blocker["id"]).status_code == 200
    status = c.get("/v1/status").json()
    assert status["jobs"]["canceled"] == 4
    assert status["jobs"]["queued"] == 0 and status["jobs"]["running"] == 0


METRIC_LINE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?P<labels>\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})?'
    r' (?P<value>[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))(?: -?[0-9]+)?$')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_metrics(text: str) -> dict[str, list[tuple[str, float]]]:
    assert text.endswith("\n"), "the exposition ends with a line feed"
    types: dict[str, str] = {}
    samples: dict[str, list[tuple[str, float]]] = {}
    for line in text.split("\n")[:-1]:
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] == "TYPE":
                assert len(parts) == 4 and parts[3] in TYPES, f"bad TYPE line: {line!r}"
                assert parts[2] not in types, f"second TYPE for {parts[2]}"
                assert parts[2] not in samples, f"TYPE for {parts[2]} after its samples"
                types[parts[2]] = parts[3]
            elif len(parts) >= 2 and parts[1] == "HELP":
                assert len(parts) >= 3, line
            continue
        m = METRIC_LINE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name = m.group("name")
        base = re.sub(r"_(bucket|sum|count|total|created)$", "", name)
        assert name in types or base in types or any(name.startswith(t) for t in types), f"sample {name} without a TYPE"
        samples.setdefault(name, []).append((m.group("labels") or "", float(m.group("value"))))
    assert samples, "no samples"
    return samples


def test_metrics_is_prometheus_text(client):
    r = client.get("/metrics")
    assert r.status_code == 200
    content_type = r.headers["Content-Type"]
    assert content_type.startswith("text/plain"), content_type
    samples = parse_metrics(r.text)
    # Samples change with the work done: the total of all sample values moves after a job.
    client.submit_ok({"task": "echo", "input": "metrics"}, wait=20)
    after = parse_metrics(client.get("/metrics").text)
    assert after != samples


def test_every_answer_names_a_frontend_of_this_server(shared_server):
    c = shared_server.client()
    frontends = {f["pid"] for f in c.get("/v1/status").json()["frontends"]}
    answers = [
        c.get("/healthz"), c.get("/readyz"), c.get("/metrics"), c.get("/v1/tasks"), c.get("/v1/jobs"),
        c.get("/nope"), c.delete("/v1/jobs"), c.post("/v1/jobs", data=b"{"),
        c.post("/v1/jobs", data=b"{", headers={"Content-Type": "application/json"}),
    ]
    for r in answers:
        assert int(r.headers["X-Forkpool-Frontend"]) in frontends, (r.request.method, r.request.url, r.headers)
    assert_error(answers[5], 404)


def test_the_status_page_is_one_self_contained_html_page(server_factory):
    # Two workers: the sleep keeps one busy while the failing job runs on the other.
    server = server_factory("--workers", "2", token="page-secret")
    client = server.client()
    job = client.submit_ok({"task": "sleep", "input": {"ms": 30000}})
    client.wait_running(job["id"])
    client.submit_ok({"task": "fail", "input": {"message": "x"}}, wait=5)
    assert server.client(token=None).get("/").status_code == 401, "the page shows job ids: it needs the token"
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert html.startswith("<!doctype html>")
    assert '<meta name="viewport"' in html and 'http-equiv="refresh"' in html
    assert job["id"] in html, "the running job is listed"
    for task in ("echo", "sleep", "sha256", "fail"):
        assert f"<td>{task}</td>" in html
    # No external assets: nothing is loaded from anywhere.
    assert "src=" not in html and "<link" not in html and "@import" not in html
