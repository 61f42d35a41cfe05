"""Command tasks from `--config FILE` against the real binary: stdin and argv
substitution, failures, output limits, timeouts that kill a command's children,
progress on descriptor 3, inherited descriptors, the environment allowlist, bad
configurations (exit 2), and the README's example run verbatim."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fp

README = fp.REPO_ROOT / "README.md"
PYTHON = sys.executable  # an absolute path: commands get no PATH unless allowed


def script(directory: Path, name: str, body: str) -> str:
    """An executable /bin/sh script; its absolute path."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip("\n"))
    path.chmod(0o755)
    return str(path)


def write_config(directory: Path, tasks: list[dict], name: str = "forkpool.json") -> str:
    """A configuration written as JSON, which is YAML too."""
    path = directory / name
    path.write_text(json.dumps({"tasks": tasks}, indent=2))
    return str(path)


def start(server_factory, config: str, *flags: str, **kwargs) -> fp.Server:
    return server_factory("--config", config, "--frontends", "1", "--workers", "2", *flags, **kwargs)


def run_job(client: fp.Client, task: str, input=None, **fields) -> dict:
    body = {"task": task, **fields}
    if input is not None:
        body["input"] = input
    job = client.submit_ok(body)
    return client.finished(job["id"], timeout=30)


def succeeded_output(job: dict):
    assert job["state"] == "succeeded", job
    assert set(job["result"]) == {"exit_code", "output"}, job
    assert job["result"]["exit_code"] == 0, job
    return job["result"]["output"]


def read_pids(path: Path) -> list[int]:
    text = fp.wait_until(lambda: path.exists() and path.read_text().strip().count(" ") == 1 and path.read_text(),
                         10, what=f"{path} to hold two pids")
    return [int(p) for p in text.split()]


def pool_pid(client: fp.Client) -> int:
    return client.get("/v1/status").json()["pool"]["pid"]


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# ---------------------------------------------------------------- running commands

def test_stdin_json_and_json_or_text_output(server_factory, tmp_path):
    config = write_config(tmp_path, [
        {"name": "sum", "stdin": "json", "output": "json",
         "input_schema": {"type": "object", "required": ["numbers"],
                          "properties": {"numbers": {"type": "array", "items": {"type": "number"}}}},
         "argv": [PYTHON, "-c", "import json, sys; d = json.load(sys.stdin); "
                                "print(json.dumps({'sum': sum(d['numbers']), 'seen': d}))"]},
        {"name": "cat", "stdin": "json", "argv": ["/bin/cat"]},
        {"name": "nothing-in", "argv": ["/bin/cat"], "output": "text"},
    ])
    client = start(server_factory, config).client()
    data = {"numbers": [1, 2, 3.5], "note": "é \"quoted\"\nline"}
    assert succeeded_output(run_job(client, "sum", data)) == {"sum": 6.5, "seen": data}
    # stdin: json is one line of compact JSON and a newline; output: text is stdout as a string.
    assert succeeded_output(run_job(client, "cat", {"a": [1, "x y"]})) == '{"a":[1,"x y"]}\n'
    # stdin: none is /dev/null: cat ends at once.
    assert succeeded_output(run_job(client, "nothing-in", {"ignored": True})) == ""
    # The schema is checked before anything runs.
    fp.assert_error(client.submit({"task": "sum", "input": {"numbers": ["x"]}}), 422, "invalid_input")


def test_a_placeholder_is_one_argument_and_runs_nothing(server_factory, tmp_path):
    victim = tmp_path / "pwned"
    config = write_config(tmp_path, [
        {"name": "args", "output": "json",
         "input_schema": {"type": "object", "required": ["text", "n"]},
         "argv": [PYTHON, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))",
                  "{text}", "x{text}", "{n}", "{text}"]},
        {"name": "sh-arg", "output": "text",
         "input_schema": {"type": "object", "required": ["text"]},
         "argv": ["/bin/sh", "-c", 'printf "%s" "$1"', "sh", "{text}"]},
    ])
    client = start(server_factory, config).client()
    hostile = f'a b "c"; touch {victim}'
    # Raw JSON, so the number reaches the server spelled 1.50: a number is passed as the client wrote it.
    body = '{"task": "args", "input": {"text": %s, "n": 1.50}}' % json.dumps(hostile)
    job = client.finished(client.submit_ok(None, raw=body)["id"])
    assert succeeded_output(job) == [hostile, "x{text}", "1.50", hostile]
    for text in (hostile, f"$(touch {victim})", f"`touch {victim}`", f"a && touch {victim} || true", "*", "'\\"):
        assert succeeded_output(run_job(client, "sh-arg", {"text": text})) == text
    assert not victim.exists(), "a substituted argument ran as shell code"
    # A field that cannot be an argument fails the job naming it.
    job = run_job(client, "args", {"text": {"nested": 1}, "n": 1})
    assert job["state"] == "failed" and job["error"]["code"] == "task_error", job
    assert job["error"]["message"] == 'input field "text" must be a string, a number or a boolean to fill argv[3], not object'


