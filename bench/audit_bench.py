"""Audit: ingest rate from the bus, filtered query p99 and chain verification.

Ingest: the audit worker is stopped, N events are published to the bus, the
worker is started again, and the rate is measured between the first record
and the last (the worker's own start-up is not counted). The log is then grown
to each size through the service's own batch append (what the consumer calls
for a batch of events), in process and in large batches, so a million records
take minutes, and queried and verified over HTTP on the audit service's port.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import select

from bench import plot
from bench.latency import Timing, measure
from bench.report import Row
from tests.e2e.support.stack import RunningStack

INGEST_TARGET = 2000.0
QUERY_TARGET_MS = 100.0
VERIFY_TARGET_S = 60.0
COMMIT_EVERY = 5000  # records per seeding transaction


def _envelope(i: int):  # type: ignore[no-untyped-def]
    from berth.common.events.base import Actor, Envelope
    from berth.common.events.catalog import TagPushed

    user = i % 50
    event = TagPushed(entity_id=i, name=f"v{i % 7}", namespace=f"team{i % 20:02d}",
                      repository=f"team{i % 20:02d}/app{i % 997:04d}",
                      registry="bench", details={"digest": f"sha256:{i:064x}"})
    return Envelope.wrap(event, producer="bench", actor=Actor(
        id=1000 + user, name=f"user{user:02d}", address="127.0.0.1"),
        event_id=f"bench-{uuid.uuid4().hex}")


class AuditLog:
    """Direct access to the audit database: its head, and bulk appends."""

    def __init__(self, database_url: str) -> None:
        from berth.common.db import make_engine, make_sessionmaker

        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)

    def head(self) -> int:
        """The chain's length."""
        from berth.audit.models import ChainHead

        with self.sessions() as s:
            return int(s.scalar(select(ChainHead.last_seq)) or 0)

    def grow(self, total: int, start: int) -> float:
        """Append records through the recorder's batch path up to ``total``;
        return the records appended per second."""
        from berth.audit.services.recorder import append_rows

        i = start
        added = 0
        started = time.perf_counter()
        while (missing := total - self.head()) > 0:
            count = min(COMMIT_EVERY, missing)
            with self.sessions() as s:
                append_rows(s, [_envelope(i + k) for k in range(count)])
                s.commit()
            i += count
            added += count
        elapsed = time.perf_counter() - started
        return added / elapsed if added and elapsed > 0 else 0.0

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


def ingest(stack: RunningStack, log: AuditLog, count: int, amqp_url: str | None
           ) -> float:
    """Events per second the audit worker stores from the bus."""
    from berth.common.bus import Bus

    stack.supervisorctl("stop", "audit-worker")
    base = log.head()
    bus = Bus(amqp_url or None, stack.home, "bench")
    try:
        for start in range(0, count, 500):
            bus.publish([_envelope(i) for i in range(start, min(count, start + 500))])
    finally:
        bus.close()
    stack.supervisorctl("start", "audit-worker")
    deadline = time.monotonic() + max(120.0, count / 100)
    first_at, first_count = None, base
    while time.monotonic() < deadline:
        now_count = log.head()
        now = time.monotonic()
        if first_at is None and now_count > base:
            first_at, first_count = now, now_count
        if now_count >= base + count:
            assert first_at is not None
            span = now - first_at
            return (now_count - first_count) / span if span > 0 else float("inf")
        time.sleep(0.05)
    raise RuntimeError(f"audit stored {log.head() - base} of {count} events in time")


def run(stack: RunningStack, database_url: str, token: str, *, ingest_count: int,
        sizes: list[int], queries: int, label: str, amqp_url: str | None = None,
        plot_dir: Path | None = None) -> list[Row]:
    """Ingest, then grow to each size and query and verify there."""
    log = AuditLog(database_url)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    base = f"http://127.0.0.1:{stack.port_base + 4}/api/v1/audit"
    rows: list[Row] = []
    query_points: dict[str, list[tuple[float, float]]] = {"query p99 (worst filter)": []}
    verify_points: dict[str, list[tuple[float, float]]] = {"verify": []}
    try:
        rate = ingest(stack, log, ingest_count, amqp_url)
        rows.append(Row(benchmark="audit", case=f"{label}, ingest {ingest_count} events",
                        berth=f"{rate:.0f} events/s", baseline="—", ratio=None,
                        target=f"≥ {INGEST_TARGET:.0f} events/s",
                        met=rate >= INGEST_TARGET, raw={"events_per_s": rate}))
        stack.supervisorctl("stop", "audit-worker")  # one writer while seeding
        for size in sorted(sizes):
            seed_rate = log.grow(size, start=size * 10)
            # Growing to a million records outlasts an API token (15 minutes).
            from bench.catalog_bench import api_token

            http.headers["Authorization"] = f"Bearer {api_token(stack)}"
            print(f"bench: audit log at {size} records (seeded at "
                  f"{seed_rate:.0f} records/s)", file=sys.stderr, flush=True)
            cases = {"actor": f"{base}?actor=user07",
                     "repository": f"{base}?repository=team03/app0042",
                     "action+since": f"{base}?target_type=tag&since=2000-01-01T00:00:00Z",
                     "text": f"{base}?q=app0042"}
            timings: dict[str, Timing] = {k: measure(http, u, queries)
                                          for k, u in cases.items()}
            started = time.perf_counter()
            try:
                resp = http.get(f"{base}/verify", timeout=3600)
                intact = resp.ok and bool(resp.json().get("intact"))
            except requests.RequestException as exc:  # keep the sizes measured so far
                print(f"bench: audit verify at {size} records failed: {exc}",
                      file=sys.stderr, flush=True)
                intact = False
            verify_s = time.perf_counter() - started
            worst = max(t.p99_ms for t in timings.values())
            query_points["query p99 (worst filter)"].append((size, worst))
            verify_points["verify"].append((size, verify_s))
            rows.append(Row(
                benchmark="audit", case=f"{label}, {size} records",
                berth=("; ".join(f"{k} {t.text()}" for k, t in timings.items())
                       + f"; verify {verify_s:.2f} s ({'intact' if intact else 'BROKEN'})"),
                baseline="—", ratio=None,
                target=f"p99 ≤ {QUERY_TARGET_MS:.0f} ms; verify ≤ {VERIFY_TARGET_S:.0f} s",
                met=worst <= QUERY_TARGET_MS and verify_s <= VERIFY_TARGET_S and intact,
                raw={"queries": {k: vars(t) for k, t in timings.items()},
                     "verify_s": verify_s, "intact": intact,
                     "seed_records_per_s": seed_rate}))
    finally:
        stack.supervisorctl("start", "audit-worker")
        log.close()
    plot.lines("audit-query", "records", "p99 ms", query_points, plot_dir)
    plot.lines("audit-verify", "records", "seconds", verify_points, plot_dir)
    return rows
