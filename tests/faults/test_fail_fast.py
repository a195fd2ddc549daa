"""A dead or hung dependency makes requests fail fast with 503 (never a hang);
request bodies and page sizes are bounded."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.e2e.support.stack import RunningStack
from tests.faults.support import Admin, Faults

FAST = 8.0   # seconds: the token service's catalog timeout (3 s) plus slack
SERVICES = ("token", "catalog", "syncer", "audit")


@contextmanager
def stopped(stack: RunningStack, faults: Faults, program: str) -> Iterator[None]:
    """``program`` stopped by supervisord for the block."""
    assert "stopped" in stack.supervisorctl("stop", program)
    try:
        yield
    finally:
        stack.supervisorctl("start", program)
        faults.wait_until(lambda: faults.healthy(program), 60, f"{program} to return")


@contextmanager
def hung(stack: RunningStack, faults: Faults, program: str) -> Iterator[None]:
    """Every process of ``program`` frozen (SIGSTOP): it accepts connections and
    never answers, the worst kind of slow dependency."""
    master = faults.pid(program)
    pids = [master, *faults.children(master)]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        if program != "registry":
            faults.wait_until(lambda: faults.healthy(program), 60,
                              f"{program} to return")


def registry_token(stack: RunningStack, admin: Admin) -> requests.Response:
    """A push token request as docker would make it, for a repository never
    asked about before (the token service reuses a grant for 2 s)."""
    repo = f"fault-fast-{uuid.uuid4().hex[:8]}"
    return requests.get(f"{stack.url}/v2/token", auth=(admin.username, admin.password),
                        params={"service": stack.host,
                                "scope": f"repository:{repo}:pull,push"}, timeout=60)


def timed(call: object) -> tuple[requests.Response, float]:
    """The response of ``call()`` and how long it took."""
    started = time.monotonic()
    resp = call()  # type: ignore[operator]
    return resp, time.monotonic() - started


@pytest.mark.parametrize("outage", [stopped, hung], ids=["stopped", "hung"])
def test_token_answers_503_fast_when_the_catalog_is_gone(
        fstack: RunningStack, admin: Admin, faults: Faults, outage: object) -> None:
    assert registry_token(fstack, admin).status_code == 200
    with outage(fstack, faults, "catalog"):  # type: ignore[operator]
        resp, took = timed(lambda: registry_token(fstack, admin))
        assert resp.status_code == 503, resp.text
        assert "errors" in resp.json()
        assert took < FAST
    assert registry_token(fstack, admin).status_code == 200


@pytest.mark.parametrize("outage", [stopped, hung], ids=["stopped", "hung"])
def test_portus_auth_fails_fast_when_the_token_service_is_gone(
        fstack: RunningStack, admin: Admin, faults: Faults, outage: object) -> None:
    headers = {"Portus-Auth": f"{admin.username}:not-a-cached-token"}
    with outage(fstack, faults, "token"):  # type: ignore[operator]
        for svc in ("catalog", "audit", "syncer"):
            path = {"catalog": "/api/v1/namespaces", "audit": "/api/v1/audit",
                    "syncer": "/api/v1/sync"}[svc]
            resp, took = timed(lambda p=path, s=svc: requests.get(
                faults.url(s) + p, headers=headers, timeout=60))
            assert resp.status_code in (401, 503), (svc, resp.status_code)
            assert took < FAST, (svc, took)


DATABASE_PATHS = {"token": "/api/v1/users", "catalog": "/api/v1/namespaces",
                  "audit": "/api/v1/audit", "syncer": "/api/v1/sync"}


def test_a_dead_database_is_reported_and_answered_with_503_fast(
        fstack: RunningStack, admin: Admin, faults: Faults) -> None:
    # A crash (SIGKILL) rather than a clean shutdown; InnoDB recovers on restart.
    with faults.database_outage(crash=True):
        for svc in SERVICES:
            started = time.monotonic()
            assert faults.health(svc) == 503, svc
            assert time.monotonic() - started < FAST, svc
            resp, took = timed(lambda s=svc: requests.get(
                faults.url(s) + DATABASE_PATHS[s], headers=admin.headers, timeout=60))
            assert resp.status_code == 503, (svc, resp.status_code, resp.text)
            assert resp.json()["errors"][0]["code"] == "UNAVAILABLE"
            assert took < FAST, (svc, took)
        resp, took = timed(lambda: registry_token(fstack, admin))
        assert resp.status_code == 503, resp.text
        assert took < FAST
    faults.wait_until(lambda: faults.healthy(*SERVICES), 60, "every service to recover")


@pytest.mark.parametrize("svc", SERVICES)
def test_request_bodies_are_bounded(faults: Faults, svc: str) -> None:
    body = b"x" * (20 * 1024 * 1024)
    resp = requests.post(faults.url(svc) + "/api/v1/users", data=body,
                         headers={"Content-Type": "application/json"}, timeout=60)
    assert resp.status_code == 413
    assert "errors" in resp.json()


@pytest.mark.parametrize(("svc", "path"), [
    ("token", "/api/v1/users"), ("catalog", "/api/v1/namespaces"),
    ("audit", "/api/v1/audit"), ("syncer", "/api/v1/sync")])
def test_page_sizes_are_bounded(faults: Faults, svc: str, path: str) -> None:
    resp = requests.get(faults.url(svc) + path, headers=faults.admin.headers,
                        params={"per_page": str(10**9)}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert int(resp.headers["X-Per-Page"]) <= 100
    assert len(resp.json()) <= 100
    huge = requests.get(faults.url(svc) + path, headers=faults.admin.headers,
                        params={"page": str(10**20)}, timeout=30)
    assert huge.status_code in (200, 422), huge.text


def test_syncer_fails_fast_when_the_registry_hangs(
        fstack: RunningStack, admin: Admin, faults: Faults) -> None:
    secret = (fstack.home / "secrets" / "internal").read_text().strip()
    body = {"registry": fstack.host, "repository": "fault-fast/none",
            "digest": "sha256:" + "0" * 64}
    with hung(fstack, faults, "registry"):
        started = time.monotonic()
        assert faults.health("syncer") == 503
        assert time.monotonic() - started < FAST
        resp, took = timed(lambda: requests.post(
            faults.url("syncer") + "/internal/v1/manifests/delete", json=body,
            headers={"X-Berth-Internal": secret}, timeout=120))
        assert resp.status_code == 503, resp.text
        # Under the catalog's 30 s wait for the syncer, and gunicorn's 60 s.
        assert took < 25, took
