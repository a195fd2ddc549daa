"""Shared helpers of the syncer's tests: API tokens, the notification relay,
reading the outbox."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from berth.common.bus import Bus, queues_for
from berth.common.runtime import Runtime
from berth.common.signing import Signer, generate_key
from berth.common.testing import free_port
from berth.syncer.models import OUTBOX
from sqlalchemy import select
from werkzeug.serving import make_server

NOTIFY_SECRET = "notify-secret-for-tests"
INTERNAL_SECRET = "internal-secret-for-tests"
ISSUER = "berth-test"
SIGNER = Signer([generate_key()])


def api_token(username: str, admin: bool = False) -> str:
    """An API JWT the test app accepts."""
    token, _ = SIGNER.sign({"sub": username, "aud": "berth-api", "iss": ISSUER,
                            "uid": 1 if admin else 2, "adm": admin}, lifetime=300)
    return token


def bearer(username: str, admin: bool = False) -> dict[str, str]:
    """Authorization header for ``username``."""
    return {"Authorization": f"Bearer {api_token(username, admin)}"}


ADMIN = bearer("admin", admin=True)
USER = bearer("alice")
INTERNAL = {"X-Berth-Internal": INTERNAL_SECRET}


class Relay:
    """A WSGI server on a fixed port forwarding to the current test's app.

    ``mode``: "on" forwards, "drop" answers 200 and forgets (a lost
    notification), "down" answers 503 (the registry retries later).
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v2/webhooks/events"
        self.target: Any = None
        self.mode = "on"
        self.bodies: list[bytes] = []  # what the registry sent, for replays
        self.server = make_server("127.0.0.1", self.port, self, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.bodies.append(body)
        del self.bodies[:-50]
        environ["wsgi.input"] = io.BytesIO(body)
        if self.target is None or self.mode == "drop":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        if self.mode == "down":
            start_response("503 Service Unavailable", [])
            return [b""]
        return self.target(environ, start_response)


def outbox_events(runtime: Runtime, prefix: str = "") -> list[dict[str, Any]]:
    """Every envelope in the outbox (optionally of types starting with prefix)."""
    with runtime.sessions() as s:
        rows = s.execute(select(OUTBOX.c.body).order_by(OUTBOX.c.id)).all()
    events = [json.loads(r.body) for r in rows]
    return [e for e in events if e["type"].startswith(prefix)]


def drain(bus: Bus, consumer: str) -> list[dict[str, Any]]:
    """Take every message waiting in ``consumer``'s queue."""
    out = []
    with bus.connection() as conn:
        bus.declare(conn)
        queue = queues_for(consumer)[0](conn.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            body = message.payload
            out.append(json.loads(body) if isinstance(body, str | bytes) else body)
    return out


def clear_outbox(runtime: Runtime) -> None:
    """Forget what was published so far."""
    with runtime.sessions.begin() as s:
        s.execute(OUTBOX.delete())


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until ``predicate()`` is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
