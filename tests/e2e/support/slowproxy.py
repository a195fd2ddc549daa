"""A TCP proxy on loopback that slows what the client sends (uploads) to a
fixed rate, so a push of a small image lasts as long as a scenario needs.
What the server sends back passes at full speed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

CHUNKS_PER_SECOND = 20


class RateLimit:
    """Bytes per second shared by every connection of one proxy."""

    def __init__(self, rate: int) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 byte/s")
        self.rate = rate
        self.total = 0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    @property
    def chunk(self) -> int:
        """How much to read at once (a twentieth of a second's worth)."""
        return max(1, self.rate // CHUNKS_PER_SECOND)

    def take(self, size: int) -> None:
        """Block until ``size`` more bytes fit within the rate."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + size / self.rate
            self.total += size
        if start > now:
            time.sleep(start - now)


class SlowProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to ``127.0.0.1:target``,
    at most ``rate`` bytes/s upstream. Use as a context manager."""

    def __init__(self, target: int, rate: int) -> None:
        self.target = target
        self.limit = RateLimit(rate)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def sent_upstream(self) -> int:
        """Bytes forwarded from clients to the target so far."""
        return self.limit.total

    @property
    def host(self) -> str:
        """host:port clients connect to."""
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, drop every open connection and wait for the threads."""
        self._stopping.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
        for thread in list(self._threads):
            thread.join(5)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            pair = _Pair(client, server)
            self._spawn(self._pump, client, server, True, pair)
            self._spawn(self._pump, server, client, False, pair)

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool,
              pair: _Pair) -> None:
        size = self.limit.chunk if upstream else 65536
        try:
            while True:
                data = src.recv(size)
                if not data:
                    break
                if upstream:
                    self.limit.take(len(data))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            # Pass the half-close on; both sockets close once both directions end.
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            pair.pump_ended()


class _Pair:
    """The two sockets of one connection, closed when both pumps have ended."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.sockets = (client, server)
        self.running = 2
        self.lock = threading.Lock()

    def pump_ended(self) -> None:
        with self.lock:
            self.running -= 1
            last = self.running == 0
        if last:
            for sock in self.sockets:
                _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