def test_a_failing_command_names_its_exit_code_or_signal_and_its_stderr(server_factory, tmp_path):
    failing = script(tmp_path, "fail.sh", """
        echo "some output"
        i=0
        while [ $i -lt 500 ]; do echo "noise line $i" >&2; i=$((i + 1)); done
        echo "the real reason" >&2
        exit 7
        """)
    crashing = script(tmp_path, "crash.sh", """
        echo "about to crash" >&2
        kill -SEGV $$
        """)
    config = write_config(tmp_path, [{"name": "fails", "argv": [failing]}, {"name": "crashes", "argv": [crashing]}])
    client = start(server_factory, config).client()
    job = run_job(client, "fails")
    assert job["state"] == "failed" and job["error"]["code"] == "task_error", job
    message = job["error"]["message"]
    assert message.startswith("command exited with code 7: "), message
    assert message.endswith("noise line 499\nthe real reason"), message
    assert "noise line 0\n" not in message and len(message.encode()) <= 4096 + 64, "only the last 4 KiB of stderr"
    job = run_job(client, "crashes")
    assert job["state"] == "failed" and job["error"] == {
        "code": "task_error", "message": "command was killed by SIGSEGV: about to crash"}, job


def test_exec_failures_name_the_path_and_errno(server_factory, tmp_path):
    gone = script(tmp_path, "gone.sh", "exit 0\n")
    denied = script(tmp_path, "denied.sh", "exit 0\n")
    config = write_config(tmp_path, [
        {"name": "gone", "argv": [gone]}, {"name": "denied", "argv": [denied]},
        {"name": "bad-json", "argv": ["/bin/echo", "not json"], "output": "json"},
    ])
    client = start(server_factory, config).client()
    os.unlink(gone)
    os.chmod(denied, 0o644)
    job = run_job(client, "gone")
    assert job["error"] == {"code": "task_error", "message": f"cannot run {gone}: No such file or directory (ENOENT)"}, job
    job = run_job(client, "denied")
    assert job["error"] == {"code": "task_error", "message": f"cannot run {denied}: Permission denied (EACCES)"}, job
    job = run_job(client, "bad-json")
    assert job["state"] == "failed" and job["error"]["message"].startswith("command output is not valid JSON: "), job


def flood_setup(server_factory, tmp_path):
    pidfile = tmp_path / "flood.pid"
    flood = script(tmp_path, "flood.sh", f"""
        /bin/sleep 1000 &
        echo "$$ $!" > {pidfile}
        exec /usr/bin/yes flood-flood-flood
        """)
    config = write_config(tmp_path, [{"name": "flood", "argv": [flood], "max_output_bytes": 65536}])
    return start(server_factory, config).client(), pidfile


def test_output_past_max_output_bytes_kills_the_command(server_factory, tmp_path):
    client, pidfile = flood_setup(server_factory, tmp_path)
    job = run_job(client, "flood", timeout_ms=20000)
    assert job["state"] == "failed", job
    assert job["error"]["message"] == "command output exceeded max_output_bytes (65536 bytes); the command was killed", job
    pids = read_pids(pidfile)
    fp.wait_until(lambda: not any(fp.process_exists(p) for p in pids), 10, what=f"the flood and its child {pids} to be reaped")


def test_output_past_max_output_bytes_is_result_too_large(server_factory, tmp_path):
    client, _ = flood_setup(server_factory, tmp_path)
    job = run_job(client, "flood", timeout_ms=20000)
    assert job["error"]["code"] == "result_too_large", job


