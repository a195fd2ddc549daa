"""The embedded (server-less) bus transport: kombu's filesystem transport made
at-least-once.

kombu's own filesystem transport deletes a message file as soon as a consumer
takes it, so a consumer killed before it acks loses that message. Here a taken
message moves to an ``inflight`` folder and is deleted only on ack; a consumer
starting on a queue first moves that queue's in-flight files back (it is the
queue's only consumer in embedded mode). Writes are atomic (temp file, rename).

Taking a message does not list the folder each time: one sorted listing
serves a queue until it is used up (names start with the publish time, so
the order stays first in, first out); a name another process took in the
meantime is skipped.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps, loads


# Orders the messages one process publishes within the same millisecond (the
# uuid after it would order them at random).
_SEQUENCE = itertools.count()


class Channel(filesystem.Channel):
    """A filesystem channel that keeps taken messages until they are acked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inflight: dict[str, Path] = {}
        # queue -> names of its messages from the last listing, oldest first.
        self._listed: dict[str, deque[str]] = {}
        self._tables: dict[str, tuple[tuple[int, int, int], list[Any]]] = {}

    @property
    def inflight_folder(self) -> Path:
        """Where taken but unacknowledged messages wait."""
        return Path(self.transport_options["inflight_folder"])

    def get_table(self, exchange: str) -> list[Any]:
        # Read the bindings without a lock: _queue_bind replaces the file
        # atomically, so a reader sees the old table or the new one, never a
        # half-written one (kombu's own version truncates before it locks).
        file = self._exchange_file(exchange)
        try:
            stat = file.stat()
        except FileNotFoundError:
            return []
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = self._tables.get(exchange)
        if cached is not None and cached[0] == key:
            return cached[1]
        table = [filesystem.exchange_queue_t(*q) for q in loads(file.read_bytes())]
        self._tables[exchange] = (key, table)
        return table

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str,
                    queue: str) -> None:
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with open(self.control_folder / f".{exchange}.lock", "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                table = [filesystem.exchange_queue_t(*q)
                         for q in loads(file.read_bytes())]
            except FileNotFoundError:
                table = []
            if entry in table:
                return
            table.insert(0, entry)
            tmp = self.control_folder / f".{exchange}.{os.getpid()}.tmp"
            tmp.write_bytes(dumps(table).encode())
            os.replace(tmp, file)

    # Messages put inside ``batched_puts``, written when it ends (None: at once).
    _puts: list[tuple[str, Any]] | None = None

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        if self._puts is not None:
            self._puts.append((queue, payload))
        else:
            self._write([(queue, payload)])

    @contextmanager
    def batched_puts(self) -> Iterator[None]:
        """Write the messages put inside the block together, when it ends."""
        self._puts = []
        try:
            yield
            self._write(self._puts)
        finally:
            self._puts = None

    def _write(self, puts: list[tuple[str, Any]]) -> None:
        # One message routed to several queues is put once per queue, one
        # after the other: its bytes are written once and every queue gets a
        # hard link to them (a file per queue and message, as consumers
        # expect, for a third of the system calls). Atomic against process
        # crashes (each name appears complete, by link or rename); no fsync
        # per message: the embedded bus trades durability across a power loss
        # for throughput (README, "Embedded mode").
        folder = str(self.data_folder_out)
        i = 0
        while i < len(puts):
            payload = puts[i][1]
            j = i + 1
            while j < len(puts) and (puts[j][1] is payload or puts[j][1] == payload):
                j += 1
            names = [os.path.join(folder, f"{round(monotonic() * 1000):015d}_"
                                          f"{next(_SEQUENCE):012d}_{uuid.uuid4()}."
                                          f"{queue}.msg") for queue, _ in puts[i:j]]
            data = dumps(payload).encode()
            tmp = _write_tmp(folder, data)
            for name in names[:-1]:
                try:
                    os.link(tmp, name)
                except OSError:  # a file system without hard links: a copy
                    os.replace(_write_tmp(folder, data), name)
            os.replace(tmp, names[-1])
            i = j

    def _get(self, queue: str) -> Any:
        folder = Path(self.data_folder_in)
        listed = self._listed.get(queue)
        for _refresh in range(2):
            if not listed:
                listed = self._listed[queue] = self._list(folder, queue)
            while listed:
                name = listed.popleft()
                target = self.inflight_folder / name
                try:
                    os.replace(folder / name, target)
                except OSError:
                    continue  # another consumer took it, or it was purged
                payload = loads(target.read_bytes())
                self._inflight[payload["properties"]["delivery_tag"]] = target
                return payload
        raise filesystem.Empty()

    @staticmethod
    def _list(folder: Path, queue: str) -> deque[str]:
        """The names of ``queue``'s messages in ``folder``, oldest first."""
        wanted = f"{queue}.msg"
        return deque(sorted(name for name in os.listdir(folder)
                            if not name.startswith(".")
                            and name.partition(".")[2] == wanted))

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            path = self._inflight.pop(message.delivery_tag, None)
            if path is not None:
                path.unlink(missing_ok=True)
        return message

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple)
        path = self._inflight.pop(delivery_tag, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        # Never let kombu re-route a requeued message through the exchange: it
        # would copy it to every queue bound to the routing key.
        self.qos.ack(delivery_tag)
        path = self._inflight.pop(delivery_tag, None)
        if path is None:
            return
        if requeue:
            os.replace(path, Path(self.data_folder_in) / path.name)
        else:
            path.unlink(missing_ok=True)

    def _restore(self, message: Any) -> None:
        # Unacked messages of a channel that closes come back here. kombu would
        # publish a copy through the exchange (to every queue bound to the
        # routing key) and leave the in-flight file to be recovered later:
        # a duplicate for this queue and a stray copy for the others.
        path = self._inflight.pop(message.delivery_tag, None)
        if path is not None:
            try:
                os.replace(path, Path(self.data_folder_in) / path.name)
            except FileNotFoundError:
                pass  # recovered by a consumer starting meanwhile

    def recover_inflight(self, queue: str) -> int:
        """Put back every message of ``queue`` that a dead consumer had taken."""
        wanted = f"{queue}.msg"
        moved = 0
        for name in sorted(os.listdir(self.inflight_folder)):
            if name.partition(".")[2] == wanted:
                os.replace(self.inflight_folder / name,
                           Path(self.data_folder_in) / name)
                moved += 1
        return moved


def _write_tmp(folder: str, data: bytes) -> str:
    """A new hidden file in ``folder`` holding ``data`` (consumers skip dot files)."""
    tmp = os.path.join(folder, f".{uuid.uuid4()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    return tmp


class Transport(filesystem.Transport):
    """Register as ``berthfs://`` (see :func:`berth.common.bus.connection_for`)."""

    Channel = Channel
    driver_name = "berthfs"
    # kombu keeps one broker state per process; bindings it remembers are not
    # written again, so a process using two homes (tests) needs one per home.
    _states: dict[str, virtual.BrokerState] = {}

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        folder = str(client.transport_options.get("control_folder", ""))
        self.state = self._states.setdefault(folder, virtual.BrokerState())


def transport_options(home: Path) -> dict[str, Any]:
    """Folders under ``home`` used by the embedded bus, created if missing."""
    base = home / "bus"
    folders = {"data": base / "queue", "inflight_folder": base / "inflight",
               "control_folder": base / "control"}
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folders["data"]),
        "data_folder_out": str(folders["data"]),
        "inflight_folder": str(folders["inflight_folder"]),
        "control_folder": str(folders["control_folder"]),
        "polling_interval": 0.05,
    }
