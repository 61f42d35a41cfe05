"""libmicrohttpd is opened at run time by the front-ends only: the supervisor, the pool and
the workers it forks never map it (nor the TLS libraries it needs), so a fork copies less.
Without the library the server refuses to start and names it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import fp

LIBRARY = "libmicrohttpd.so.12"


def mapped_files(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as maps:
        return {os.path.basename(line.split()[-1]) for line in maps if len(line.split()) >= 6}


def test_only_the_front_ends_map_libmicrohttpd(server_factory):
    server = server_factory("--frontends", "2", "--workers", "1")
    c = server.client()
    job = c.submit_ok({"task": "sleep", "input": {"ms": 20000}})
    running = c.wait_running(job["id"])
    status = c.get("/v1/status").json()
    frontends = [f["pid"] for f in status["frontends"]]
    others = {"supervisor": server.pid, "pool": status["pool"]["pid"], "worker": running["worker_pid"]}

    for pid in frontends:
        assert any(name.startswith(LIBRARY) for name in mapped_files(pid)), f"front-end {pid} has no {LIBRARY}"
    for role, pid in others.items():
        found = sorted(n for n in mapped_files(pid) if n.startswith(("libmicrohttpd", "libgnutls", "libnettle")))
        assert not found, f"the {role} ({pid}) maps {found}"
    assert c.cancel(job["id"]).status_code == 200


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="hiding the library needs a private mount namespace (root and unshare)")
def test_without_the_library_the_server_refuses_to_start_and_names_it():
    path = next((p for p in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib")
                 if os.path.exists(os.path.join(p, LIBRARY))), None)
    assert path, f"{LIBRARY} is not installed where expected"
    key = fp.unique_ipc_key()
    # In a private mount namespace the library is an empty file: dlopen fails as it would without it.
    script = (f'mount --bind /dev/null {os.path.join(path, LIBRARY)} && '
              f'exec "$0" serve --host 127.0.0.1 --port 0 --ipc-key {key} --workers 1 --frontends 1')
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, fp.FORKPOOL_BIN],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    try:
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-2000:])
        assert "listening on" not in result.stdout
        assert f"cannot open {LIBRARY} (Debian package libmicrohttpd12)" in result.stderr, result.stderr[-2000:]
    finally:
        assert not fp.sysv_objects_with_key(key), "a refused start left System V objects"