def hang_setup(server_factory, tmp_path, *flags):
    pidfile = tmp_path / "hang.pid"
    hang = script(tmp_path, "hang.sh", f"""
        /bin/sleep 1000 &
        echo "$$ $!" > {pidfile}.tmp && /bin/mv {pidfile}.tmp {pidfile}
        echo "5 hanging" >&3
        wait
        """)
    config = write_config(tmp_path, [{"name": "hang", "argv": [hang], "timeout_ms": 1500}])
    server = start(server_factory, config, *flags)
    return server, server.client(), pidfile


def test_a_command_past_its_timeout_is_killed_with_its_children(server_factory, tmp_path):
    server, client, pidfile = hang_setup(server_factory, tmp_path)
    job = client.submit_ok({"task": "hang"})
    assert job["timeout_ms"] == 1500, "the task's timeout_ms is the job's default"
    pids = read_pids(pidfile)
    assert all(fp.process_alive(p) for p in pids)
    job = client.finished(job["id"], timeout=20)
    assert job["state"] == "failed" and job["error"]["code"] == "timeout", job
    fp.wait_until(lambda: not any(fp.process_exists(p) for p in pids), 10,
                  what=f"the command and its child {pids} to be killed and reaped")
    # A job's own timeout_ms wins over the task's.
    pidfile.unlink()
    job = run_job(client, "hang", timeout_ms=300)
    assert job["error"]["code"] == "timeout" and job["timeout_ms"] == 300, job
    pids = read_pids(pidfile)
    fp.wait_until(lambda: not any(fp.process_exists(p) for p in pids), 10, what=f"{pids} to be reaped")


def test_a_canceled_command_is_killed_with_its_children(server_factory, tmp_path):
    server, client, pidfile = hang_setup(server_factory, tmp_path)
    job = client.submit_ok({"task": "hang", "timeout_ms": 60000})
    pids = read_pids(pidfile)
    try:
        assert client.cancel(job["id"]).status_code == 200
        fp.wait_until(lambda: not any(fp.process_exists(p) for p in pids), 5,
                      what=f"the canceled command and its child {pids} to be killed and reaped")
    finally:
        for pid in pids:  # never leave one behind, whatever the outcome
            if fp.process_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_progress_on_descriptor_3_and_stderr_rises_while_it_runs(server_factory, tmp_path):
    gate = tmp_path / "gate"
    progress = script(tmp_path, "progress.sh", f"""
        await() {{  # until the test opens gate $1, at most 20 s
            i=0
            while [ ! -e {gate}$1 ]; do
                i=$((i + 1)); [ $i -gt 2000 ] && exit 9
                /bin/sleep 0.01
            done
        }}
        echo "10 starting" >&3
        await 1
        echo "FORKPOOL_PROGRESS 40.5 from stderr" >&2
        await 2
        printf '75 almost ' >&3; printf 'there\\n' >&3
        echo "not progress" >&3
        await 3
        echo '"done"'
        """)
    config = write_config(tmp_path, [{"name": "progress", "argv": [progress], "output": "json"}])
    client = start(server_factory, config).client()
    job = client.submit_ok({"task": "progress"})
    samples = []

    def progress_is(percent):
        def look():
            current = client.job_ok(job["id"])
            assert current["state"] in ("queued", "running"), f"finished before the test let it: {current}"
            if "progress" in current:
                samples.append((current["progress"]["percent"], current["progress"].get("message")))
            return current.get("progress", {}).get("percent") == percent
        fp.wait_until(look, 15, what=f"progress {percent}")

    for step, percent in enumerate((10, 40.5, 75), start=1):
        progress_is(percent)
        Path(f"{gate}{step}").touch()
    finished = client.finished(job["id"])
    assert succeeded_output(finished) == "done"
    distinct = [p for i, p in enumerate(samples) if i == 0 or p != samples[i - 1]]
    assert distinct == [(10, "starting"), (40.5, "from stderr"), (75, "almost there")], samples
    assert finished["progress"] == {"percent": 75.0, "message": "almost there"}


