"""Faults, limits and durability: killed workers, front-ends and pools, poison jobs,
eviction and retention, a restart with --state-file, the second SIGTERM, modes of
the System V objects. Every wait is a condition with a deadline."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import fp


def status(server) -> dict:
    r = server.client().get("/v1/status")
    assert r.status_code == 200
    return r.json()


def kill(pid: int):
    os.kill(pid, signal.SIGKILL)


def test_killed_worker_fails_its_job_naming_the_signal(server_factory):
    client = server_factory("--workers", "1").client()
    job = client.submit_ok({"task": "sleep", "input": {"ms": 30000}})
    running = client.wait_running(job["id"])
    kill(running["worker_pid"])
    done = client.finished(job["id"])
    assert done["state"] == "failed"
    assert done["error"]["code"] == "worker_crashed"
    assert "SIGKILL" in done["error"]["message"]
    assert done["attempts"] == 1


def test_killed_worker_runs_again_while_attempts_remain(server_factory):
    client = server_factory("--workers", "1").client()
    job = client.submit_ok({"task": "sleep", "input": {"ms": 1500}, "max_attempts": 2})
    first = client.wait_running(job["id"])
    kill(first["worker_pid"])
    second = fp.wait_until(lambda: (lambda j: j if j["attempts"] == 2 and j["state"] == "running" and "worker_pid" in j else None)(
        client.job_ok(job["id"])), 10, what="the second attempt")
    assert second["worker_pid"] != first["worker_pid"]
    done = client.finished(job["id"])
    assert done["state"] == "succeeded"
    assert done["attempts"] == 2


def test_a_poison_job_ends_when_its_attempts_run_out(server_factory):
    client = server_factory("--workers", "1").client()
    job = client.submit_ok({"task": "sleep", "input": {"ms": 30000}, "max_attempts": 3})
    killed = set()
    for attempt in (1, 2, 3):
        running = fp.wait_until(lambda: (lambda j: j if j["state"] == "running" and "worker_pid" in j
                                         and j["worker_pid"] not in killed else None)(client.job_ok(job["id"])),
                                10, what=f"attempt {attempt}")
        assert running["attempts"] == attempt
        killed.add(running["worker_pid"])
        kill(running["worker_pid"])
    done = client.finished(job["id"])
    assert done["state"] == "failed"
    assert done["error"]["code"] == "worker_crashed"
    assert done["attempts"] == 3


def test_a_killed_frontend_is_replaced_within_a_second_and_loses_no_job(server_factory):
    server = server_factory("--frontends", "2", "--workers", "2")
    client = server.client()
    accepted = [client.submit_ok({"task": "echo", "input": n})["id"] for n in range(20)]
    victim = status(server)["frontends"][0]["pid"]
    kill(victim)
    killed_at = time.monotonic()
    replaced = fp.wait_until(lambda: (lambda pids: pids if victim not in pids and all(p > 0 for p in pids) and len(pids) == 2
                                      else None)([f["pid"] for f in status(server)["frontends"]]), 5, what="a new front-end")
    assert time.monotonic() - killed_at < 1.5, "the supervisor took longer than a second to replace the front-end"
    assert all(fp.process_alive(pid) for pid in replaced)
    for job_id in accepted:
        assert client.finished(job_id)["state"] == "succeeded"
    assert status(server)["supervisor"]["frontend_restarts"] == 1


def test_a_killed_pool_is_replaced_and_its_running_jobs_retried_or_failed(server_factory):
    server = server_factory("--workers", "2")
    client = server.client()
    once = client.submit_ok({"task": "sleep", "input": {"ms": 30000}, "max_attempts": 1})
    twice = client.submit_ok({"task": "sleep", "input": {"ms": 1000}, "max_attempts": 2})
    workers = [client.wait_running(once["id"])["worker_pid"], client.wait_running(twice["id"])["worker_pid"]]
    old_pool = status(server)["pool"]["pid"]
    kill(old_pool)
    # The orphaned workers are killed (parent-death signal) and reaped by the supervisor (a subreaper).
    fp.wait_until(lambda: not any(fp.process_exists(pid) for pid in workers), 5, what="the old workers to be gone and reaped")
    failed = client.finished(once["id"])
    assert failed["state"] == "failed"
    assert failed["error"]["code"] == "interrupted"
    retried = client.finished(twice["id"])
    assert retried["state"] == "succeeded"
    assert retried["attempts"] == 2
    new = status(server)
    assert new["pool"]["pid"] not in (0, old_pool)
    assert new["supervisor"]["pool_restarts"] == 1


def test_the_oldest_finished_jobs_are_evicted_when_the_table_is_full(server_factory):
    client = server_factory("--job-capacity", "5", "--queue-capacity", "5", small=False).client()
    first = [client.submit_ok({"task": "echo", "input": n}, wait=5)["id"] for n in range(5)]
    later = [client.submit_ok({"task": "echo", "input": 10 + n}, wait=5)["id"] for n in range(2)]
    assert client.job(first[0]).status_code == 404
    assert client.job(first[1]).status_code == 404
    assert client.job(first[2]).status_code == 200
    assert all(client.job(job_id).status_code == 200 for job_id in later)


def test_finished_jobs_expire_after_the_retention_time(server_factory):
    client = server_factory("--retention-seconds", "1").client()
    job = client.submit_ok({"task": "echo", "input": "short-lived"}, wait=5)
    assert client.job(job["id"]).status_code == 200
    fp.wait_until(lambda: client.job(job["id"]).status_code == 404, 10, interval=0.2, what="the job to expire")


def test_a_restart_with_a_state_file_keeps_queued_and_finished_jobs(server_factory, tmp_path):
    state = tmp_path / "forkpool.state"
    first = server_factory("--workers", "1", "--state-file", str(state))
    client = first.client()
    finished = client.submit_ok({"task": "echo", "input": {"kept": True}}, wait=5)
    assert finished["state"] == "succeeded"
    blocker = client.submit_ok({"task": "sleep", "input": {"ms": 30000}, "max_attempts": 2})
    client.wait_running(blocker["id"])
    queued = [client.submit_ok({"task": "echo", "input": n})["id"] for n in range(3)]
    assert first.stop() == []
    assert state.exists() and state.stat().st_mode & 0o777 == 0o600

    second = server_factory("--workers", "1", "--state-file", str(state), ipc_key=first.key)
    client = second.client()
    kept = client.job_ok(finished["id"])
    assert kept["state"] == "succeeded" and kept["result"] == {"kept": True}
    for n, job_id in enumerate(queued):
        done = client.finished(job_id)
        assert done["state"] == "succeeded" and done["result"] == n
    # The job that was running when the first server stopped runs again: it had an attempt left.
    again = client.wait_running(blocker["id"])
    assert again["attempts"] == 2


def test_a_second_sigterm_stops_at_once_still_cleanly(server_factory):
    server = server_factory("--workers", "1", "--shutdown-grace-seconds", "60")
    client = server.client()
    job = client.submit_ok({"task": "sleep", "input": {"ms": 60000}})
    client.wait_running(job["id"])
    server.terminate()
    fp.wait_until(lambda: client.get("/readyz").status_code == 503, 5, what="draining")
    started = time.monotonic()
    server.terminate()
    assert server.wait_exit(10) == 0
    assert time.monotonic() - started < 5
    assert server.leftovers() == []


def test_system_v_objects_are_private_to_the_user(server_factory):
    server = server_factory()
    for table in ("shm", "sem"):
        rows = Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]
        mine = [row.split() for row in rows if int(row.split()[0]) == fp.signed32(server.key)]
        assert len(mine) == 1, f"{table}: {mine}"
        assert mine[0][2] == "600", f"{table} mode is {mine[0][2]}"


def test_the_token_can_come_from_a_file_and_never_from_a_worker(server_factory, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("file-secret\n")
    server = server_factory("--token-file", str(token_file))
    assert server.client(token=None).get("/v1/jobs").status_code == 401
    client = server.client(token="file-secret")
    assert client.get("/v1/jobs").status_code == 200
    job = client.submit_ok({"task": "sleep", "input": {"ms": 2000}})
    worker = client.wait_running(job["id"])["worker_pid"]
    environment = Path(f"/proc/{worker}/environ").read_bytes()
    assert b"file-secret" not in environment


def test_a_token_from_the_environment_is_wiped_from_every_process(server_factory):
    server = server_factory(env={"FORKPOOL_TOKEN": "env-secret"})
    client = server.client(token="env-secret")
    assert server.client(token=None).get("/v1/jobs").status_code == 401
    job = client.submit_ok({"task": "sleep", "input": {"ms": 2000}})
    worker = client.wait_running(job["id"])["worker_pid"]
    for pid in [server.pid, worker] + server.child_pids():
        assert b"env-secret" not in Path(f"/proc/{pid}/environ").read_bytes(), f"pid {pid} shows the token"


def test_after_the_supervisor_is_killed_the_next_start_reclaims_its_objects(server_factory):
    first = server_factory("--workers", "1")
    client = first.client()
    client.submit_ok({"task": "echo", "input": 1}, wait=5)
    children = first.child_pids()
    assert children
    # SIGKILL of the supervisor alone: nobody removes the segment or the semaphore set.
    first.stopped = True
    os.kill(first.pid, signal.SIGKILL)
    first.proc.wait(timeout=10)
    # Its children follow it (parent-death signal), and the System V objects stay behind.
    fp.wait_until(lambda: not any(fp.process_alive(pid) for pid in children), 15, what="the children to exit")
    assert fp.sysv_objects_with_key(first.key), "a SIGKILLed supervisor cannot have removed its objects"
    second = server_factory("--workers", "1", ipc_key=first.key)
    assert second.client().submit_ok({"task": "echo", "input": 2}, wait=5)["state"] == "succeeded"
    assert second.stop() == []
    assert fp.sysv_objects_with_key(first.key) == []
