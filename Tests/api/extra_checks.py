#!/usr/bin/env python3
"""Checks of forkpool's HTTP API that schemathesis cannot derive from openapi.yaml.

Every answer is validated against openapi.yaml (status documented, required
headers present and valid, JSON body valid against the documented schema), and
each check also asserts what the contract says should happen: unknown routes,
non-standard methods, missing or wrong bearer tokens, 413 on an oversized body,
415, 422, the body and query parameter rules, idempotency, long polls, cancel,
retries, pagination, HEAD, the 429 of a full queue and the 503s of a draining
server.

Usage (run_schemathesis.sh calls it):
  extra_checks.py --spec openapi.yaml --base http://127.0.0.1:PORT --token T MODE
MODE is one of:
  api          the main checks, against a server with default limits
  queue-full   against a server started with --workers 1 --queue-capacity 1
  drain-prep   submit a job that keeps the server draining for a while
  drain-probe  after SIGTERM: /readyz and POST answer 503, /healthz 200
"""

import argparse
import hashlib
import http.client
import json
import re
import socket
import sys
import time
import urllib.parse

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

# The server's defaults that some checks rely on (run_schemathesis.sh does not change them).
DEFAULT_TIMEOUT_MS = 300000
MAX_TIMEOUT_MS = 3600000
MAX_BODY_BYTES = 1 << 20
SOME_ID = "AAAAAAAAAAAAAAAAAAAAAA"  # well formed, names no job (slot 0, generation 0)


