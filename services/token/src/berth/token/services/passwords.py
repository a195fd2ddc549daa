"""Password hashing (argon2id) and the in-process cache of recent verifications.

Why the cache: docker sends Basic credentials on every ``/v2/token`` request (a
pull of one image is several), and an argon2 verification costs tens of
milliseconds of CPU and 64 MiB by design. Hashing on every request would make
the token endpoint the bottleneck of every pull and push.

Why it is safe:

* Application tokens need no cache at all: they are 32 random bytes, so
  SHA-256 of the token (one indexed lookup) is as strong as any slow hash;
  slow hashes only protect low-entropy secrets such as passwords.
* For passwords the cache remembers only *successful* verifications, keyed by
  an HMAC under a random key created when the process starts (never stored,
  never shared) over the user id, the password, the password hash and its
  change time. Nothing in memory lets anyone recover a password, and a wrong
  password never matches an entry, so a failed login always pays for argon2
  (and counts towards throttling).
* The user row is read from the database on every request, so disabling a user
  takes effect at once in every process; changing the password changes the
  hash and its time stamp, so old entries stop matching in every process. The
  process that made the change also drops them at once.
* Entries live ``ttl`` seconds (default 60) and the cache is bounded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    """argon2id hashing; verification never raises for a wrong password."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        # A real hash to verify against when the user does not exist, so the
        # answer takes as long as for a real user.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a missing hash still costs one verify."""
        try:
            return self.hasher.verify(password_hash or self._dummy, password) and \
                password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def waste_time(self, password: str) -> None:
        """Spend what a verification costs (unknown users, token-only accounts)."""
        self.verify(None, password)


class VerificationCache:
    """Remembers successful password checks for a short time (see module doc)."""

    def __init__(self, ttl: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[float, int]] = {}
        # Users that may have entries: a user with none (an application token's
        # owner, say) is a miss without computing the HMAC. Never missing a
        # user that has entries; may hold one whose entries expired.
        self._users: set[int] = set()
        self._lock = threading.Lock()
        self._inflight: dict[bytes, list[Any]] = {}  # key -> [lock, holders]

    def _digest(self, user_id: int, password: str, password_hash: str | None,
                changed_at: datetime | None) -> bytes:
        stamp = f"{user_id}\0{password_hash or ''}\0{changed_at.isoformat() if changed_at else ''}\0"
        return hmac.new(self._key, stamp.encode() + password.encode(),
                        hashlib.sha256).digest()

    def hit(self, user_id: int, password: str, password_hash: str | None,
            changed_at: datetime | None) -> bool:
        """True when this exact password was verified for this user lately."""
        if self.ttl <= 0 or user_id not in self._users:
            return False
        digest = self._digest(user_id, password, password_hash, changed_at)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return False
            if entry[0] < time.monotonic():
                del self._entries[digest]
                return False
            return True

    def remember(self, user_id: int, password: str, password_hash: str | None,
                 changed_at: datetime | None) -> None:
        """Record a successful verification."""
        if self.ttl <= 0:
            return
        digest = self._digest(user_id, password, password_hash, changed_at)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._users = {entry[1] for entry in self._entries.values()}
            self._entries[digest] = (time.monotonic() + self.ttl, user_id)
            self._users.add(user_id)

    @contextmanager
    def exclusive(self, username: str, secret: str) -> Iterator[bool]:
        """Hold off other logins with this very name and secret in this process
        until the block ends; yields True when it had to wait for one.

        A client's first requests come in parallel with one password (docker
        asks for a token per layer): without this each would pay for argon2
        (64 MiB each) at once. With it the first verifies and the others, once
        it has committed, find its result in the cache."""
        key = hmac.new(self._key, f"{len(username)}:{username}:{secret}".encode(),
                       hashlib.sha256).digest()
        with self._lock:
            slot = self._inflight.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        lock: threading.Lock = slot[0]
        try:
            waited = not lock.acquire(blocking=False)
            if waited:
                lock.acquire()
            try:
                yield waited
            finally:
                lock.release()
        finally:
            with self._lock:
                slot[1] -= 1
                if slot[1] == 0:
                    del self._inflight[key]

    def forget_user(self, user_id: int) -> None:
        """Drop every entry of ``user_id`` (password change, disable, delete)."""
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[1] != user_id}
            self._users.discard(user_id)

    def __len__(self) -> int:
        return len(self._entries)


def token_digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy token (application and refresh tokens)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    """A new random token: 32 bytes, URL-safe."""
    return secrets.token_urlsafe(32)
