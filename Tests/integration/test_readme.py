"""The README's curl tour works verbatim against a server on port 8080, as
`make run` starts it: every command exits 0 and every answer is what its
comment says."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import fp

README = (fp.REPO_ROOT / "README.md").read_text()


def tour_blocks() -> list[str]:
    tour = README[README.index("## A tour with curl"):README.index("## The API")]
    return re.findall(r"```sh\n(.*?)```", tour, re.S)


def test_the_tour_runs_verbatim_against_port_8080(server_factory):
    server = server_factory("--port", "8080", "--workers", "2")
    assert server.port == 8080
    script = tour_blocks()[0]
    # Run it as a user would paste it; `set -e` stops at the first failing command.
    result = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "HTTP/1.1 202 Accepted" in out and "Location: /v1/jobs/" in out
    assert '"hex":"' in out, "the sha256 job waited for did not succeed"
    assert '"slept_ms":1500' in out, "the long poll did not return the finished sleep job"
    assert '"state":"canceled"' in out
    assert '"code":"task_error","message":"no such customer"' in out
    assert '"tasks":[' in out and '"next_cursor":' in out
    assert '{"status":"ok"}' in out and '{"status":"ready"}' in out
    assert '"frontends":[' in out and "forkpool_jobs_submitted_total" in out
    assert '"error"' not in out.replace('"error":{"code":"canceled"', "").replace('"error":{"code":"task_error"', ""), out


def test_the_status_commands_of_the_readme_work(server_factory):
    server_factory("--port", "8080", ipc_key=None)  # the key derived from the port, as `make run` has it
    block = [b for b in tour_blocks() if "forkpool status" in b][0]
    for line in block.strip().splitlines():
        args = line.split()[1:]  # the README names the release binary; run the one under test
        result = fp.run_cli(*args)
        assert result.returncode == 0, result.stderr
        assert "pool" in result.stdout