def parse_time(text):
    """Seconds since the epoch of a job timestamp (2026-11-28T01:02:03.456Z)."""
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class CheckFailed(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


class Response:
    def __init__(self, method, path, status, headers, body):
        self.method = method
        self.path = path
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def describe(self):
        text = self.body[:300].decode("utf-8", "replace")
        return f"{self.method} {self.path} -> {self.status} {text}"


class Spec:
    """openapi.yaml, with response validation."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as handle:
            self.document = yaml.safe_load(handle)
        self.validators = {}

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            reference = node["$ref"]
            require(reference.startswith("#/"), f"unsupported $ref {reference}")
            node = self.document
            for part in reference[2:].split("/"):
                node = node[part]
        return node

    def validate(self, instance, schema, where):
        key = id(schema)
        if key not in self.validators:
            root = dict(self.document)
            root["x-inline-schema"] = schema
            root["$ref"] = "#/x-inline-schema"
            self.validators[key] = OAS30Validator(root, format_checker=oas30_format_checker)
        errors = sorted(self.validators[key].iter_errors(instance), key=lambda error: list(error.path))
        if errors:
            details = "; ".join(f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message[:200]}" for error in errors[:3])
            raise CheckFailed(f"{where}: does not match the schema: {details}")

    def operation(self, template, method):
        item = self.document["paths"].get(template)
        require(item is not None, f"no path {template} in the spec")
        operation = item.get(method.lower())
        require(operation is not None, f"no operation {method} {template} in the spec")
        return operation

    def allowed_methods(self, template):
        """The methods the spec documents as real operations (not the 405 ones)."""
        item = self.document["paths"][template]
        return {method.upper() for method, operation in item.items()
                if isinstance(operation, dict) and "responses" in operation
                and "method-not-allowed" not in operation.get("tags", [])}

    def check_response(self, response, documented, where):
        """Checks `response` against one documented response object."""
        documented = self.resolve(documented)
        for name, header in documented.get("headers", {}).items():
            header = self.resolve(header)
            value = response.headers.get(name.lower())
            if value is None:
                require(not header.get("required", False), f"{where}: header {name} missing")
                continue
            schema = header.get("schema", {})
            coerced = value
            if schema.get("type") == "integer":
                require(re.fullmatch(r"-?[0-9]+", value) is not None, f"{where}: header {name}: {value!r} is not an integer")
                coerced = int(value)
            self.validate(coerced, schema, f"{where}: header {name}")
        content = documented.get("content")
        if response.method == "HEAD":
            require(response.body == b"", f"{where}: HEAD answer has a body")
            return
        if not content:
            return
        content_type = response.headers.get("content-type")
        require(content_type is not None, f"{where}: no Content-Type")
        media = content_type.split(";")[0].strip().lower()
        require(media in content, f"{where}: Content-Type {content_type} is not documented ({', '.join(content)})")
        if media == "application/json":
            try:
                body = response.json
            except ValueError as error:
                raise CheckFailed(f"{where}: body is not JSON: {error}")
            self.validate(body, content[media].get("schema", {}), f"{where}: body")
        elif "schema" in content[media]:
            self.validate(response.body.decode("utf-8"), content[media]["schema"], f"{where}: body")

    def conform(self, response, template, method=None):
        method = method or response.method
        operation = self.operation(template, method)
        documented = operation["responses"].get(str(response.status))
        where = f"{response.method} {response.path}"
        require(documented is not None,
                f"{where}: status {response.status} is not documented for {method} {template}: {response.describe()}")
        self.check_response(response, documented, where)

    def conform_component(self, response, name):
        self.check_response(response, {"$ref": f"#/components/responses/{name}"}, f"{response.method} {response.path}")


class Client:
    def __init__(self, base, token):
        parsed = urllib.parse.urlsplit(base)
        self.host = parsed.hostname
        self.port = parsed.port
        self.token = token
        self.frontends_seen = set()

    def request(self, method, path, body=None, headers=None, auth=True, timeout=70):
        all_headers = {}
        if auth and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if body is not None and isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        all_headers.update(headers or {})
        all_headers = {name: value for name, value in all_headers.items() if value is not None}
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            answer = connection.getresponse()
            data = answer.read()
            response = Response(method, path, answer.status, answer.getheaders(), data)
        finally:
            connection.close()
        self.note(response)
        return response

    def raw(self, data, chunks=()):
        """Sends raw bytes (and then chunks, stopping when the server hangs up); returns the answer."""
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            sock.sendall(data)
            try:
                for chunk in chunks:
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            received = b""
            try:
                while True:
                    part = sock.recv(65536)
                    if not part:
                        break
                    received += part
            except ConnectionResetError:
                pass
        # Skip any interim 100 Continue.
        while received.startswith(b"HTTP/1.1 100"):
            received = received.split(b"\r\n\r\n", 1)[1]
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        require(lines and lines[0].startswith("HTTP/1."), f"no HTTP answer: {received[:200]!r}")
        status = int(lines[0].split()[1])
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
        request_line = data.split(b"\r\n", 1)[0].decode("latin-1").split()
        response = Response(request_line[0], request_line[1], status, headers, body)
        self.note(response)
        return response

    def note(self, response):
        value = response.headers.get("x-forkpool-frontend")
        if value is not None:
            self.frontends_seen.add(value)


class Checks:
    def __init__(self, spec, client):
        self.spec = spec
        self.client = client
        self.passed = 0
        self.failed = []

    def run(self, name, function):
        started = time.monotonic()
        try:
            function()
        except CheckFailed as error:
            self.failed.append(name)
            print(f"FAIL {name}: {error}", flush=True)
            return
        except Exception as error:  # a crash of the check itself also fails it
            self.failed.append(name)
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
            return
        self.passed += 1
        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)

    # Helpers

    def post_job(self, body, query="", headers=None, expect=(202,)):
        response = self.client.request("POST", "/v1/jobs" + query, body=body, headers=headers)
        self.spec.conform(response, "/v1/jobs")
        require(response.status in expect, f"expected {expect}: {response.describe()}")
        return response

    def get_job(self, job_id, query="", expect=(200,)):
        response = self.client.request("GET", f"/v1/jobs/{job_id}{query}")
        self.spec.conform(response, "/v1/jobs/{id}")
        require(response.status in expect, f"expected {expect}: {response.describe()}")
        return response

    def cancel(self, job_id, expect=(200, 409)):
        response = self.client.request("DELETE", f"/v1/jobs/{job_id}")
        self.spec.conform(response, "/v1/jobs/{id}")
        require(response.status in expect, f"expected {expect}: {response.describe()}")
        return response

    def wait_state(self, job_id, states, seconds=10):
        deadline = time.monotonic() + seconds
        while True:
            job = self.get_job(job_id).json
            if job["state"] in states:
                return job
            require(time.monotonic() < deadline, f"job {job_id} stayed {job['state']}, wanted {states}")
            time.sleep(0.02)

    def submitted_total(self):
        response = self.client.request("GET", "/v1/status")
        self.spec.conform(response, "/v1/status")
        require(response.status == 200, response.describe())
        return response.json["jobs"]["submitted_total"]

    def expect_error(self, response, template, status, code, method=None, contains=()):
        self.spec.conform(response, template, method)
        require(response.status == status, f"expected {status}: {response.describe()}")
        error = response.json["error"]
        require(error["code"] == code, f"expected code {code}: {response.describe()}")
        for text in contains:
            require(text in error["message"], f"message lacks {text!r}: {response.describe()}")

    # The checks

    def open_routes(self):
        for path in ("/healthz", "/readyz", "/metrics"):
            for method in ("GET", "HEAD"):
                response = self.client.request(method, path, auth=False)
                self.spec.conform(response, path)
                require(response.status == 200, response.describe())
        metrics = self.client.request("GET", "/metrics", auth=False)
        require(metrics.headers["content-type"].startswith("text/plain; version=0.0.4"), metrics.headers["content-type"])
        text = metrics.body.decode("utf-8")
        for line in text.splitlines():
            if line.startswith("# HELP ") or line.startswith("# TYPE "):
                continue
            require(re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? -?[0-9][0-9.e+-]*', line),
                    f"not a Prometheus sample line: {line!r}")
        for family in ("forkpool_jobs_submitted_total", "forkpool_queue_depth", "forkpool_workers"):
            require(f"# TYPE {family} " in text, f"metric {family} missing")

    def authentication(self):
        require(self.client.token, "the server must run with --token for this check")
        token = self.client.token
        for template, item in self.spec.document["paths"].items():
            path = template.replace("{id}", SOME_ID)
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                secured = operation.get("security", self.spec.document.get("security")) != []
                for authorization in (None, f"Bearer {token}x", f"Bearer {token[:-1]}", f"Basic {token}", "Bearer", "Bearer "):
                    response = self.client.request(method.upper(), path, auth=False,
                                                   headers={"Authorization": authorization})
                    if secured:
                        require(response.status == 401, f"Authorization {authorization!r}: {response.describe()}")
                        self.spec.conform(response, template, method.upper())
                        require(response.headers.get("www-authenticate") == "Bearer", "WWW-Authenticate is not Bearer")
                    else:
                        require(response.status != 401, f"open route wants a token: {response.describe()}")
        # The scheme word is case-insensitive.
        response = self.client.request("GET", "/v1/tasks", auth=False, headers={"Authorization": f"bearer {token}"})
        require(response.status == 200, response.describe())
        # The check comes before routing: an unknown path without the token is 401.
        response = self.client.request("GET", "/no/such/route", auth=False)
        self.spec.conform_component(response, "Unauthorized")
        require(response.status == 401, response.describe())

    def unknown_routes(self):
        for path in ("/nope", "/v1", "/v1/", "/v1/jobs/", "/healthz/", "//healthz", "/v1/jobs/x/y",
                     "/V1/JOBS", "/v1/tasks/echo", "/v2/jobs", f"/v1/jobs/{SOME_ID}/x", "/v1/jobs/" + "A" * 23):
            response = self.client.request("GET", path)
            self.spec.conform_component(response, "NotFound")
            require(response.status == 404, f"expected 404: {response.describe()}")
            require(response.json["error"]["code"] == "not_found", response.describe())
        # One non-empty segment after /v1/jobs/ is the job route; an empty or deeper one is no route, whatever the method.
        for path in ("/v1/jobs/", "/v1/jobs/x/y"):
            response = self.client.request("PUT", path)
            self.spec.conform_component(response, "NotFound")
            require(response.status == 404, f"expected 404: {response.describe()}")
        response = self.client.request("PUT", "/v1/jobs/x")
        self.spec.conform(response, "/v1/jobs/{id}")
        require(response.status == 405, f"expected 405: {response.describe()}")

    def wrong_methods(self):
        for template, item in self.spec.document["paths"].items():
            allowed = self.spec.allowed_methods(template)
            path = template.replace("{id}", SOME_ID)
            documented = {}
            for method, operation in item.items():
                if isinstance(operation, dict) and "method-not-allowed" in operation.get("tags", []):
                    documented[method.upper()] = operation
                    response = self.client.request(method.upper(), path)
                    self.spec.conform(response, template)
                    require(response.status == 405, f"expected 405: {response.describe()}")
                    listed = {part.strip() for part in response.headers["allow"].split(",")}
                    require(listed == allowed, f"Allow {response.headers['allow']!r} but the spec documents {sorted(allowed)}")
            for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
                require(method in allowed or method in documented,
                        f"{method} {template} is documented neither as an operation nor as a 405")
            for method in ("BREW", "PROPFIND"):
                response = self.client.request(method, path)
                self.spec.check_response(response, next(iter(documented.values()))["responses"]["405"], f"{method} {path}")
                require(response.status == 405, f"expected 405: {response.describe()}")

    def head_matches_get(self):
        job = self.post_job({"task": "echo", "input": {"head": True}}, "?wait=10", expect=(200,)).json
        for template, path in (("/healthz", "/healthz"), ("/readyz", "/readyz"), ("/v1/tasks", "/v1/tasks"),
                               ("/v1/jobs/{id}", f"/v1/jobs/{job['id']}"), ("/v1/jobs/{id}", f"/v1/jobs/{SOME_ID}"),
                               ("/v1/jobs", "/v1/jobs?limit=0")):
            got = self.client.request("GET", path)
            head = self.client.request("HEAD", path)
            self.spec.conform(head, template)
            require(head.status == got.status, f"HEAD {path} {head.status} but GET {got.status}")
            require(head.headers.get("content-type") == got.headers.get("content-type"), f"HEAD {path}: Content-Type differs")
            require(head.headers.get("content-length") == got.headers.get("content-length"), f"HEAD {path}: Content-Length differs")

    def submit_and_read(self):
        raw_input = '{"b": [1, 2.50, -9223372036854775808, 1E-7, "\\u00e9\\ud83d\\ude00\\/"], "a": null}'
        body = '{"task": "echo", "input": ' + raw_input + '}'
        accepted = self.post_job(body, headers={"Content-Type": "application/json"})
        job = accepted.json
        require(accepted.headers["location"] == f"/v1/jobs/{job['id']}", f"Location {accepted.headers['location']}")
        require(job["state"] in ("queued", "running", "succeeded"), job)
        require(job["timeout_ms"] == DEFAULT_TIMEOUT_MS and job["priority"] == 0 and job["max_attempts"] == 1, job)
        finished = self.get_job(job["id"], "?wait=10")
        done = finished.json
        require(done["state"] == "succeeded", done)
        require(b'"result":' + raw_input.encode() + b"," in finished.body, f"echo result is not the input byte for byte: {finished.body[:300]!r}")
        require(done["attempts"] == 1, done)
        require(done["created_at"] <= done["started_at"] <= done["finished_at"], done)
        require(done["id"] == job["id"] and done["created_at"] == job["created_at"], done)

    def long_polls(self):
        done = self.post_job({"task": "echo", "input": [1, 2, 3]}, "?wait=10", expect=(200,))
        require(done.json["state"] == "succeeded" and done.json["result"] == [1, 2, 3], done.describe())
        require(done.headers["location"] == f"/v1/jobs/{done.json['id']}", "Location missing on 200")
        started = time.monotonic()
        pending = self.post_job({"task": "sleep", "input": {"ms": 3000}}, "?wait=0.3", expect=(202,))
        elapsed = time.monotonic() - started
        require(0.25 <= elapsed < 2.5, f"wait=0.3 answered after {elapsed:.2f} s")
        job = pending.json
        require(job["state"] in ("queued", "running"), job)
        started = time.monotonic()
        polled = self.get_job(job["id"], "?wait=0.2").json
        require(polled["state"] in ("queued", "running"), polled)
        require(time.monotonic() - started >= 0.15, "GET wait=0.2 answered early")
        running = self.wait_state(job["id"], ("running",))
        require("worker_pid" in running and "started_at" in running, running)
        canceled = self.cancel(job["id"], expect=(200,)).json
        require(canceled["state"] == "canceled" and canceled["error"]["code"] == "canceled", canceled)
        require("started_at" in canceled and "worker_pid" not in canceled, canceled)
        again = self.cancel(job["id"], expect=(409,))
        self.expect_error(again, "/v1/jobs/{id}", 409, "already_finished")
        require(self.get_job(job["id"]).json["state"] == "canceled", "canceled job changed state")
        # wait=0 answers at once.
        instant = self.post_job({"task": "sleep", "input": {"ms": 2000}}, "?wait=0", expect=(202,)).json
        self.cancel(instant["id"], expect=(200,))
        finished = self.post_job({"task": "echo"}, "?wait=10", expect=(200,)).json
        self.cancel(finished["id"], expect=(409,))
        self.expect_error(self.cancel(SOME_ID, expect=(404,)), "/v1/jobs/{id}", 404, "not_found")
        self.expect_error(self.get_job(SOME_ID, expect=(404,)), "/v1/jobs/{id}", 404, "not_found")

    def queue_order_and_queued_cancel(self):
        blockers = []
        try:
            workers = self.client.request("GET", "/v1/status").json["pool"]["workers"]["max"]
            for _ in range(workers):
                blockers.append(self.post_job({"task": "sleep", "input": {"ms": 20000}}).json["id"])
            for job_id in blockers:
                self.wait_state(job_id, ("running",))
            low = self.post_job({"task": "sleep", "input": {"ms": 10}, "priority": -5}).json["id"]
            high = self.post_job({"task": "sleep", "input": {"ms": 10}, "priority": 5}).json["id"]
            victim = self.post_job({"task": "sleep", "input": {"ms": 10}}).json["id"]
            queued = self.get_job(victim).json
            require(queued["state"] == "queued" and queued["attempts"] == 0, queued)
            canceled = self.cancel(victim, expect=(200,)).json
            require(canceled["state"] == "canceled" and "started_at" not in canceled, canceled)
            require(canceled["error"]["code"] == "canceled" and canceled["attempts"] == 0, canceled)
            # One worker frees: the higher priority job runs first.
            self.cancel(blockers.pop(0), expect=(200,))
            high_job = self.get_job(high, "?wait=10").json
            require(high_job["state"] == "succeeded", high_job)
            low_job = self.get_job(low).json
            require(low_job["state"] == "queued" or low_job["started_at"] >= high_job["started_at"],
                    f"priority -5 started before priority 5: {low_job} {high_job}")
            self.get_job(low, "?wait=10")
        finally:
            for job_id in blockers:
                self.client.request("DELETE", f"/v1/jobs/{job_id}")

    def task_results(self):
        failed = self.post_job({"task": "fail", "input": {"message": "boom \u00e9"}, "max_attempts": 3}, "?wait=10", expect=(200,)).json
        require(failed["state"] == "failed" and failed["error"] == {"code": "task_error", "message": "boom \u00e9"}, failed)
        require(failed["attempts"] == 1, f"a task's own failure was retried: {failed}")
        digest = hashlib.sha256(b"abc").digest()
        for rounds in (None, 1, 3):
            value = {"data": "abc"} if rounds is None else {"data": "abc", "rounds": rounds}
            job = self.post_job({"task": "sha256", "input": value}, "?wait=10", expect=(200,)).json
            expected = digest
            for _ in range((rounds or 1) - 1):
                expected = hashlib.sha256(expected).digest()
            require(job["result"] == {"hex": expected.hex()}, f"sha256 {value}: {job}")
        slept = self.post_job({"task": "sleep", "input": {"ms": 350}}, "?wait=10", expect=(200,)).json
        require(slept["result"] == {"slept_ms": 350}, slept)
        require("progress" in slept, f"progress not kept after success: {slept}")
        timed_out = self.post_job({"task": "sleep", "input": {"ms": 5000}, "timeout_ms": 200, "max_attempts": 2},
                                  "?wait=20", expect=(200,)).json
        require(timed_out["state"] == "failed" and timed_out["error"]["code"] == "timeout", timed_out)
        require(timed_out["attempts"] == 2 and timed_out["timeout_ms"] == 200, timed_out)
        # started_at is the start of the latest attempt: at least one timeout after the first.
        require(parse_time(timed_out["started_at"]) - parse_time(timed_out["created_at"]) >= 0.15,
                f"started_at is not the second attempt's start: {timed_out}")

    def field_values(self):
        capped = self.post_job({"task": "echo", "timeout_ms": 999999999999}).json
        require(capped["timeout_ms"] == MAX_TIMEOUT_MS, f"timeout_ms not capped: {capped}")
        integral = self.post_job('{"task": "echo", "timeout_ms": 1e3, "priority": 2.0, "max_attempts": 3.0}',
                                 headers={"Content-Type": "application/json"}).json
        require(integral["timeout_ms"] == 1000 and integral["priority"] == 2 and integral["max_attempts"] == 3, integral)
        for content_type in ("application/json; charset=utf-8", "APPLICATION/JSON", "application/json ;charset=UTF-8"):
            self.post_job('{"task": "echo"}', headers={"Content-Type": content_type})
        limits = self.post_job({"task": "echo", "priority": -10, "max_attempts": 10, "timeout_ms": 1,
                                "idempotency_key": (str(time.time_ns()) + "k" * 128)[:128]}).json
        require(limits["priority"] == -10 and limits["max_attempts"] == 10 and limits["timeout_ms"] == 1, limits)

    def idempotency(self):
        key = f"key-{time.time_ns()}"
        first = self.post_job({"task": "echo", "input": {"x": 1, "y": [1, 2]}, "idempotency_key": key}, expect=(202,)).json
        repeat = self.post_job('{"task": "echo", "input": {"y": [1.0, 2], "x": 1}, "idempotency_key": "' + key + '", "priority": 3}',
                               headers={"Content-Type": "application/json"}, expect=(200,))
        require(repeat.json["id"] == first["id"] and repeat.json["priority"] == 0, repeat.describe())
        require(repeat.headers["location"] == f"/v1/jobs/{first['id']}", "Location missing on an idempotent 200")
        by_header = self.post_job({"task": "echo", "input": {"x": 1, "y": [1, 2]}}, headers={"Idempotency-Key": key}, expect=(200,))
        require(by_header.json["id"] == first["id"], by_header.describe())
        conflict = self.client.request("POST", "/v1/jobs", body={"task": "echo", "input": {"x": 2}}, headers={"Idempotency-Key": key})
        self.expect_error(conflict, "/v1/jobs", 409, "idempotency_conflict")
        require("location" not in conflict.headers, "409 carries a Location")
        # The same key and input with another task (an input both tasks accept).
        self.post_job({"task": "sleep", "input": {"ms": 1}, "idempotency_key": key + "-task"}, expect=(202,))
        other_task = self.client.request("POST", "/v1/jobs", body={"task": "echo", "input": {"ms": 1}, "idempotency_key": key + "-task"})
        self.expect_error(other_task, "/v1/jobs", 409, "idempotency_conflict")
        # The header wins over the body field.
        fresh = self.post_job({"task": "echo", "input": {"x": 1, "y": [1, 2]}, "idempotency_key": key},
                              headers={"Idempotency-Key": key + "-header"}, expect=(202,))
        require(fresh.json["id"] != first["id"], "the body key won over the header")
        self.post_job({"task": "echo", "input": {"x": 1, "y": [1, 2]}}, headers={"Idempotency-Key": key + "-header"}, expect=(200,))

    def bad_requests(self):
        before = self.submitted_total()
        json_type = {"Content-Type": "application/json"}
        cases = [
            ('{"task": "echo", "timeout": 5}', 400, "bad_request", ['"timeout"', "timeout_ms"]),
            ('{"task": "echo", "inputs": 5}', 400, "bad_request", ['"inputs"']),
            ('{"input": 1}', 400, "bad_request", ["task"]),
            ('{"task": 5}', 400, "bad_request", ["task"]),
            ('{"task": null}', 400, "bad_request", []),
            ('{"task": "echo", "priority": 11}', 400, "bad_request", ["priority"]),
            ('{"task": "echo", "priority": -11}', 400, "bad_request", ["priority"]),
            ('{"task": "echo", "priority": 2.5}', 400, "bad_request", ["priority"]),
            ('{"task": "echo", "priority": "1"}', 400, "bad_request", ["priority"]),
            ('{"task": "echo", "max_attempts": 0}', 400, "bad_request", ["max_attempts"]),
            ('{"task": "echo", "max_attempts": 11}', 400, "bad_request", ["max_attempts"]),
            ('{"task": "echo", "timeout_ms": 0}', 400, "bad_request", ["timeout_ms"]),
            ('{"task": "echo", "timeout_ms": -1}', 400, "bad_request", ["timeout_ms"]),
            ('{"task": "echo", "timeout_ms": null}', 400, "bad_request", ["timeout_ms"]),
            ('{"task": "echo", "timeout_ms": "5"}', 400, "bad_request", ["timeout_ms"]),
            ('{"task": "echo", "timeout_ms": 9223372036854775808}', 400, "bad_request", ["timeout_ms"]),
            ('{"task": "echo", "idempotency_key": ""}', 400, "bad_request", ["idempotency_key"]),
            ('{"task": "echo", "idempotency_key": "' + "k" * 129 + '"}', 400, "bad_request", ["idempotency_key"]),
            ('{"task": "echo", "idempotency_key": 5}', 400, "bad_request", ["idempotency_key"]),
            ('{"task": "nope", "priority": 99}', 400, "bad_request", ["priority"]),
            ("[]", 400, "bad_request", []),
            ('"echo"', 400, "bad_request", []),
            ("null", 400, "bad_request", []),
            ("", 400, "bad_request", []),
            ("{", 400, "bad_request", []),
            ('{"task": "echo"} x', 400, "bad_request", []),
            ('{"task": "echo", "task": "echo"}', 400, "bad_request", []),
            ('{"task": "echo", "input": "\\ud800"}', 400, "bad_request", []),
            ('{"task": "echo", "input": 1e400}', 400, "bad_request", []),
            ('{"task": "nope"}', 422, "unknown_task", ["nope"]),
            ('{"task": "sleep"}', 422, "invalid_input", []),
            ('{"task": "sleep", "input": {"ms": -1}}', 422, "invalid_input", []),
            ('{"task": "sleep", "input": {"ms": 1, "extra": 1}}', 422, "invalid_input", []),
            ('{"task": "fail", "input": {"message": 1}}', 422, "invalid_input", []),
            ('{"task": "sha256", "input": {"data": "x", "rounds": 0}}', 422, "invalid_input", []),
        ]
        for body, status, code, contains in cases:
            response = self.client.request("POST", "/v1/jobs", body=body, headers=json_type)
            self.expect_error(response, "/v1/jobs", status, code, contains=contains)
        for content_type in (None, "text/plain", "application/jsonx", "application/problem+json", "application/x-www-form-urlencoded"):
            response = self.client.request("POST", "/v1/jobs", body='{"task": "echo"}', headers={"Content-Type": content_type})
            self.expect_error(response, "/v1/jobs", 415, "unsupported_media_type")
        for key in ("k" * 129, "\u00e9" * 129):
            response = self.client.request("POST", "/v1/jobs", body={"task": "echo"},
                                           headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")})
            self.expect_error(response, "/v1/jobs", 400, "bad_request", contains=["Idempotency-Key"])
        for wait in ("-1", "61", "60.5", "1e1", ".5", "5.", "", "abc", "1.2.3", "%201", "0x1", "+1", "inf", "nan"):
            response = self.client.request("POST", f"/v1/jobs?wait={wait}", body={"task": "echo"})
            self.expect_error(response, "/v1/jobs", 400, "bad_request", contains=["wait"])
        require(self.submitted_total() == before, "a refused request created a job")

    def query_parameters(self):
        job = self.post_job({"task": "echo", "input": "q"}, "?wait=10", expect=(200,)).json
        for wait in ("-1", "61", "1e1", ".5", "5.", "", "abc", "1.2.3", "+1", "60.01"):
            response = self.client.request("GET", f"/v1/jobs/{job['id']}?wait={wait}")
            self.expect_error(response, "/v1/jobs/{id}", 400, "bad_request", contains=["wait"])
        for wait in ("0", "0.05", "060.0", "60", "1"):
            self.get_job(job["id"], f"?wait={wait}")
        for query, word in (("limit=0", "limit"), ("limit=1001", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
                            ("limit=-1", "limit"), ("limit=1.5", "limit"), ("limit=+5", "limit"),
                            ("state=bogus", "state"), ("state=QUEUED", "state"), ("state=", "state"), ("state=free", "state"),
                            ("cursor=xyz", "cursor"), ("cursor=", "cursor"), ("cursor=AAAAAAAAAAAAAAAAAAAAAB", "cursor"),
                            ("cursor=" + "A" * 23, "cursor")):
            response = self.client.request("GET", f"/v1/jobs?{query}")
            self.expect_error(response, "/v1/jobs", 400, "bad_request", contains=[word])
        for query in ("limit=1000", "limit=007", "task=nope", "unknown=1", "limit=5&limit=abc", "cursor=" + SOME_ID):
            response = self.client.request("GET", f"/v1/jobs?{query}")
            self.spec.conform(response, "/v1/jobs")
            require(response.status == 200, response.describe())
        require(self.client.request("GET", "/v1/jobs?task=nope").json == {"jobs": [], "next_cursor": None}, "task filter")
        for state in ("queued", "running", "succeeded", "failed", "canceled"):
            response = self.client.request("GET", f"/v1/jobs?state={state}&limit=1000")
            self.spec.conform(response, "/v1/jobs")
            require(all(item["state"] == state for item in response.json["jobs"]), f"state={state} lists other states")

    def pagination(self):
        created = [self.post_job({"task": "echo", "input": index}, "?wait=10", expect=(200,)).json["id"] for index in range(5)]
        seen = []
        cursor = None
        for _ in range(200):
            query = "?task=echo&state=succeeded&limit=2" + (f"&cursor={cursor}" if cursor else "")
            response = self.client.request("GET", "/v1/jobs" + query)
            self.spec.conform(response, "/v1/jobs")
            require(response.status == 200, response.describe())
            page = response.json
            require(len(page["jobs"]) <= 2, "limit not honoured")
            for item in page["jobs"]:
                require(item["task"] == "echo" and item["state"] == "succeeded", item)
            seen.extend(page["jobs"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids = [item["id"] for item in seen]
        require(len(ids) == len(set(ids)), "a job appears on two pages")
        stamps = [item["created_at"] for item in seen]
        require(stamps == sorted(stamps, reverse=True), "not newest first by created_at")
        positions = [ids.index(job_id) for job_id in created]
        require(positions == sorted(positions, reverse=True), f"the newest jobs are not listed newest first: {positions}")

    def body_limits(self):
        client = self.client
        auth = f"Authorization: Bearer {client.token}\r\n".encode() if client.token else b""
        head = (b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(MAX_BODY_BYTES + 1).encode() + b"\r\n\r\n")
        response = client.raw(head)
        self.spec.conform(response, "/v1/jobs", "POST")
        require(response.status == 413 and response.json["error"]["code"] == "payload_too_large", response.describe())
        chunked = (b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        response = client.raw(chunked, [chunk] * 20)
        self.spec.conform(response, "/v1/jobs", "POST")
        require(response.status == 413 and response.json["error"]["code"] == "payload_too_large", response.describe())
        # A body of exactly the limit is accepted, and an echo of it succeeds unchanged.
        prefix, suffix = '{"task": "echo", "input": "', '"}'
        text = "x" * (MAX_BODY_BYTES - len(prefix) - len(suffix))
        body = prefix + text + suffix
        require(len(body.encode()) == MAX_BODY_BYTES, "test body size")
        done = self.post_job(body, "?wait=20", headers={"Content-Type": "application/json"}, expect=(200,))
        require(done.json["state"] == "succeeded" and done.json["result"] == text, "echo of a body at the limit failed")

    def frontend_header(self):
        response = self.client.request("GET", "/v1/status")
        pids = {str(frontend["pid"]) for frontend in response.json["frontends"]}
        require(self.client.frontends_seen, "no X-Forkpool-Frontend seen")
        require(self.client.frontends_seen <= pids, f"X-Forkpool-Frontend values {sorted(self.client.frontends_seen)} are not front-end pids {sorted(pids)}")

    # Modes

    def mode_api(self):
        for name in ("open_routes", "authentication", "unknown_routes", "wrong_methods", "head_matches_get",
                     "submit_and_read", "long_polls", "queue_order_and_queued_cancel", "task_results", "field_values",
                     "idempotency", "bad_requests", "query_parameters", "pagination", "body_limits", "frontend_header"):
            self.run(name, getattr(self, name))

    def mode_queue_full(self):
        def check():
            first = self.post_job({"task": "sleep", "input": {"ms": 20000}}).json["id"]
            self.wait_state(first, ("running",))
            self.post_job({"task": "sleep", "input": {"ms": 20000}})
            response = self.client.request("POST", "/v1/jobs", body={"task": "echo"})
            self.expect_error(response, "/v1/jobs", 429, "queue_full")
            require(response.headers.get("retry-after", "").isdigit(), "Retry-After missing")
        self.run("queue_full_429", check)

    def mode_drain_prep(self):
        def check():
            job = self.post_job({"task": "sleep", "input": {"ms": 1500}}).json["id"]
            self.wait_state(job, ("running",))
        self.run("drain_prepare", check)

    def mode_drain_probe(self):
        def check():
            deadline = time.monotonic() + 3
            while True:
                response = self.client.request("GET", "/readyz", auth=False)
                if response.status == 503:
                    break
                require(time.monotonic() < deadline, f"/readyz still {response.status} after SIGTERM")
                time.sleep(0.02)
            self.spec.conform(response, "/readyz")
            require(response.json["error"]["code"] == "not_ready", response.describe())
            submission = self.client.request("POST", "/v1/jobs", body={"task": "echo"})
            self.expect_error(submission, "/v1/jobs", 503, "shutting_down")
            health = self.client.request("GET", "/healthz", auth=False)
            self.spec.conform(health, "/healthz")
            require(health.status == 200, health.describe())
        self.run("drain_503", check)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("mode", choices=["api", "queue-full", "drain-prep", "drain-probe"])
    arguments = parser.parse_args()
    checks = Checks(Spec(arguments.spec), Client(arguments.base, arguments.token))
    getattr(checks, "mode_" + arguments.mode.replace("-", "_"))()
    print(f"extra checks ({arguments.mode}): {checks.passed} passed, {len(checks.failed)} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
