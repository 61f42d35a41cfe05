"""Helpers for the forkpool integration tests: starting the real binary, watching
its processes and System V objects, and talking to it over real HTTP.

Nothing here sleeps for a fixed time: every wait is a condition polled until a
deadline (`wait_until`)."""

from __future__ import annotations

import json
import os
import random
import re
import selectors
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
FORKPOOL_BIN = os.environ.get("FORKPOOL_BIN") or str(REPO_ROOT / ".build" / "debug" / "forkpool")

# Small tables unless a test needs more.
SMALL = ["--job-capacity", "5000", "--store-bytes", "67108864"]

JOB_STATES = {"queued", "running", "succeeded", "failed", "canceled"}
FINISHED = {"succeeded", "failed", "canceled"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{11,}$")  # URL-safe, at least 64 bits of base64url

DEFAULT_TIMEOUT = 15.0


# ---------------------------------------------------------------- waiting

def wait_until(predicate, timeout: float, interval: float = 0.02, what: str = "condition"):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last value: {last!r})")
        time.sleep(interval)


# ---------------------------------------------------------------- /proc and System V

def proc_starttime(pid: int) -> int | None:
    """Start time of `pid` (field 22 of /proc/pid/stat), or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[19])


def proc_state(pid: int) -> str | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()[0]


def proc_ppid(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(text[text.rindex(")") + 2:].split()[1])


def process_alive(pid: int, starttime: int | None = None) -> bool:
    """True if `pid` exists, is not a zombie, and (if given) started at `starttime`."""
    state = proc_state(pid)
    if state is None or state in ("Z", "X"):
        return False
    if starttime is not None and proc_starttime(pid) != starttime:
        return False
    return True


def process_exists(pid: int, starttime: int | None = None) -> bool:
    """True if `pid` is still in the process table (zombies included) with that start time."""
    st = proc_starttime(pid)
    return st is not None and (starttime is None or st == starttime)


def children_of(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return out
    for tid in tasks:
        try:
            out.extend(int(x) for x in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def descendants_of(pid: int) -> list[int]:
    seen: list[int] = []
    stack = [pid]
    while stack:
        for child in children_of(stack.pop()):
            if child not in seen:
                seen.append(child)
                stack.append(child)
    return seen


def sysv_keys() -> dict[str, set[int]]:
    """Keys of every System V shared memory segment and semaphore set (signed, as /proc shows them)."""
    keys: dict[str, set[int]] = {}
    for kind in ("shm", "sem"):
        found = set()
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        for line in lines:
            parts = line.split()
            if parts:
                found.add(int(parts[0]))
        keys[kind] = found
    return keys


def signed32(key: int) -> int:
    key &= 0xFFFFFFFF
    return key - (1 << 32) if key >= (1 << 31) else key


def sysv_objects_with_key(key: int) -> list[str]:
    k = signed32(key)
    return [kind for kind, keys in sysv_keys().items() if k in keys]


_used_keys: set[int] = set()
_key_lock = threading.Lock()


def unique_ipc_key() -> int:
    """A System V key no object uses now and no other server of this run was given."""
    with _key_lock:
        taken = set().union(*sysv_keys().values())
        rng = random.SystemRandom()
        while True:
            # 0x2xxxxxxx..0x3xxxxxxx: apart from the default keys (0x4650xxxx) and the unit tests' keys.
            key = 0x20000000 | (os.getpid() & 0xFFF) << 16 | rng.randrange(1, 0x10000)
            if key not in _used_keys and signed32(key) not in taken:
                _used_keys.add(key)
                return key


# ---------------------------------------------------------------- HTTP

def check_frontend_header(response: requests.Response, *args, **kwargs):
    """Every answer carries X-Forkpool-Frontend: <pid>."""
    value = response.headers.get("X-Forkpool-Frontend")
    assert value is not None, f"{response.request.method} {response.request.url} -> {response.status_code} has no X-Forkpool-Frontend header"
    assert re.fullmatch(r"[1-9][0-9]*", value.strip()), f"X-Forkpool-Frontend is not a pid: {value!r}"


def new_session() -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(check_frontend_header)
    return session


class Client:
    """A base URL and a session whose every answer is checked for X-Forkpool-Frontend.
    With `fresh=True` every request goes over a new TCP connection."""

    def __init__(self, base_url: str, token: str | None = None, fresh: bool = False):
        self.base_url = base_url
        self.token = token
        self.fresh = fresh
        self.session = new_session()

    def request(self, method: str, path: str, *, timeout: float = DEFAULT_TIMEOUT, headers=None, auth=True, **kwargs):
        all_headers = {}
        if self.token and auth:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if self.fresh:
            all_headers["Connection"] = "close"
        all_headers.update(headers or {})
        if self.fresh:
            with new_session() as session:
                return session.request(method, self.base_url + path, headers=all_headers, timeout=timeout, **kwargs)
        return self.session.request(method, self.base_url + path, headers=all_headers, timeout=timeout, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- jobs

    def submit(self, body, *, wait=None, headers=None, timeout=None, raw: bytes | str | None = None):
        """POST /v1/jobs with a JSON body (or `raw` bytes as the body)."""
        path = "/v1/jobs" + (f"?wait={wait}" if wait is not None else "")
        data = raw if raw is not None else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        if timeout is None:
            timeout = DEFAULT_TIMEOUT + (float(wait) if wait is not None else 0)
        return self.post(path, data=data, headers=h, timeout=timeout)

    def submit_ok(self, body, **kw) -> dict:
        r = self.submit(body, **kw)
        assert r.status_code in (200, 202), f"submit {body!r}: {r.status_code} {r.text}"
        job = r.json()
        check_job(job)
        return job

    def job(self, job_id: str, wait=None, timeout=None) -> requests.Response:
        path = f"/v1/jobs/{job_id}" + (f"?wait={wait}" if wait is not None else "")
        if timeout is None:
            timeout = DEFAULT_TIMEOUT + (float(wait) if wait is not None else 0)
        return self.get(path, timeout=timeout)

    def job_ok(self, job_id: str, wait=None) -> dict:
        r = self.job(job_id, wait=wait)
        assert r.status_code == 200, f"GET job {job_id}: {r.status_code} {r.text}"
        job = r.json()
        check_job(job)
        assert job["id"] == job_id
        return job

    def finished(self, job_id: str, timeout: float = 20.0) -> dict:
        """Long-polls until the job is finished (failing after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"job {job_id} did not finish within {timeout} s"
            job = self.job_ok(job_id, wait=min(60, max(1, int(left))))
            if job["state"] in FINISHED:
                return job

    def wait_state(self, job_id: str, states, timeout: float = 10.0) -> dict:
        states = {states} if isinstance(states, str) else set(states)
        return wait_until(lambda: (lambda j: j if j["state"] in states else None)(self.job_ok(job_id)),
                          timeout, interval=0.02, what=f"job {job_id} to be {sorted(states)}")

    def wait_running(self, job_id: str, timeout: float = 10.0) -> dict:
        """Waits until the job runs and shows its worker_pid."""
        def look():
            job = self.job_ok(job_id)
            assert job["state"] in ("queued", "running"), f"job ended before it was seen running: {job}"
            return job if job["state"] == "running" and "worker_pid" in job else None
        return wait_until(look, timeout, interval=0.02, what=f"job {job_id} to run with a worker_pid")

    def cancel(self, job_id: str) -> requests.Response:
        return self.delete(f"/v1/jobs/{job_id}")


def check_job(job: dict, strict_worker_pid: bool = False):
    """The job object of the contract: fields, types and the presence rules.
    `worker_pid` of a running job is checked here only when `strict_worker_pid`
    (test_running_job_always_shows_its_worker_pid checks it on its own)."""
    assert isinstance(job, dict), job
    assert type(job.get("id")) is str and JOB_ID.match(job["id"]), f"bad id in {job}"
    assert type(job.get("task")) is str, job
    assert job.get("state") in JOB_STATES, job
    for field in ("priority", "attempts", "max_attempts"):
        assert type(job.get(field)) is int, f"{field} is not an integer in {job}"
    assert -10 <= job["priority"] <= 10, job
    assert 1 <= job["max_attempts"] <= 10, job
    assert 0 <= job["attempts"] <= job["max_attempts"], job
    assert type(job.get("created_at")) is str and TIMESTAMP.match(job["created_at"]), f"bad created_at in {job}"
    for field in ("started_at", "finished_at"):
        if field in job:
            assert type(job[field]) is str and TIMESTAMP.match(job[field]), f"bad {field} in {job}"
    state = job["state"]
    if state == "succeeded":
        assert "result" in job, f"succeeded job without result: {job}"
    else:
        assert "result" not in job, f"{state} job with a result: {job}"
    if state in ("failed", "canceled"):
        err = job.get("error")
        assert isinstance(err, dict) and type(err.get("code")) is str and type(err.get("message")) is str, job
        if state == "canceled":
            assert err["code"] == "canceled", job
    if state == "running" and (strict_worker_pid or "worker_pid" in job):
        assert type(job.get("worker_pid")) is int and job["worker_pid"] > 0, f"running job without worker_pid: {job}"
    if state in FINISHED:
        assert "finished_at" in job, f"finished job without finished_at: {job}"
        assert "worker_pid" not in job, f"finished job with worker_pid: {job}"
    else:
        assert "finished_at" not in job, job
    if "progress" in job:
        p = job["progress"]
        assert isinstance(p, dict) and isinstance(p.get("percent"), (int, float)) and not isinstance(p.get("percent"), bool), job


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict:
    """An error answer: the status, and the body {"error": {"code": str, "message": str}}."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, got {response.status_code} {response.text[:500]}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {response.text[:500]!r}")
    assert isinstance(body, dict) and set(body) == {"error"}, f"error body shape: {body}"
    err = body["error"]
    assert isinstance(err, dict), body
    assert type(err.get("code")) is str and err["code"], body
    assert type(err.get("message")) is str and err["message"], body
    if code is not None:
        assert err["code"] == code, f"expected error code {code!r}: {body}"
    return err


# ---------------------------------------------------------------- the server

class Server:
    """One `forkpool serve` process tree."""

    def __init__(self, *flags: str, ipc_key: int | None | bool = True, small: bool = True,
                 env: dict | None = None, token: str | None = None, start_timeout: float = 30.0,
                 affinity: set[int] | None = None):
        self.key = unique_ipc_key() if ipc_key is True else (ipc_key or None)
        args = [FORKPOOL_BIN, "serve", "--host", "127.0.0.1", "--port", "0"]
        if self.key is not None:
            args += ["--ipc-key", str(self.key)]
        if small:
            args += SMALL
        if "--shutdown-grace-seconds" not in flags:
            args += ["--shutdown-grace-seconds", "2"]
        args += list(flags)
        if token:
            args += ["--token", token]
        self.args = args
        self.token = token
        self.stdout_rest = b""
        self.stopped = False
        self.signaled = False
        self.returncode = None
        self.seen: dict[int, int] = {}  # pid -> starttime of every descendant seen
        self._seen_lock = threading.Lock()
        self._watching = True
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("FORKPOOL_")}
        full_env.update(env or {})
        assert Path(FORKPOOL_BIN).exists(), f"no forkpool binary at {FORKPOOL_BIN} (set FORKPOOL_BIN)"
        import tempfile
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="forkpool-stderr-", suffix=".log", delete=False)
        preexec = (lambda: os.sched_setaffinity(0, affinity)) if affinity else None
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr_file, stdin=subprocess.DEVNULL,
                                     env=full_env, preexec_fn=preexec)
        self.pid = self.proc.pid
        self.starttime = proc_starttime(self.pid)
        try:
            line = self._read_listening_line(start_timeout)
        except BaseException:
            self.kill()
            raise
        m = re.search(r"listening on (http://)?(\S+):(\d+)", line)
        assert m, f"listening line without an address: {line!r}"
        self.port = int(m.group(3))
        assert 0 < self.port < 65536
        if self.key is None:
            self.key = 0x46500000 | self.port  # the key a server derives from its port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._drain_thread = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain_thread.start()
        self._record_children()
        self._watch_thread = threading.Thread(target=self._watch_children, daemon=True)
        self._watch_thread.start()

    # -- start

    def _read_listening_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        buffer = b""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        fd = self.proc.stdout.fileno()
        try:
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"forkpool printed no listening line within {timeout} s; stderr:\n{self.stderr_text()}")
                if not sel.select(timeout=left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    rc = self.proc.wait(timeout=5)
                    raise AssertionError(f"forkpool exited ({rc}) before listening; stdout {buffer!r}; stderr:\n{self.stderr_text()}")
                buffer += chunk
        finally:
            sel.close()
        line, _, rest = buffer.partition(b"\n")
        self.stdout_rest = rest
        text = line.decode()
        assert "listening on" in text, f"first stdout line is not the listening line: {text!r}"
        return text

    def _drain_stdout(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.stdout_rest += chunk

    def _record_children(self):
        for pid in descendants_of(self.pid):
            st = proc_starttime(pid)
            if st is not None:
                with self._seen_lock:
                    self.seen.setdefault(pid, st)

    def _watch_children(self):
        while self._watching:
            self._record_children()
            time.sleep(0.02)

    # -- use

    def client(self, token: str | None | bool = True, fresh: bool = False) -> Client:
        return Client(self.base_url, token=self.token if token is True else (token or None), fresh=fresh)

    def stderr_text(self) -> str:
        try:
            return Path(self.stderr_file.name).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def remove_stderr_log(self):
        """The log file outlives the process so a failure can quote it; the factory removes it last."""
        Path(self.stderr_file.name).unlink(missing_ok=True)

    def child_pids(self) -> list[int]:
        return children_of(self.pid)

    def seen_pids(self) -> dict[int, int]:
        with self._seen_lock:
            return dict(self.seen)

    # -- stop

    def terminate(self, sig=signal.SIGTERM):
        """Sends one SIGTERM (a second one means "stop at once" to forkpool)."""
        self._record_children()
        self.signaled = True
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        finally:
            self._watching = False
        return self.returncode

    def stop(self, timeout: float = 30.0) -> list[str]:
        """SIGTERM, then the checks of a clean exit; returns the problems found (empty when clean)."""
        if self.stopped:
            return []
        self.stopped = True
        problems = []
        if self.proc.poll() is None and not self.signaled:
            self.terminate()
        try:
            rc = self.wait_exit(timeout)
            if rc != 0:
                problems.append(f"exit code {rc}, expected 0")
        except subprocess.TimeoutExpired:
            problems.append(f"did not exit within {timeout} s of SIGTERM")
            self.kill()
        problems += self.leftovers()
        if problems:
            self.kill()  # reported above; never leave a process or a System V object behind
        self._drain_thread.join(timeout=5)
        if self.stdout_rest.strip():
            problems.append(f"wrote more than the listening line to stdout: {self.stdout_rest[:300]!r}")
        self.stderr_file.close()
        return problems

    def leftovers(self, timeout: float = 5.0) -> list[str]:
        problems = []
        seen = self.seen_pids()
        try:
            wait_until(lambda: not any(process_exists(p, st) for p, st in seen.items()), timeout, interval=0.02,
                       what="the server's processes to end")
        except AssertionError:
            left = [(p, proc_state(p)) for p, st in seen.items() if process_exists(p, st)]
            problems.append(f"processes of the server remain: {left}")
            for pid, _ in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        objects = sysv_objects_with_key(self.key)
        if objects:
            problems.append(f"System V objects with key {self.key:#x} remain: {objects}")
        return problems

    def kill(self):
        """Last resort: SIGKILL the whole tree and remove its System V objects."""
        self._watching = False
        self._record_children()
        for pid, st in list(self.seen_pids().items()) + [(self.pid, self.starttime)]:
            if process_exists(pid, st):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.key is not None:
            for kind in sysv_objects_with_key(self.key):
                subprocess.run(["ipcrm", "-M" if kind == "shm" else "-S", str(self.key)], check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Factory:
    """Starts servers and, at close, stops them and reports every unclean exit."""

    def __init__(self):
        self.servers: list[Server] = []

    def __call__(self, *flags: str, **kwargs) -> Server:
        server = Server(*flags, **kwargs)
        self.servers.append(server)
        return server

    def close(self) -> list[str]:
        problems = []
        for server in self.servers:
            try:
                found = server.stop(timeout=20.0)
            except BaseException as error:  # never leave a tree behind
                server.kill()
                found = [f"stop raised {error!r}"]
            if found:
                tail = server.stderr_text()[-3000:]
                problems.append(f"server {' '.join(server.args[1:])}:\n  " + "\n  ".join(found) + f"\n  stderr tail:\n{tail}")
            server.remove_stderr_log()
        self.servers.clear()
        return problems


def run_cli(*args: str, timeout: float = 15.0, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FORKPOOL_")}
    full_env.update(env or {})
    return subprocess.run([FORKPOOL_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=full_env)


def serve_must_refuse(*flags: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs `forkpool serve` with flags it must refuse; if it starts anyway, it is stopped and cleaned up."""
    key = unique_ipc_key()
    # The flags under test come last (so a flag without its value really is the last argument).
    args = [FORKPOOL_BIN, "serve", "--host", "127.0.0.1", *SMALL]
    if not any(f.startswith("--ipc-key") for f in flags):
        args += ["--ipc-key", str(key)]
    if not any(f.startswith("--port") for f in flags):
        args += ["--port", "0"]
    args += list(flags)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FORKPOOL_")}
    full_env.update(env or {})
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=full_env, text=True)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        # It started a server: stop it (one SIGTERM), then fail.
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        for kind in sysv_objects_with_key(key):
            subprocess.run(["ipcrm", "-M" if kind == "shm" else "-S", str(key)], check=False)
        pytest.fail(f"forkpool serve {' '.join(flags)} started a server instead of refusing: {out!r} {err[-500:]!r}")
    assert not sysv_objects_with_key(key), "a refused start left System V objects"
    return subprocess.CompletedProcess(args, proc.returncode, out, err)
