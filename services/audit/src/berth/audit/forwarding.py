"""Forwarding records to a syslog collector (RFC 5424), optional.

A record is sent after its transaction commits, so the collector never sees
a record the log does not have. Delivery is best effort: a collector that is
down costs a log line and a counter, never a lost or delayed record here;
the log itself stays the source of truth (and can be exported).
UDP sends one datagram per record; TCP uses octet-counting framing
(RFC 6587) over a connection kept open and reopened when it breaks.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog

from berth.audit import metrics
from berth.audit.api.serialize import record_dict
from berth.audit.models import AuditRecord

log = structlog.get_logger(__name__)

FACILITY_LOCAL0 = 16
SEVERITY_NOTICE = 5
SEVERITY_WARNING = 4
# Our private enterprise number placeholder for SD-IDs (RFC 5424 6.3.2).
SD_ID = "berth@32473"
WARNING_ACTIONS = frozenset({"login.failed", "user.admin_grant", "registry.delete",
                             "namespace.delete", "repository.delete", "user.delete"})


def parse_target(url: str) -> tuple[str, str, int]:
    """``udp://host:port`` or ``tcp://host:port`` -> (protocol, host, port)."""
    parts = urlsplit(url)
    if parts.scheme not in {"udp", "tcp"} or not parts.hostname:
        raise ValueError("expected udp://host:port or tcp://host:port")
    return parts.scheme, parts.hostname, parts.port or 514


def _sd_value(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _token(value: str, limit: int) -> str:
    # Header fields are printable US-ASCII without spaces, or "-" when empty.
    clean = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return clean or "-"


def format_record(record: AuditRecord, *, hostname: str, app_name: str,
                  procid: str) -> bytes:
    """One RFC 5424 message: header, structured data, the record as JSON."""
    severity = SEVERITY_WARNING if record.action in WARNING_ACTIONS else SEVERITY_NOTICE
    pri = FACILITY_LOCAL0 * 8 + severity
    stamp = record.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    params = {"id": record.id, "action": record.action, "actor": record.actor_name,
              "target": record.target_name, "namespace": record.namespace,
              "hash": record.hash}
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items()
                               if v is not None) + "]"
    header = (f"<{pri}>1 {stamp} {_token(hostname, 255)} {_token(app_name, 48)} "
              f"{_token(procid, 128)} {_token(record.action, 32)}")
    body = json.dumps(record_dict(record), separators=(",", ":"), ensure_ascii=False)
    return f"{header} {sd} \ufeff{body}".encode()


@dataclass
class SyslogForwarder:
    """Sends records to one collector; thread-safe, never raises."""

    protocol: str
    host: str
    port: int
    app_name: str = "berth-audit"
    timeout: float = 2.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tcp: socket.socket | None = None
        self._hostname = socket.gethostname()
        self._procid = str(__import__("os").getpid())

    @classmethod
    def from_url(cls, url: str, app_name: str = "berth-audit") -> SyslogForwarder:
        """A forwarder for ``udp://host:port`` or ``tcp://host:port``."""
        protocol, host, port = parse_target(url)
        return cls(protocol, host, port, app_name)

    def send(self, record: AuditRecord) -> bool:
        """Forward ``record``; False (logged, counted) when the collector failed."""
        message = format_record(record, hostname=self._hostname,
                                app_name=self.app_name, procid=self._procid)
        try:
            with self._lock:
                if self.protocol == "udp":
                    self._send_udp(message)
                else:
                    self._send_tcp(message)
        except OSError as exc:
            metrics.FORWARDED.labels("failed").inc()
            log.warning("audit_forward_failed", record_id=record.id,
                        error=str(exc)[:200])
            return False
        metrics.FORWARDED.labels("sent").inc()
        return True

    def _send_udp(self, message: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(message, (self.host, self.port))

    def _send_tcp(self, message: bytes) -> None:
        framed = str(len(message)).encode() + b" " + message
        for attempt in (1, 2):
            if self._tcp is None:
                self._tcp = socket.create_connection((self.host, self.port),
                                                     timeout=self.timeout)
            try:
                self._tcp.sendall(framed)
                return
            except OSError:
                self.close_locked()
                if attempt == 2:
                    raise

    def close_locked(self) -> None:
        """Drop the TCP connection (caller holds the lock)."""
        if self._tcp is not None:
            try:
                self._tcp.close()
            except OSError:
                pass
            self._tcp = None

    def close(self) -> None:
        """Drop the TCP connection."""
        with self._lock:
            self.close_locked()
