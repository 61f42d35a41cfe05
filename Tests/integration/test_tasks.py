"""The built-in tasks, priorities, timeouts and retries."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime

import pytest

import fp


def parse_ordered(content: bytes):
    return json.loads(content.decode("utf-8"), object_pairs_hook=lambda pairs: ("object", pairs))


def same(a, b) -> bool:
    """Equal as JSON values, and exactly: int is not float, -0.0 is not 0.0, object keys in order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, tuple):  # ("object", pairs)
        return len(a[1]) == len(b[1]) and all(ka == kb and same(va, vb) for (ka, va), (kb, vb) in zip(a[1], b[1]))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def ts(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


ECHO_INPUTS = [
    ("ascii string", '"hello"'),
    ("unicode string", '"h\u00e9llo w\u00f6rld \u2713 \U0001d11e \u65e5\u672c\u8a9e \U0001f600"'),
    ("escapes", r'"quote \" backslash \\ slash \/ \b \f \n \r \t"'),
    ("unicode escapes", r'"\u00e9\u2713\ud83d\ude00\u0000\u001f"'),
    ("control characters escaped", r'"a\u0001b\u007fc"'),
    ("empty string", '""'),
    ("int64 min", "-9223372036854775808"),
    ("int64 max", "9223372036854775807"),
    ("zero", "0"),
    ("negative int", "-42"),
    ("2^53 + 1", "9007199254740993"),
    ("0.1", "0.1"),
    ("1e300", "1e300"),
    ("-1.5e-300", "-1.5e-300"),
    ("smallest subnormal", "5e-324"),
    ("largest double", "1.7976931348623157e308"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("negative zero", "-0.0"),
    ("1.0", "1.0"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ("empty object", "{}"),
    ("empty array", "[]"),
    ("nested", '{"z": [1, 2.5, {"\u00e9": null}], "a": {"b": [true, false, "x"]}, "m": -9223372036854775808}'),
    ("deep", "[" * 50 + "1" + "]" * 50),
]


@pytest.mark.parametrize("raw", [r for _, r in ECHO_INPUTS], ids=[n for n, _ in ECHO_INPUTS])
def test_echo_returns_its_input_unchanged(client, raw):
    body = '{"task": "echo", "input": ' + raw + "}"
    r = client.submit(None, raw=body.encode("utf-8"), wait=20)
    assert r.status_code == 200, r.text
    job = json.loads(r.content)
    fp.check_job(job)
    assert job["state"] == "succeeded", job
    expected = parse_ordered(raw.encode("utf-8"))
    actual = parse_ordered(r.content)[1]
    result = dict(actual)["result"]
    assert same(result, expected), f"echo of {raw!r} gave {json.dumps(job['result'])!r}"
    # Read back later: the same.
    again = client.get(f"/v1/jobs/{job['id']}")
    assert same(dict(parse_ordered(again.content)[1])["result"], expected)


def test_echo_without_input_returns_null(client):
    job = client.submit_ok({"task": "echo"}, wait=20)
    assert job["state"] == "succeeded"
    assert "result" in job and job["result"] is None


def test_echo_of_a_large_input(client):
    value = {"items": [{"n": i, "s": "\u2713" * (i % 7), "f": i / 7} for i in range(3000)]}
    r = client.submit({"task": "echo", "input": value}, wait=20)
    assert r.status_code == 200
    assert r.json()["result"] == value


def test_sleep(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 150}}, wait=20)
    assert job["state"] == "succeeded"
    assert job["result"] == {"slept_ms": 150}
    assert ts(job["finished_at"]) - ts(job["started_at"]) >= 0.14
    zero = client.submit_ok({"task": "sleep", "input": {"ms": 0}}, wait=20)
    assert zero["result"] == {"slept_ms": 0}


def sha256_rounds(data: str, rounds: int) -> str:
    h = hashlib.sha256(data.encode("utf-8")).digest()
    for _ in range(rounds - 1):
        h = hashlib.sha256(h).digest()
    return h.hex()


@pytest.mark.parametrize("data,rounds", [("hello", None), ("hello", 1), ("", 1), ("\u00e9\u2713\U0001f600 abc", 2),
                                         ("forkpool", 1000), ("x" * 10000, 3), ("rounds", 100000)])
def test_sha256(client, data, rounds):
    task_input = {"data": data} if rounds is None else {"data": data, "rounds": rounds}
    job = client.submit_ok({"task": "sha256", "input": task_input}, wait=30)
    assert job["state"] == "succeeded", job
    assert job["result"] == {"hex": sha256_rounds(data, rounds or 1)}


def test_fail(client):
    message = "it broke: \u2717 \"quoted\"\nsecond line"
    job = client.submit_ok({"task": "fail", "input": {"message": message}}, wait=20)
    assert job["state"] == "failed"
    assert job["error"] == {**job["error"], "code": "task_error", "message": message}
    assert job["attempts"] == 1
    assert "result" not in job


def test_a_task_verdict_is_not_retried(client):
    job = client.submit_ok({"task": "fail", "input": {"message": "no"}, "max_attempts": 3}, wait=20)
    assert job["state"] == "failed" and job["error"]["code"] == "task_error"
    assert job["attempts"] == 1 and job["max_attempts"] == 3


def test_timeout(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 10000}, "timeout_ms": 300}, wait=20)
    assert job["state"] == "failed", job
    assert job["error"]["code"] == "timeout"
    assert job["attempts"] == 1
    ran = ts(job["finished_at"]) - ts(job["started_at"])
    assert 0.25 <= ran < 3, f"ran {ran:.3f} s with timeout_ms 300"


