"""Every error status of the contract, each with the {"error": {"code", "message"}} body."""

from __future__ import annotations

import json

import pytest

import fp
from fp import assert_error

JSON_HEADERS = {"Content-Type": "application/json"}


def newest_id(c):
    jobs = c.get("/v1/jobs?limit=1").json()["jobs"]
    return jobs[0]["id"] if jobs else None


# ------------------------------------------------------------------ 400

BAD_BODIES = [
    ("invalid JSON", b'{"task": "echo",'),
    ("invalid JSON: bare word", b"echo"),
    ("invalid JSON: trailing garbage", b'{"task": "echo"} x'),
    ("invalid JSON: single quotes", b"{'task': 'echo'}"),
    ("empty body", b""),
    ("not an object: array", b'["echo"]'),
    ("not an object: string", b'"echo"'),
    ("not an object: number", b"42"),
    ("not an object: null", b"null"),
    ("missing task", b"{}"),
    ("missing task with input", b'{"input": 1}'),
    ("task not a string", b'{"task": 5}'),
    ("task null", b'{"task": null}'),
    ("timeout_ms a string", b'{"task": "echo", "timeout_ms": "100"}'),
    ("timeout_ms zero", b'{"task": "echo", "timeout_ms": 0}'),
    ("timeout_ms negative", b'{"task": "echo", "timeout_ms": -5}'),
    ("timeout_ms fractional", b'{"task": "echo", "timeout_ms": 1.5}'),
    ("max_attempts zero", b'{"task": "echo", "max_attempts": 0}'),
    ("max_attempts eleven", b'{"task": "echo", "max_attempts": 11}'),
    ("max_attempts a string", b'{"task": "echo", "max_attempts": "3"}'),
    ("priority -11", b'{"task": "echo", "priority": -11}'),
    ("priority 11", b'{"task": "echo", "priority": 11}'),
    ("priority a string", b'{"task": "echo", "priority": "1"}'),
    ("priority a bool", b'{"task": "echo", "priority": true}'),
    ("priority fractional", b'{"task": "echo", "priority": 1.5}'),
    ("idempotency_key empty", b'{"task": "echo", "idempotency_key": ""}'),
    ("idempotency_key too long", json.dumps({"task": "echo", "idempotency_key": "k" * 129}).encode()),
    ("idempotency_key a number", b'{"task": "echo", "idempotency_key": 5}'),
]


@pytest.mark.parametrize("body", [b for _, b in BAD_BODIES], ids=[n for n, _ in BAD_BODIES])
def test_400_for_bad_bodies(client, body):
    before = newest_id(client)
    assert_error(client.post("/v1/jobs", data=body, headers=JSON_HEADERS), 400)
    assert newest_id(client) == before, "a rejected body made a job"


@pytest.mark.parametrize("field", ["timeout", "colour", "Task", "max_attempt"])
def test_400_names_the_unknown_field(client, field):
    body = {"task": "echo", "input": 1, field: 100}
    err = assert_error(client.post("/v1/jobs", data=json.dumps(body), headers=JSON_HEADERS), 400)
    assert field in err["message"], f"the message does not name {field!r}: {err['message']!r}"


def test_bounds_of_the_ranges_are_accepted(client):
    for body in ({"task": "echo", "priority": -10}, {"task": "echo", "priority": 10},
                 {"task": "echo", "max_attempts": 1}, {"task": "echo", "max_attempts": 10},
                 {"task": "echo", "timeout_ms": 1}, {"task": "echo", "idempotency_key": "k" * 128},
                 {"task": "echo", "idempotency_key": "\u00e9" * 128}):
        r = client.submit(body)
        assert r.status_code == 202, f"{body}: {r.status_code} {r.text}"
    job = client.submit_ok({"task": "echo", "priority": -10, "max_attempts": 10})
    assert job["priority"] == -10 and job["max_attempts"] == 10


# ------------------------------------------------------------------ 401

TOKEN = "s3cr3t-t0ken"


@pytest.fixture(scope="module")
def token_server():
    factory = fp.Factory()
    server = factory("--workers", "2", "--frontends", "1", token=TOKEN)
    yield server
    problems = factory.close()
    if problems:
        pytest.fail("unclean server shutdown:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("authorization", [
    None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", "Bearer", f"Basic {TOKEN}", TOKEN,
    "Bearer wrong-token!", f"Bearer  {TOKEN}x",
])
def test_401_without_a_valid_token(token_server, authorization):
    c = token_server.client(token=False)
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, kw in [("GET", "/v1/jobs", {}), ("GET", "/v1/tasks", {}), ("GET", "/v1/status", {}),
                             ("GET", "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA", {}),
                             ("DELETE", "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA", {}),
                             ("POST", "/v1/jobs", {"data": b'{"task": "echo"}'})]:
        h = dict(headers)
        if method == "POST":
            h.update(JSON_HEADERS)
        r = c.request(method, path, headers=h, **kw)
        assert_error(r, 401)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers


