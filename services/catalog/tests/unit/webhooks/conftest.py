"""A local HTTP receiver for webhook tests (127.0.0.1 only) and a dispatcher
bound to a test app."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from berth.catalog.webhooks.dispatcher import Dispatcher, RetryPolicy
from berth.catalog.webhooks.runtime import EXTENSION
from berth.catalog.webhooks.sender import Sender
from berth.catalog.webhooks.ssrf import AddressPolicy

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next status of ``statuses`` (then 200)."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Received(self.command, self.path,
                                           dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            reply = f"answer {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("X-Receiver", "test")
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = _any

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def dispatcher_for(world: Any, allowed: Any = LOCAL, attempts: int = 3) -> Dispatcher:
    """A dispatcher over the world's database (retry after 2 s, then 4 s...)."""
    state = world.app.extensions["berth.catalog"]
    hooks = world.app.extensions[EXTENSION]
    return Dispatcher(state.runtime.sessions, Sender(AddressPolicy(allowed), 5.0),
                      hooks.vault, RetryPolicy(max_attempts=attempts, base=2.0,
                                               cap=10.0))
