"""Syslog forwarding (RFC 5424 over UDP and TCP), after commit, best effort."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.config import AuditConfig
from berth.audit.forwarding import SyslogForwarder, format_record, parse_target
from berth.audit.worker import make_worker
from berth.common.bus import Bus
from berth.common.config import ConfigError, load

HEADER = re.compile(
    r"^<(?P<pri>\d+)>1 (?P<ts>\S+Z) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) "
    r"(?P<msgid>\S+) \[berth@32473 (?P<sd>[^]]*(?:\\\][^]]*)*)\] \ufeff(?P<msg>.*)$",
    re.DOTALL)


@pytest.fixture
def udp_collector() -> Iterator[tuple[int, list[bytes]]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    received: list[bytes] = []

    def serve() -> None:
        try:
            received.append(sock.recv(65535))
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], received
    thread.join(timeout=6)
    sock.close()


def test_message_follows_rfc5424(record: Callable[..., Any]) -> None:
    rec = record("identity.login.failed",
                 {"username": 'mal"lo]ry', "reason": "bad_credentials"})
    raw = format_record(rec, hostname="audit-1", app_name="berth-audit",
                        procid="42").decode()
    m = HEADER.match(raw)
    assert m, raw
    assert m["pri"] == str(16 * 8 + 4)          # local0.warning for failed logins
    assert (m["host"], m["app"], m["proc"], m["msgid"]) == (
        "audit-1", "berth-audit", "42", "login.failed")
    assert 'actor="mal\\"lo\\]ry"' in m["sd"]
    assert f'hash="{rec.hash}"' in m["sd"]
    import json

    assert json.loads(m["msg"])["id"] == rec.id


def test_udp_forwarding_after_commit(udp_collector: tuple[int, list[bytes]],
                                     sessions: sessionmaker[Session],
                                     berth_home: Path,
                                     make_envelope: Callable[..., Any]) -> None:
    port, received = udp_collector
    forwarder = SyslogForwarder.from_url(f"udp://127.0.0.1:{port}")
    worker = make_worker(Bus(None, berth_home, "audit"), sessions, forwarder)
    env = make_envelope("catalog.namespace.visibility_changed",
                        {"entity_id": 1, "name": "qa"})
    assert worker.handle_body(env.to_json()) == "processed"
    assert worker.handle_body(env.to_json()) == "duplicate"
    for _ in range(50):
        if received:
            break
        threading.Event().wait(0.1)
    assert len(received) == 1
    assert b" namespace.change_visibility [berth@32473 " in received[0]


def test_tcp_forwarding_uses_octet_counting() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    chunks: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        conn.settimeout(5)
        with conn:
            while True:
                data = conn.recv(65535)
                if not data:
                    break
                chunks.append(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    from datetime import datetime

    from berth.audit.models import AuditRecord

    rec = AuditRecord(id=1, event_id="e", event_type="t", action="team.create",
                      occurred_at=datetime(2026, 1, 1), recorded_at=datetime(2026, 1, 1),
                      actor_id=None, actor_name="system", details={}, producer="p",
                      prev_hash="0" * 64, hash="a" * 64)
    forwarder = SyslogForwarder.from_url(f"tcp://127.0.0.1:{port}")
    assert forwarder.send(rec) and forwarder.send(rec)
    forwarder.close()
    thread.join(timeout=5)
    server.close()
    data = b"".join(chunks)
    length, _, rest = data.partition(b" ")
    assert rest[:int(length)].startswith(b"<133>1 2026-01-01T00:00:00.000000Z")
    second = rest[int(length):]
    assert second.split(b" ", 1)[0] == length


def test_unreachable_collector_never_fails_recording(record: Callable[..., Any]) -> None:
    from berth.common.testing import free_port

    rec = record("catalog.team.created", {"entity_id": 1, "name": "qa"})
    forwarder = SyslogForwarder.from_url(f"tcp://127.0.0.1:{free_port()}")
    assert forwarder.send(rec) is False


@pytest.mark.parametrize("url", ["http://x:1", "udp://", "syslog"])
def test_bad_syslog_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        load(AuditConfig, {"BERTH_AUDIT_SYSLOG_URL": url})


def test_parse_target_defaults_to_514() -> None:
    assert parse_target("udp://collector") == ("udp", "collector", 514)
