"""What every fault scenario needs: a stream of skopeo pushes that retries what
failed, ways to hurt the stack, and the final check (catalog and audit log
agree with what the clients pushed, nothing lost, nothing doubled)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.e2e.support.clients import Result, Skopeo
from tests.e2e.support.stack import RunningStack
from tests.faults.images import tagged_images
from tests.faults.servers import MariaDBServer, RabbitMQNode, Servers

# Pushes of distinct tags per scenario (BERTH_FAULT_PUSHES overrides it).
PUSHES = int(os.environ.get("BERTH_FAULT_PUSHES", "200"))
WORKERS = 8                 # concurrent skopeo processes
RETRY_FOR = 120.0           # a client keeps retrying a failed push this long
CONVERGE_WITHIN = 90.0      # bound on "eventually consistent"
OFFSETS = {"registry": 0, "token": 1, "catalog": 2, "syncer": 3, "audit": 4, "webui": 5}


@dataclass(frozen=True)
class Admin:
    """The stack's admin and an application token."""

    username: str
    password: str
    token: str

    @property
    def creds(self) -> str:
        """``user:secret`` for registry clients."""
        return f"{self.username}:{self.token}"

    @property
    def headers(self) -> dict[str, str]:
        """Portus-Auth for the REST API."""
        return {"Portus-Auth": f"{self.username}:{self.token}"}


@dataclass
class Outcome:
    """What happened to one tag's push, as the client saw it."""

    tag: str
    digest: str
    attempts: int = 0
    ok: bool = False
    errors: list[str] = field(default_factory=list)


