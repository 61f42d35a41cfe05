"""2000 echo jobs from 16 concurrent clients, each waiting for its own result."""

from __future__ import annotations

import json
import threading
import time

import fp

JOBS = 2000
CLIENTS = 16


def test_2000_echo_jobs_from_16_clients(server_factory):
    server = server_factory("--frontends", "2", "--workers", "4")
    base = server.base_url
    failures: list[str] = []
    done = [0] * CLIENTS
    lock = threading.Lock()

    def client(index: int):
        session = fp.new_session()
        try:
            for seq in range(index, JOBS, CLIENTS):
                value = {"client": index, "seq": seq, "text": f"job {seq} from {index} \u2713",
                         "n": seq * 1_000_003 - 9_223_372_036_854_775_000, "f": seq / 3}
                try:
                    r = session.post(f"{base}/v1/jobs?wait=30", data=json.dumps({"task": "echo", "input": value}),
                                     headers={"Content-Type": "application/json"}, timeout=60)
                except Exception as error:  # noqa: BLE001 - collected and asserted below
                    with lock:
                        failures.append(f"job {seq}: {error!r}")
                    continue
                if r.status_code != 200:
                    with lock:
                        failures.append(f"job {seq}: {r.status_code} {r.text[:200]}")
                    continue
                job = r.json()
                if job.get("state") != "succeeded" or job.get("result") != value:
                    with lock:
                        failures.append(f"job {seq}: {json.dumps(job)[:300]}")
                    continue
                done[index] += 1
        finally:
            session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    elapsed = time.monotonic() - start
    assert not any(t.is_alive() for t in threads), "clients still running after 180 s"
    assert not failures, f"{len(failures)} of {JOBS} jobs failed, e.g. {failures[:5]}"
    assert sum(done) == JOBS
    print(f"\n{JOBS} echo jobs from {CLIENTS} clients in {elapsed:.2f} s: {JOBS / elapsed:.0f} jobs/s")
    status = server.client().get("/v1/status").json()
    assert status["jobs"]["succeeded"] == JOBS, status["jobs"]
    assert status["jobs"]["queued"] == 0 and status["jobs"]["running"] == 0
