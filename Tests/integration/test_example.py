"""The example program in Examples/CustomTask embeds forkpool with a task of its
own: it serves the same API, lists its task beside the built-ins, and runs it in
a worker with progress."""

from __future__ import annotations

from pathlib import Path

import fp

EXAMPLE_BIN = str(Path(fp.FORKPOOL_BIN).with_name("forkpool-example"))


def test_the_example_serves_its_own_task_beside_the_built_ins(server_factory, monkeypatch):
    monkeypatch.setattr(fp, "FORKPOOL_BIN", EXAMPLE_BIN)
    client = server_factory("--workers", "1").client()
    names = {task["name"] for task in client.get("/v1/tasks").json()["tasks"]}
    assert names == {"echo", "sleep", "sha256", "fail", "reverse"}
    job = client.submit_ok({"task": "reverse", "input": {"text": "stressed"}}, wait=10)
    assert job["state"] == "succeeded"
    assert job["result"] == {"reversed": "desserts"}
    assert job["progress"]["percent"] == 50.0
    assert fp.assert_error(client.submit({"task": "reverse", "input": {"text": 5}}), 422, "invalid_input")
