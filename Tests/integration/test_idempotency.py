"""Idempotency keys: body field and header (the header wins), equal inputs, conflicts."""

from __future__ import annotations

import json
import uuid

from fp import assert_error, check_job

JSON_HEADERS = {"Content-Type": "application/json"}


def post_raw(client, raw: str, headers=None, wait=None):
    h = dict(JSON_HEADERS)
    h.update(headers or {})
    return client.post("/v1/jobs" + (f"?wait={wait}" if wait is not None else ""), data=raw.encode("utf-8"),
                       headers=h, timeout=30)


def test_same_key_and_equal_input_returns_the_first_job(client):
    key = f"body-{uuid.uuid4()}"
    first = post_raw(client, json.dumps({"task": "echo", "input": {"a": 1, "b": [1, 2], "c": "\u00e9"},
                                         "idempotency_key": key}))
    assert first.status_code == 202, first.text
    job = first.json()
    # Equal as JSON values: other key order, other whitespace, an escaped character; other non-input fields.
    for raw in [
        '{"idempotency_key": "%s", "task": "echo", "input": {"c": "\\u00e9", "b": [1, 2], "a": 1}}' % key,
        '{ "task" : "echo" ,\n "input" :\t{ "b" : [ 1 , 2 ] , "c":"\u00e9", "a" : 1 } , "idempotency_key":"%s" }' % key,
        '{"task": "echo", "input": {"a": 1, "b": [1, 2], "c": "\u00e9"}, "idempotency_key": "%s", "priority": 7, '
        '"max_attempts": 4, "timeout_ms": 1234}' % key,
    ]:
        again = post_raw(client, raw)
        assert again.status_code == 200, f"{raw}: {again.status_code} {again.text}"
        body = again.json()
        check_job(body)
        assert body["id"] == job["id"]
        assert body["priority"] == 0 and body["max_attempts"] == 1, "the first job, whatever the other fields"
    # Only one job was made.
    listed = [j["id"] for j in client.get("/v1/jobs?task=echo&limit=1000").json()["jobs"]]
    assert listed.count(job["id"]) == 1
    done = client.finished(job["id"])
    assert done["result"] == {"a": 1, "b": [1, 2], "c": "\u00e9"}
    # Still the same job after it finished, and with wait it answers 200 at once.
    late = post_raw(client, json.dumps({"task": "echo", "input": {"b": [1, 2], "a": 1, "c": "\u00e9"},
                                        "idempotency_key": key}), wait=5)
    assert late.status_code == 200
    assert late.json()["id"] == job["id"] and late.json()["state"] == "succeeded"


def test_same_key_with_other_input_or_task_is_409(client):
    key = f"conflict-{uuid.uuid4()}"
    job = client.submit_ok({"task": "echo", "input": {"n": 1}, "idempotency_key": key})
    for body in ({"task": "echo", "input": {"n": 2}, "idempotency_key": key},
                 {"task": "echo", "input": {"n": 1, "m": 1}, "idempotency_key": key},
                 {"task": "echo", "input": {"n": 1.5}, "idempotency_key": key},
                 {"task": "echo", "idempotency_key": key},
                 {"task": "sleep", "input": {"n": 1}, "idempotency_key": key} | {"input": {"ms": 1}},
                 {"task": "fail", "input": {"message": "m"}, "idempotency_key": key}):
        err = assert_error(client.submit(body), 409)
        assert err["code"] == "idempotency_conflict", err
    assert client.job_ok(job["id"])["task"] == "echo"


def test_header_key_works_and_wins_over_the_body(client):
    header_key = f"header-{uuid.uuid4()}"
    body_key = f"body-{uuid.uuid4()}"
    first = client.submit({"task": "echo", "input": "h", "idempotency_key": body_key},
                          headers={"Idempotency-Key": header_key})
    assert first.status_code == 202, first.text
    job = first.json()
    # The header key alone finds it.
    again = client.submit({"task": "echo", "input": "h"}, headers={"Idempotency-Key": header_key})
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    # The header wins over another body key.
    other = client.submit({"task": "echo", "input": "h", "idempotency_key": f"x-{uuid.uuid4()}"},
                          headers={"Idempotency-Key": header_key})
    assert other.status_code == 200 and other.json()["id"] == job["id"]
    # The body key of the first request was not used: it makes a new job.
    fresh = client.submit({"task": "echo", "input": "h", "idempotency_key": body_key})
    assert fresh.status_code == 202, fresh.text
    assert fresh.json()["id"] != job["id"]
    # A header key with another input is a conflict.
    assert_error(client.submit({"task": "echo", "input": "other"}, headers={"Idempotency-Key": header_key}), 409,
                 "idempotency_conflict")


def test_without_a_key_every_submission_is_new(client):
    ids = {client.submit_ok({"task": "echo", "input": "same"})["id"] for _ in range(3)}
    assert len(ids) == 3


def test_keys_are_exact_strings(client):
    key = f"Case-{uuid.uuid4()}"
    a = client.submit_ok({"task": "echo", "input": 1, "idempotency_key": key})
    b = client.submit({"task": "echo", "input": 1, "idempotency_key": key.lower()})
    assert b.status_code == 202 and b.json()["id"] != a["id"]