class PushStream:
    """``count`` distinct tags of ``repo`` pushed by ``WORKERS`` skopeo processes
    in the background; a push that fails is retried like a user would."""

    def __init__(self, stack: RunningStack, creds: str, repo: str, workdir: Path,
                 count: int = PUSHES) -> None:
        self.skopeo = Skopeo(stack.host)
        self.creds = creds
        self.repo = repo
        self.layout = workdir / f"layout-{repo.replace('/', '_')}"
        digests = tagged_images(self.layout, [f"t{i:04d}" for i in range(count)], repo)
        self.outcomes = [Outcome(tag, digest) for tag, digest in digests.items()]
        self.done = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def start(self) -> PushStream:
        """Begin pushing in the background."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(self._push, self.outcomes))

    def _push(self, outcome: Outcome) -> None:
        deadline = time.monotonic() + RETRY_FOR
        while True:
            outcome.attempts += 1
            try:
                res = self.skopeo.push(self.layout, outcome.tag, self.repo, self.creds)
            except subprocess.TimeoutExpired:
                res = Result(-1, "", "timed out")
            if res.ok:
                outcome.ok = True
                break
            outcome.errors.append(res.err.strip()[-300:])
            if time.monotonic() > deadline:
                break
            time.sleep(1)
        with self._lock:
            self.done += 1

    def wait_for(self, done: int, timeout: float = 120) -> None:
        """Block until at least ``done`` tags are finished."""
        deadline = time.monotonic() + timeout
        while self.done < done and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.done >= done, f"only {self.done} of {done} pushes finished"

    def finish(self, timeout: float = 300) -> list[Outcome]:
        """Wait for every push; every tag must have been pushed in the end."""
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "pushes still running"
        failed = [o for o in self.outcomes if not o.ok]
        assert not failed, f"{len(failed)} pushes never succeeded: {failed[:3]}"
        # Shown with `pytest -rP`: how hard the fault hit the clients.
        print(f"{self.repo}: {len(self.outcomes)} tags in "
              f"{time.monotonic() - self._started:.0f} s, {self.retried} retried, "
              f"{sum(o.attempts for o in self.outcomes)} attempts")
        return self.outcomes

    @property
    def retried(self) -> int:
        """How many tags needed more than one attempt."""
        return sum(1 for o in self.outcomes if o.attempts > 1)


class Faults:
    """Fault injection and inspection of one running stack."""

    def __init__(self, stack: RunningStack, admin: Admin, servers: Servers) -> None:
        self.stack = stack
        self.admin = admin
        self.servers = servers

    # -- the stack's parts -------------------------------------------------
    def url(self, part: str) -> str:
        """Direct URL of a part (not through the ingress)."""
        return f"http://127.0.0.1:{self.stack.port_base + OFFSETS[part]}"

    def pid(self, program: str) -> int:
        """The pid supervisord reports for ``program`` (0 when not running)."""
        out = self.stack.supervisorctl("pid", program).strip()
        return int(out) if out.isdigit() else 0

    def kill9(self, pid: int) -> None:
        """SIGKILL one process."""
        os.kill(pid, 9)

    def crash(self, program: str, timeout: float = 30) -> None:
        """SIGKILL a supervised program and wait for supervisord to restart it."""
        before = self.pid(program)
        assert before > 0, f"{program} is not running"
        self.kill9(before)
        self.wait_until(lambda: self.pid(program) not in (0, before), timeout,
                        f"supervisord to restart {program}")

    def children(self, pid: int) -> list[int]:
        """Direct children of ``pid`` (gunicorn's workers)."""
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                             check=False)
        return [int(p) for p in out.stdout.split()]

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``check`` until it holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def health(self, part: str) -> int:
        """Status of ``GET /api/v1/health`` of one service (599: no answer)."""
        try:
            return requests.get(self.url(part) + "/api/v1/health", timeout=10).status_code
        except requests.RequestException:
            return 599

    def healthy(self, *parts: str) -> bool:
        """True when every part's health endpoint answers 200."""
        return all(self.health(p) == 200 for p in parts)

    # -- outages of the engines (the stack's own servers, really stopped) ----
    @contextmanager
    def bus_outage(self, crash: bool = False) -> Iterator[None]:
        """The stack's RabbitMQ node stopped for the block (SIGTERM, or SIGKILL
        with ``crash``) and started again afterwards, same port, same data."""
        with self._stopped(self.servers.mq, crash):
            yield

    @contextmanager
    def database_outage(self, crash: bool = False) -> Iterator[None]:
        """The stack's MariaDB server stopped for the block (SIGTERM, or SIGKILL
        with ``crash``) and started again afterwards, same port, same data."""
        with self._stopped(self.servers.db, crash):
            yield

    @contextmanager
    def _stopped(self, server: MariaDBServer | RabbitMQNode,
                 crash: bool) -> Iterator[None]:
        server.stop(crash=crash)
        try:
            yield
        finally:
            server.start()

    # -- what Berth recorded -------------------------------------------------
    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        """An admin request through the ingress."""
        return self.stack.api(method, path, headers=self.admin.headers, **kw)

    def catalog_tags(self, repo: str) -> dict[str, str]:
        """tag -> digest as the catalog lists them ({} while the repo is unknown)."""
        resp = self.api("GET", "/api/v1/repositories", params={"all": "true"})
        resp.raise_for_status()
        found = [r for r in resp.json() if r["full_name"] == repo]
        if not found:
            return {}
        tags = self.api("GET", f"/api/v1/repositories/{found[0]['id']}/tags",
                        params={"all": "true"})
        tags.raise_for_status()
        return {t["name"]: t["digest"] for t in tags.json()}

    def audit_pushes(self, repo: str, action: str = "repository.push") -> Counter[str]:
        """How many ``action`` records the audit log holds per tag."""
        resp = self.api("GET", "/api/v1/audit", params={
            "action": action, "repository": repo, "all": "true"})
        resp.raise_for_status()
        return Counter(r["target"]["name"].rsplit(":", 1)[1] for r in resp.json())

    def run_reconcile(self) -> dict[str, Any]:
        """``POST /api/v1/sync`` as the admin; the finished run."""
        resp = self.api("POST", "/api/v1/sync", json={})
        assert resp.status_code == 202, resp.text
        path = f"/api/v1/sync/{resp.json()['id']}"
        self.wait_until(lambda: self.api("GET", path).json()["status"] != "running",
                        60, "the reconcile to finish")
        run: dict[str, Any] = self.api("GET", path).json()
        return run

    def assert_converges(self, repo: str, outcomes: list[Outcome],
                         timeout: float = CONVERGE_WITHIN, action: str | None = None,
                         ) -> None:
        """Within ``timeout``: the catalog lists exactly the pushed tags with their
        digests; the audit log holds one push record per tag (a retried push may
        have reached the registry more than once, never more than it was tried).
        With ``action``, one record of that action may stand in for the push."""
        expected = {o.tag: o.digest for o in outcomes}
        started = time.monotonic()
        problems: list[str] = ["not checked yet"]
        while time.monotonic() < started + timeout:
            problems = self._problems(repo, expected, outcomes, action)
            if not problems:
                print(f"{repo}: converged {time.monotonic() - started:.0f} s "
                      "after the last push")
                return
            time.sleep(1)
        raise AssertionError(f"{repo} did not converge: {problems[:10]}")

    def _problems(self, repo: str, expected: dict[str, str],
                  outcomes: list[Outcome], action: str | None) -> list[str]:
        problems: list[str] = []
        listed = self.catalog_tags(repo)
        missing = sorted(set(expected) - set(listed))
        extra = sorted(set(listed) - set(expected))
        wrong = sorted(t for t in set(expected) & set(listed) if listed[t] != expected[t])
        if missing:
            problems.append(f"catalog misses {len(missing)}: {missing[:5]}")
        if extra:
            problems.append(f"catalog has unexpected {extra[:5]}")
        if wrong:
            problems.append(f"catalog has wrong digests for {wrong[:5]}")
        pushes = self.audit_pushes(repo)
        instead = self.audit_pushes(repo, action) if action else Counter[str]()
        for o in outcomes:
            seen = pushes.get(o.tag, 0)
            if instead.get(o.tag, 0) > 1:
                problems.append(f"audit holds {instead[o.tag]} {action} of {o.tag}")
            if seen + instead.get(o.tag, 0) == 0:
                problems.append(f"audit misses the push of {o.tag}")
            elif seen > o.attempts:
                problems.append(f"audit holds {seen} pushes of {o.tag} "
                                f"({o.attempts} attempts)")
        unknown = (set(pushes) | set(instead)) - set(expected)
        if unknown:
            problems.append(f"audit holds pushes of unknown tags {sorted(unknown)[:5]}")
        return problems