def test_no_inherited_descriptors_and_a_clean_process_state(server_factory, tmp_path):
    config = write_config(tmp_path, [
        {"name": "fds", "output": "json",
         "argv": [PYTHON, "-I", "-c",
                  "import json, os\n"
                  "fds = []\n"
                  "for fd in range(4096):\n"
                  "    try: os.fstat(fd)\n"
                  "    except OSError: continue\n"
                  "    fds.append(fd)\n"
                  "print(json.dumps({'fds': fds, 'stdin': os.readlink('/proc/self/fd/0'),\n"
                  "  'pipes': [os.readlink(f'/proc/self/fd/{n}').startswith('pipe:') for n in (1, 2, 3)],\n"
                  "  'pid': os.getpid(), 'pgid': os.getpgid(0), 'ppid': os.getppid()}))"]},
        # grep is the command itself: its own /proc status shows what forkpool gave it.
        {"name": "signals", "argv": ["/bin/grep", "-E", "^(SigBlk|SigIgn|NoNewPrivs):", "/proc/self/status"]},
        {"name": "ok", "argv": ["/bin/true"]},
        {"name": "no", "argv": ["/bin/false"]},
    ])
    server = start(server_factory, config, "--tasks-per-worker", "1000")
    client = server.client()
    out = succeeded_output(run_job(client, "fds"))
    assert out["fds"] == [0, 1, 2, 3], out
    assert out["stdin"] == "/dev/null" and out["pipes"] == [True, True, True], out
    assert out["pgid"] == out["pid"], "a process group of its own"
    assert os.getpgid(out["ppid"]) != out["pgid"]
    status = dict(line.split(":\t") for line in succeeded_output(run_job(client, "signals")).splitlines())
    # Signals 32 and 33 are glibc's own (thread cancellation, setxid): libc cannot change their
    # disposition, so an ignored 32 or 33 inherited from whoever started the server may remain.
    glibc_reserved = (1 << 31) | (1 << 32)
    assert int(status["SigBlk"], 16) == 0, status
    assert int(status["SigIgn"], 16) & ~glibc_reserved == 0, status
    # A worker runs many commands: none of them leaves a descriptor or a blocked signal in it.
    pool = pool_pid(client)
    workers = fp.wait_until(lambda: fp.children_of(pool) or None, 5, what="an idle worker")
    before = {pid: fd_count(pid) for pid in workers}
    for task in ("ok", "no", "fds", "signals", "ok", "no") * 3:
        run_job(client, task)
    after = {pid: fd_count(pid) for pid in fp.children_of(pool) if pid in before}
    assert after and all(after[pid] == before[pid] for pid in after), (before, after)
    for pid in after:
        worker_status = Path(f"/proc/{pid}/status").read_text()
        assert "SigBlk:\t0000000000000000" in worker_status, f"worker {pid} kept signals blocked"


@pytest.mark.parametrize("token_flag", [True, False])
def test_only_allowed_and_fixed_variables_and_never_the_token(server_factory, tmp_path, token_flag):
    config = write_config(tmp_path, [{
        "name": "env", "argv": ["/usr/bin/env"],
        "env": {"allow": ["ALLOWED_ONE", "NOT_SET_ANYWHERE", "LANG"], "set": {"MODE": "fast", "LANG": "C"}}}])
    env = {"ALLOWED_ONE": "one two", "NOT_ALLOWED": "secret", "LANG": "en_US.UTF-8"}
    if token_flag:
        server = start(server_factory, config, env=env, token="t0ken-flag")
    else:
        env["FORKPOOL_TOKEN"] = "t0ken-env"
        server = start(server_factory, config, env=env)
        server.token = "t0ken-env"
    client = server.client()
    fp.assert_error(server.client(token=False).submit({"task": "env"}), 401)
    output = succeeded_output(run_job(client, "env"))
    variables = dict(line.split("=", 1) for line in output.splitlines())
    assert variables == {"ALLOWED_ONE": "one two", "MODE": "fast", "LANG": "C", "FORKPOOL_PROGRESS_FD": "3"}, variables
    assert "t0ken" not in output


# ---------------------------------------------------------------- refused configurations

def serve_refusing(config_path: str, *flags: str) -> subprocess.CompletedProcess:
    """`forkpool serve --config FILE` that must refuse to start; stopped and cleaned up if it starts anyway."""
    return fp.serve_must_refuse("--config", config_path, *flags)


