"""Fixtures shared by the suites under tests/: one running stack per session
(started as `make run` starts it), reused by e2e, security and bench scenarios."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import browser
from tests.e2e.support.stack import RunningStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The whole stack in embedded mode, started as `make run` starts it."""
    s = RunningStack(tmp_path_factory.mktemp("berth") / "home")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def admin(stack: RunningStack) -> dict[str, str]:
    """The bootstrapped admin: username, password and application token."""
    body = {"user": {"username": "admin", "email": "admin@example.test",
                     "password": "correct-horse-battery"}}
    resp = stack.api("POST", "/api/v1/users/bootstrap", json=body)
    assert resp.status_code == 201, resp.text
    return {"username": "admin", "password": "correct-horse-battery",
            "token": resp.json()["plain_token"]}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch directory for one scenario."""
    return tmp_path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed scenario on a running stack reports the stack's newest error
    lines: its temporary home (and the logs in it) is gone by the time a
    failure is read."""
    report = yield
    stacks = [value for value in getattr(item, "funcargs", {}).values()
              if isinstance(value, RunningStack)]
    if report.failed and stacks:
        lines = [line for s in stacks for line in s.error_lines()]
        report.sections.append(("stack errors", "\n".join(lines) or "(none)"))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the browser scenarios left their screenshots."""
    used = browser.USED or ({browser.artifacts_dir()}
                            if browser.artifacts_dir().is_dir() else set())
    for directory in sorted(used):
        terminalreporter.write_line(f"web UI screenshots: {directory}")
