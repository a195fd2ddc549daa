"""Checking a long chain's id ranges in several processes.

Each record stores its predecessor's hash, so its own hash can be recomputed
without the records before it. Worker processes each check one id range at a
time (:func:`berth.audit.services.verification.check_range`) and report where
the range starts, how far it verified and its first record that does not fit;
the caller joins the ranges in id order, which is where the first record of a
range is checked against the last hash of the range before it.

Workers are started with ``spawn``: the API verifies from a threaded gunicorn
worker, and a process forked while other threads run may inherit a lock one
of them held. Each worker opens its own engine from the database URL (an
engine's connections must never cross a process boundary) and reads through
a read-only connection, in batches, so a large range never sits in memory.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Generator
from concurrent.futures import Future, ProcessPoolExecutor

from sqlalchemy.engine import Engine

from berth.audit.services.verification import Segment, check_range
from berth.common.db import make_engine, read_only_connection

# Ranges per process: more than one evens out the work between processes and
# lets a verification that found a broken record stop sooner.
RANGES_PER_PROCESS = 4
# Fresh interpreters: safe from any parent (see above); each takes about a
# second to import what it needs.
START_METHOD = "spawn"

_engine: Engine | None = None


def ranges(after: int, last_id: int, count: int) -> list[tuple[int, int]]:
    """At most ``count`` consecutive ``(after, upto]`` id ranges, as even as
    possible, covering the ids after ``after`` up to ``last_id``."""
    total = last_id - after
    if total <= 0:
        return []
    size = -(-total // max(1, count))
    return [(start, min(start + size, last_id))
            for start in range(after, last_id, size)]


def segments(database_url: str, after: int, last_id: int, *, processes: int,
             batch: int) -> Generator[Segment, None, None]:
    """Check the ids after ``after`` up to ``last_id`` in ``processes`` worker
    processes; yield each range's :class:`Segment` in id order.

    Closing the iterator early (the caller found a broken record) cancels the
    ranges not started yet and waits for the running ones."""
    context = multiprocessing.get_context(START_METHOD)
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_open,
                             initargs=(database_url,)) as pool:
        futures: list[Future[Segment]] = [
            pool.submit(_check, start, upto, batch)
            for start, upto in ranges(after, last_id, processes * RANGES_PER_PROCESS)]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _open(database_url: str) -> None:
    global _engine  # one engine per worker process
    _engine = make_engine(database_url)


def _check(after: int, upto: int, batch: int) -> Segment:
    assert _engine is not None, "worker started without its engine"
    with read_only_connection(_engine) as conn:
        return check_range(conn, after, upto, batch)