BAD_CONFIGS = [
    # (YAML, task, field, what the message says)
    ("tasks:\n  - name: resize\n    argv: /usr/bin/convert\n", "resize", "argv", "must be a non-empty list of strings"),
    ("tasks:\n  - name: resize\n    argv: [/bin/true]\n    timeout: 5\n", "resize", "timeout", "unknown field"),
    ("tasks:\n  - argv: [/bin/true]\n", "#1", "name", "is required"),
    ("tasks:\n  - name: resize\n", "resize", "argv", "is required"),
    ("tasks:\n  - {name: resize, argv: [/bin/true], timeout_ms: soon}\n", "resize", "timeout_ms", "must be an integer"),
    ("tasks:\n  - {name: a, argv: [/bin/true]}\n  - {name: a, argv: [/bin/false]}\n", "a", "name", "defined twice"),
    ("tasks:\n  - {name: sleep, argv: [/bin/true]}\n", "sleep", "name", "is a built-in task"),
    ("tasks:\n  - {name: a, argv: [/bin/echo, '{size}'], input_schema: {type: object, properties: {size: {}}}}\n",
     "a", "argv", 'does not require a property "size"'),
    ("tasks:\n  - {name: a, argv: [/bin/true], input_schema: {type: object, patternProperties: {}}}\n",
     "a", "input_schema", 'invalid schema: keyword "patternProperties"'),
    ("tasks:\n  - {name: a, argv: [/bin/true], cwd: /nonexistent/place}\n", "a", "cwd", "No such file or directory"),
    ("tasks:\n  - {name: a, argv: [/etc/passwd]}\n", "a", "argv", "is not executable"),
    ("tasks:\n  - {name: a, argv: [/bin/true], env: {allow: [PATH, FORKPOOL_TOKEN]}}\n", "a", "env.allow", "FORKPOOL_TOKEN"),
    ("tasks:\n  - {name: a, argv: [/bin/true], env: {allow: [PATH], pass: [HOME]}}\n", "a", "env.pass", "unknown field"),
]


@pytest.mark.parametrize("yaml,task,field,says", BAD_CONFIGS)
def test_a_bad_config_exits_2_naming_file_task_and_field(tmp_path, yaml, task, field, says):
    path = tmp_path / "forkpool.yaml"
    path.write_text(yaml)
    result = serve_refusing(str(path), "--token", "t0ken")
    assert result.returncode == 2, f"exit {result.returncode}; stderr {result.stderr!r}"
    assert "listening on" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"one message, not {lines}"
    label = task if task.startswith("#") else f'"{task}"'
    expected = f'--config {path}: task {label}: field "{field}": '
    assert expected in lines[0] and says in lines[0], lines[0]


@pytest.mark.parametrize("content,says", [
    (None, "cannot open: No such file or directory (ENOENT)"),
    ("tasks: [\n", "not valid YAML: line 2"),
    ("workers: 3\n", 'field "workers": unknown field'),
])
def test_an_unreadable_or_malformed_config_exits_2(tmp_path, content, says):
    path = tmp_path / "forkpool.yaml"
    if content is not None:
        path.write_text(content)
    result = serve_refusing(str(path))
    assert result.returncode == 2 and f"--config {path}: " in result.stderr and says in result.stderr, result.stderr


# ---------------------------------------------------------------- the README's example, verbatim

def readme_example() -> tuple[str, str]:
    """The YAML block and the curl block of the README's "Command tasks" section."""
    text = README.read_text()
    start = text.index("\n## Command tasks\n")
    end = text.index("\n## ", start + 1)
    section = text[start:end]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    yamls = [body for lang, body in blocks if lang == "yaml"]
    curls = [body for lang, body in blocks if lang == "sh" and "curl " in body]
    assert len(yamls) == 1 and len(curls) == 1, "the section has one YAML example and one block of curl lines"
    return yamls[0], curls[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_example_works_verbatim(server_factory, tmp_path):
    yaml, commands = readme_example()
    config = tmp_path / "forkpool.yaml"
    config.write_text(yaml)
    # As the README has it: `forkpool serve --config forkpool.yaml` on port 8080.
    server = start(server_factory, str(config), "--port", "8080")
    assert server.port == 8080
    result = subprocess.run(["bash", "-e", "-c", commands], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, f"the README's commands failed: {result.stderr}\n{result.stdout}"
    expected = [line.split("# -> ", 1)[1] for line in commands.splitlines() if line.startswith("# -> ")]
    assert len(expected) >= 5
    position = 0
    for snippet in expected:
        found = result.stdout.find(snippet, position)
        assert found >= 0, f"the README promises {snippet!r} (in this order); the commands printed:\n{result.stdout}"
        position = found + len(snippet)
