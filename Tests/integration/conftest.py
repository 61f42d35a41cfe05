"""Fixtures: real `forkpool serve` processes on free loopback ports, each with its
own System V key, checked at teardown for a clean exit (code 0, no process and no
System V object left behind)."""

from __future__ import annotations

import pytest

import fp


@pytest.fixture
def server_factory():
    """Starts servers with extra flags: `server_factory("--workers", "1")`; all are stopped and checked at the end."""
    factory = fp.Factory()
    yield factory
    problems = factory.close()
    if problems:
        pytest.fail("unclean server shutdown:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def shared_server():
    """One server for the tests of a module that need no special flags."""
    factory = fp.Factory()
    server = factory("--frontends", "2", "--workers", "4", "--queue-capacity", "1000")
    yield server
    problems = factory.close()
    if problems:
        pytest.fail("unclean server shutdown:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def client(shared_server) -> fp.Client:
    return shared_server.client()
