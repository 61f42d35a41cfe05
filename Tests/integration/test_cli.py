"""The command line: bad flags (exit 2), environment variables, `forkpool status`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import fp


serve_must_refuse = fp.serve_must_refuse


@pytest.mark.parametrize("flags,named", [
    (("--port", "abc"), "--port"),
    (("--port", "70000"), "--port"),
    (("--workers", "0"), "--workers"),
    (("--workers", "-3"), "--workers"),
    (("--frontends", "0"), "--frontends"),
    (("--frobnicate",), "--frobnicate"),
    (("--frobnicate", "7"), "--frobnicate"),
    (("--tasks-per-worker", "x"), "--tasks-per-worker"),
    (("--ipc-key", "not-a-key-or-a-path"), "--ipc-key"),
    (("--max-body-bytes", "lots"), "--max-body-bytes"),
    (("--workers",), "--workers"),
    (("stray",), "stray"),
    (("--config", "/nonexistent/forkpool.conf"), "--config"),
])
def test_bad_flags_exit_2_naming_the_flag(flags, named):
    result = serve_must_refuse(*flags)
    assert result.returncode == 2, f"exit {result.returncode}; stderr {result.stderr!r}"
    assert named in result.stderr, f"stderr does not name {named}: {result.stderr!r}"
    assert "listening on" not in result.stdout


def test_a_bad_environment_variable_exits_2_naming_it():
    result = serve_must_refuse(env={"FORKPOOL_WORKERS": "zero"})
    assert result.returncode == 2, result.stderr
    assert "FORKPOOL_WORKERS" in result.stderr or "--workers" in result.stderr, result.stderr


def test_unknown_command_exits_2():
    result = fp.run_cli("frobnicate")
    assert result.returncode == 2
    assert "frobnicate" in result.stderr


def test_environment_variables_configure_serve_and_flags_win(server_factory):
    server = server_factory("--workers", "2",
                            env={"FORKPOOL_TOKEN": "env-token", "FORKPOOL_FRONTENDS": "3", "FORKPOOL_WORKERS": "0"})
    anonymous = server.client(token=False)
    fp.assert_error(anonymous.get("/v1/tasks"), 401)
    c = fp.Client(server.base_url, token="env-token")
    status = c.get("/v1/status").json()
    assert len(status["frontends"]) == 3
    assert status["pool"]["workers"]["max"] == 2, "the flag wins over FORKPOOL_WORKERS"


def test_status_by_port_prints_the_status_object(server_factory):
    server = server_factory("--frontends", "2", "--workers", "3", ipc_key=None)  # key derived from the port
    c = server.client()
    job = c.submit_ok({"task": "echo", "input": "status"}, wait=20)
    assert job["state"] == "succeeded"
    http_status = c.get("/v1/status").json()
    result = fp.run_cli("status", "--port", str(server.port), "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert {"frontends", "pool", "queue", "jobs", "segment"} <= set(status)
    assert sorted(f["pid"] for f in status["frontends"]) == sorted(f["pid"] for f in http_status["frontends"])
    assert status["pool"]["pid"] == http_status["pool"]["pid"]
    assert status["pool"]["workers"]["max"] == 3
    assert status["jobs"]["succeeded"] == 1
    for field in ("depth", "capacity"):
        assert type(status["queue"][field]) is int
    for field in ("bytes", "used_bytes"):
        assert type(status["segment"][field]) is int
    # Without --json: a readable text on stdout.
    text = fp.run_cli("status", "--port", str(server.port))
    assert text.returncode == 0 and text.stdout.strip(), text.stderr


def test_status_by_ipc_key_and_the_key_wins_over_the_port(server_factory):
    server = server_factory("--frontends", "1", "--workers", "1")
    for args in (("--ipc-key", str(server.key)), ("--ipc-key", hex(server.key)),
                 ("--port", "1", "--ipc-key", str(server.key))):
        result = fp.run_cli("status", "--json", *args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        status = json.loads(result.stdout)
        assert status["pool"]["workers"]["max"] == 1
        assert len(status["frontends"]) == 1


def test_status_of_an_unused_key_exits_1():
    key = fp.unique_ipc_key()
    result = fp.run_cli("status", "--ipc-key", str(key))
    assert result.returncode == 1, f"exit {result.returncode}: {result.stdout!r} {result.stderr!r}"
    assert result.stderr.strip()
    assert not fp.sysv_objects_with_key(key), "status must not create the segment"
    result = fp.run_cli("status", "--json", "--ipc-key", str(key))
    assert result.returncode == 1