def test_timeout_with_retries(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 10000}, "timeout_ms": 200, "max_attempts": 3}, wait=30)
    assert job["state"] == "failed", job
    assert job["error"]["code"] == "timeout"
    assert job["attempts"] == 3 and job["max_attempts"] == 3
    # started_at is the start of the latest attempt: after two timed-out attempts.
    assert ts(job["started_at"]) - ts(job["created_at"]) >= 0.35, job


def test_a_job_that_succeeds_within_its_timeout(client):
    job = client.submit_ok({"task": "sleep", "input": {"ms": 50}, "timeout_ms": 5000, "max_attempts": 2}, wait=20)
    assert job["state"] == "succeeded" and job["attempts"] == 1


def test_priority_then_fifo(server_factory):
    server = server_factory("--workers", "1", "--frontends", "1")
    c = server.client()
    blocker = c.submit_ok({"task": "sleep", "input": {"ms": 60000}})
    c.wait_running(blocker["id"])
    plan = [("p0a", 0), ("p5a", 5), ("m5a", -5), ("p5b", 5), ("p0b", 0), ("p10", 10), ("m5b", -5), ("p0c", 0),
            ("p5c", 5), ("m10", -10)]
    ids = {}
    for name, priority in plan:
        job = c.submit_ok({"task": "sleep", "input": {"ms": 20}, "priority": priority})
        assert job["state"] == "queued", job
        assert job["priority"] == priority
        ids[job["id"]] = name
    assert c.job_ok(blocker["id"])["state"] == "running", "the blocker must hold the only worker while jobs queue"
    assert c.cancel(blocker["id"]).status_code == 200
    finished = [c.finished(job_id) for job_id in ids]
    assert all(j["state"] == "succeeded" for j in finished), finished
    by_start = sorted(finished, key=lambda j: (j["started_at"], j["finished_at"]))
    order = [ids[j["id"]] for j in by_start]
    assert order == ["p10", "p5a", "p5b", "p5c", "p0a", "p0b", "p0c", "m5a", "m5b", "m10"]
    starts = [j["started_at"] for j in by_start]
    assert len(set(starts)) == len(starts), "one worker runs one job at a time"
    for earlier, later in zip(by_start, by_start[1:]):
        assert earlier["finished_at"] <= later["started_at"]