def test_401_leaves_health_readiness_and_metrics_open(token_server):
    c = token_server.client(token=False)
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 200
    r = c.get("/metrics")
    assert r.status_code == 200 and r.text.strip()


def test_the_right_token_works(token_server):
    c = token_server.client()
    job = c.submit_ok({"task": "echo", "input": "authorized"}, wait=20)
    assert job["state"] == "succeeded" and job["result"] == "authorized"
    assert c.job_ok(job["id"])["id"] == job["id"]
    assert c.get("/v1/jobs").status_code == 200
    assert c.get("/v1/tasks").status_code == 200
    assert c.get("/v1/status").status_code == 200
    # Nothing was made by the unauthorized POSTs.
    assert [j["id"] for j in c.get("/v1/jobs").json()["jobs"]] == [job["id"]]
    # The scheme name is case-insensitive (RFC 7235).
    assert c.get("/v1/tasks", auth=False, headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


# ------------------------------------------------------------------ 404

def test_404_for_unknown_routes(client):
    for path in ("/v1", "/v1/", "/v1/jobs/", "/v1/job", "/v1/jobsx", "/v2/jobs", "/nope", "/healthz/x", "/v1/tasks/echo"):
        assert_error(client.get(path), 404)
    assert_error(client.post("/v1/nope", data=b"{}", headers=JSON_HEADERS), 404)


def test_404_for_unknown_and_malformed_job_ids(client):
    job = client.submit_ok({"task": "echo", "input": 1}, wait=20)
    real = job["id"]
    # Same length and alphabet, other secret bits: unknown.
    for i in (len(real) // 2, len(real) - 2):
        other = "A" if real[i] != "A" else "B"
        forged = real[:i] + other + real[i + 1:]
        assert_error(client.get(f"/v1/jobs/{forged}"), 404)
        assert_error(client.delete(f"/v1/jobs/{forged}"), 404)
    assert_error(client.get("/v1/jobs/" + "A" * len(real)), 404)
    for bad in ("x", "abc", "not-a-job-id", real + "A", real[:-1], "%00", "..%2F..%2Fetc", "a" * 500, real + "/x"):
        assert_error(client.get(f"/v1/jobs/{bad}"), 404)
        assert_error(client.delete(f"/v1/jobs/{bad}"), 404)
    # The real job is untouched.
    assert client.job_ok(real) == job


# ------------------------------------------------------------------ 405

@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/v1/jobs", {"GET", "POST"}),
    ("PUT", "/v1/jobs", {"GET", "POST"}),
    ("PATCH", "/v1/jobs/{id}", {"GET", "DELETE"}),
    ("POST", "/v1/jobs/{id}", {"GET", "DELETE"}),
    ("PUT", "/v1/jobs/{id}", {"GET", "DELETE"}),
    ("POST", "/v1/tasks", {"GET"}),
    ("DELETE", "/v1/status", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("POST", "/readyz", {"GET"}),
    ("POST", "/metrics", {"GET"}),
])
def test_405_with_allow(client, method, path, allowed):
    if "{id}" in path:
        job = client.submit_ok({"task": "echo", "input": "405"}, wait=20)
        path = path.replace("{id}", job["id"])
    r = client.request(method, path, data=b"{}", headers=JSON_HEADERS)
    assert_error(r, 405)
    assert "Allow" in r.headers, r.headers
    listed = {m.strip().upper() for m in r.headers["Allow"].split(",") if m.strip()}
    assert allowed <= listed, f"Allow: {r.headers['Allow']}"
    assert method not in listed
    if "{id}" not in path and path.startswith("/v1/jobs/"):
        assert client.job_ok(path.rsplit("/", 1)[1])["state"] == "succeeded"


# ------------------------------------------------------------------ 413, and the timeout cap

@pytest.fixture(scope="module")
def limits_server():
    factory = fp.Factory()
    server = factory("--workers", "2", "--frontends", "1", "--max-body-bytes", "4096",
                     "--default-timeout-ms", "500", "--max-timeout-ms", "500")
    yield server
    problems = factory.close()
    if problems:
        pytest.fail("unclean server shutdown:\n" + "\n".join(problems), pytrace=False)


def body_of_size(size: int) -> bytes:
    empty = json.dumps({"task": "echo", "input": ""}).encode()
    body = json.dumps({"task": "echo", "input": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


def test_413_for_a_body_over_the_limit(limits_server):
    c = limits_server.client()
    assert_error(c.post("/v1/jobs", data=body_of_size(4097), headers=JSON_HEADERS), 413)
    assert_error(c.post("/v1/jobs", data=body_of_size(100_000), headers=JSON_HEADERS), 413)
    # The limit itself is fine, and echoes back.
    r = c.post("/v1/jobs?wait=20", data=body_of_size(4096), headers=JSON_HEADERS, timeout=40)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == json.loads(body_of_size(4096))["input"]


def test_413_for_a_chunked_body_over_the_limit(limits_server):
    c = limits_server.client()
    body = body_of_size(20_000)

    def chunks():
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    r = c.post("/v1/jobs", data=chunks(), headers=JSON_HEADERS)
    assert_error(r, 413)
    # The front-end still answers after refusing it.
    assert c.get("/healthz").status_code == 200


def test_timeout_ms_is_capped_by_the_server_maximum(limits_server):
    c = limits_server.client()
    r = c.submit({"task": "sleep", "input": {"ms": 10000}, "timeout_ms": 100000}, wait=20)
    assert r.status_code == 200, r.text
    job = r.json()
    fp.check_job(job)
    assert job["state"] == "failed" and job["error"]["code"] == "timeout", job


# ------------------------------------------------------------------ 415

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonx", "multipart/form-data; boundary=x", "json"])
def test_415_without_a_json_content_type(client, content_type):
    before = newest_id(client)
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = client.post("/v1/jobs", data=json.dumps({"task": "echo", "input": 1}).encode(), headers=headers)
    assert_error(r, 415)
    assert newest_id(client) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                          "Application/JSON", "application/json ; charset=utf-8"])
def test_json_content_type_with_parameters_is_accepted(client, content_type):
    r = client.post("/v1/jobs", data=json.dumps({"task": "echo", "input": content_type}).encode(),
                    headers={"Content-Type": content_type})
    assert r.status_code == 202, r.text
    assert client.finished(r.json()["id"])["result"] == content_type


# ------------------------------------------------------------------ 422

@pytest.mark.parametrize("body", [
    {"task": "nope"},
    {"task": "ECHO"},
    {"task": ""},
    {"task": "sleep"},
    {"task": "sleep", "input": None},
    {"task": "sleep", "input": {}},
    {"task": "sleep", "input": {"ms": "10"}},
    {"task": "sleep", "input": {"ms": -1}},
    {"task": "sleep", "input": {"ms": 1.5}},
    {"task": "sleep", "input": "10"},
    {"task": "sleep", "input": {"ms": 10, "extra": 1}},
    {"task": "sha256", "input": {"data": 5}},
    {"task": "sha256", "input": {"rounds": 2}},
    {"task": "sha256", "input": {"data": "x", "rounds": 0}},
    {"task": "sha256", "input": {"data": "x", "rounds": "2"}},
    {"task": "fail", "input": {}},
    {"task": "fail", "input": {"message": 3}},
], ids=lambda b: json.dumps(b))
def test_422_for_unknown_tasks_and_rejected_inputs(client, body):
    before = newest_id(client)
    assert_error(client.submit(body), 422)
    assert newest_id(client) == before


# ------------------------------------------------------------------ 429

def test_429_when_the_queue_is_full(server_factory):
    server = server_factory("--workers", "1", "--frontends", "1", "--queue-capacity", "2")
    c = server.client()
    blocker = c.submit_ok({"task": "sleep", "input": {"ms": 30000}})
    c.wait_running(blocker["id"])
    queued = [c.submit_ok({"task": "sleep", "input": {"ms": 30000}}) for _ in range(2)]
    assert all(j["state"] == "queued" for j in queued)
    for _ in range(3):
        r = c.submit({"task": "echo", "input": "too many"})
        assert_error(r, 429)
        retry = r.headers.get("Retry-After")
        assert retry is not None and retry.strip().isdigit(), r.headers
    # Only the three accepted jobs exist.
    assert {j["id"] for j in c.get("/v1/jobs").json()["jobs"]} == {blocker["id"]} | {j["id"] for j in queued}
    # Room again after a cancel.
    assert c.cancel(queued[0]["id"]).status_code == 200
    again = c.submit({"task": "echo", "input": "room"})
    assert again.status_code == 202, again.text
    for job in (queued[1], again.json(), blocker):
        c.cancel(job["id"])
