"""Delivering due rows: claim, send outside any transaction, record.

Rows are claimed by moving their due time past the attempt's timeout (a
lease), so several workers never send the same attempt twice, and a worker
that dies mid-attempt only delays it. Each delivery runs in its own thread:
a slow or failing endpoint holds one thread, never the others' deliveries.
"""

from __future__ import annotations

import base64
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from berth.catalog.models import Webhook, WebhookAttempt, WebhookDelivery, utcnow
from berth.catalog.webhooks.crypto import SIGNATURE_HEADER, Vault, signature
from berth.catalog.webhooks.metrics import ATTEMPTS, DURATION
from berth.catalog.webhooks.payload import ACTIONS
from berth.catalog.webhooks.sender import Outcome, Sender, header_text
from berth.common.db import read_mostly
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)

USER_AGENT = "Berth-Webhook/1"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**(n-1)`` after the n-th failure, capped."""

    max_attempts: int = 6
    base: float = 10.0
    cap: float = 3600.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        return float(min(self.base * 2 ** max(attempts - 1, 0), self.cap))


def request_headers(hook: Webhook, delivery: WebhookDelivery, vault: Vault,
                    body: bytes) -> dict[str, str]:
    """Custom headers first, then Berth's (which custom ones can't forge)."""
    headers = {h.name: h.value for h in hook.headers}
    headers.setdefault("Content-Type", hook.content_type)
    headers["User-Agent"] = USER_AGENT
    if hook.username and hook.password_encrypted:
        pair = f"{hook.username}:{vault.decrypt(hook.password_encrypted)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    headers["X-Berth-Event"] = ACTIONS.get(delivery.event_type, delivery.event_type)
    headers["X-Berth-Delivery"] = delivery.uuid
    headers[SIGNATURE_HEADER] = signature(vault.decrypt(hook.secret_encrypted), body)
    return headers


class Dispatcher:
    """Finds due deliveries and sends them, a bounded number at a time."""

    def __init__(self, sessions: sessionmaker[Session], sender: Sender, vault: Vault,
                 retry: RetryPolicy, *, concurrency: int = 8) -> None:
        self.sessions = sessions
        self.sender = sender
        self.vault = vault
        self.retry = retry
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._inflight: set[Future[None]] = set()
        self._lock = threading.Lock()

    @property
    def lease(self) -> timedelta:
        """How long a claimed attempt is kept from other workers."""
        return timedelta(seconds=self.sender.timeout + 60)

    def claim(self, limit: int, now: datetime | None = None) -> list[int]:
        """Claim up to ``limit`` due deliveries; their ids."""
        when = now or utcnow()
        with self.sessions() as session:
            # Polled twice a second: on SQLite it must not take the write lock
            # unless something is due.
            return read_mostly(session, lambda: self._claim(session, limit, when))

    def _claim(self, session: Session, limit: int, now: datetime) -> list[int]:
        claimed: list[int] = []
        due = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .where(WebhookDelivery.state == "pending",
                   WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)).all()
        for delivery_id, due_at in due:
            result = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id,
                       WebhookDelivery.state == "pending",
                       WebhookDelivery.next_attempt_at == due_at)
                .values(next_attempt_at=now + self.lease))
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(delivery_id)
        session.commit()
        return claimed

    def attempt(self, delivery_id: int) -> str:
        """Send one claimed delivery and record the attempt; its new state."""
        with self.sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return "gone"
            hook = delivery.webhook
            if not hook.enabled:
                delivery.state, delivery.error = "skipped", "the webhook is disabled"
                delivery.next_attempt_at = None
                session.commit()
                return "skipped"
            body = delivery.request_body.encode()
            method, url = hook.request_method, hook.url
            problem: str | None = None
            try:
                headers = request_headers(hook, delivery, self.vault, body)
            except ValueError as exc:  # the key changed: retrying won't help soon
                headers, problem = {}, str(exc)
        # The session is closed: no transaction stays open during the request.
        if problem is not None:
            return self._record(delivery_id, None, problem, "")
        outcome = self.sender.send(method, url, headers, body)
        DURATION.observe(outcome.duration_ms / 1000)
        return self._record(delivery_id, outcome, outcome.error or "",
                            header_text(headers))

    def _record(self, delivery_id: int, outcome: Outcome | None, error: str,
                sent_headers: str) -> str:
        with self.sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:  # the webhook was deleted meanwhile
                return "gone"
            delivery.attempts += 1
            now = utcnow()
            session.add(WebhookAttempt(
                delivery_id=delivery.id, number=delivery.attempts, started_at=now,
                duration_ms=outcome.duration_ms if outcome else 0,
                status=outcome.status if outcome else None, error=error or None,
                request_header=sent_headers,
                response_header=outcome.response_header if outcome else "",
                response_body=outcome.response_body if outcome else ""))
            delivery.request_header = sent_headers
            delivery.status = outcome.status if outcome else None
            delivery.duration_ms = outcome.duration_ms if outcome else None
            delivery.response_header = outcome.response_header if outcome else ""
            delivery.response_body = outcome.response_body if outcome else ""
            delivery.error = (error or None) and error[:500]
            if outcome is not None and outcome.succeeded:
                delivery.state, delivery.next_attempt_at = "succeeded", None
            elif delivery.attempts >= self.retry.max_attempts:
                delivery.state, delivery.next_attempt_at = "failed", None
            else:
                delivery.next_attempt_at = now + timedelta(
                    seconds=self.retry.delay(delivery.attempts))
            state = delivery.state
            session.commit()
        result = "succeeded" if state == "succeeded" else "failed"
        ATTEMPTS.labels(result).inc()
        log.info("webhook_attempt", delivery_id=delivery_id, state=state,
                 status=outcome.status if outcome else None, error=error or None)
        return state

    def run_once(self, now: datetime | None = None) -> list[str]:
        """Claim what is due and send it all, waiting (tests, one-shot runs)."""
        return [self.attempt(i) for i in self.claim(self.concurrency, now)]

    def tick(self) -> int:
        """Start sending newly due deliveries in the pool; how many started."""
        with self._lock:
            self._inflight = {f for f in self._inflight if not f.done()}
            free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        ids = self.claim(free)
        for delivery_id in ids:
            future = self._pool.submit(self._attempt_logged, delivery_id)
            with self._lock:
                self._inflight.add(future)
        return len(ids)

    def _attempt_logged(self, delivery_id: int) -> None:
        try:
            self.attempt(delivery_id)
        except Exception:
            log.exception("webhook_attempt_crashed", delivery_id=delivery_id)

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Tick until ``stop`` is set, then let running attempts finish."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the database may come back
                log.warning("webhook_tick_failed", error=str(exc)[:200])
            stop.wait(interval)
        self._pool.shutdown(wait=True)
        self.sender.close()
