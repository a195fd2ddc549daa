"""The example external consumer sees published events once, from its own queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from berth.common.bus import Bus

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "event_printer.py"


def test_example_consumer_prints_bound_events(berth_home: Path, amqp_url: str,
                                              make_envelope: Callable[..., Any]) -> None:
    queue = f"example-{os.getpid()}-{time.monotonic_ns()}"
    cmd = [sys.executable, str(EXAMPLE), "--home", str(berth_home), "--queue", queue,
           "--bind", "identity.login.#", "--max-events", "2", "--idle-timeout", "20"]
    if amqp_url:
        cmd += ["--amqp-url", amqp_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)   # let it declare and bind its queue
        bus = Bus(amqp_url or None, berth_home, "token")
        failed = make_envelope("identity.login.failed",
                               {"username": "mallory", "reason": "bad_credentials"},
                               producer="token")
        bus.publish([
            make_envelope("catalog.team.created", {"entity_id": 1, "name": "qa"}),
            failed, failed,
            make_envelope("identity.login.succeeded", {"username": "alice"},
                          producer="token"),
        ])
        bus.close()
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["type"] for x in lines] == ["identity.login.failed",
                                          "identity.login.succeeded"]
    assert lines[0]["data"]["username"] == "mallory"


def test_by_default_it_prints_audit_worthy_events_but_not_pulls(
        berth_home: Path, amqp_url: str, make_envelope: Callable[..., Any]) -> None:
    queue = f"example-{os.getpid()}-{time.monotonic_ns()}"
    cmd = [sys.executable, str(EXAMPLE), "--home", str(berth_home), "--queue", queue,
           "--max-events", "2", "--idle-timeout", "20"]
    if amqp_url:
        cmd += ["--amqp-url", amqp_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)
        bus = Bus(amqp_url or None, berth_home, "syncer")
        manifest = {"registry": "r", "repository": "qa/app", "digest": "sha256:1"}
        bus.publish([
            make_envelope("registry.manifest.pulled", manifest, producer="syncer"),
            make_envelope("registry.manifest.pushed", manifest, producer="syncer"),
            make_envelope("catalog.team.created", {"entity_id": 1, "name": "qa"}),
        ])
        bus.close()
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert [json.loads(x)["type"] for x in out.splitlines()] == [
        "registry.manifest.pushed", "catalog.team.created"]


def test_berths_own_queue_names_are_refused(berth_home: Path) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--home", str(berth_home),
                           "--queue", "berth.audit"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 2
    assert "belong to Berth" in proc.stderr
