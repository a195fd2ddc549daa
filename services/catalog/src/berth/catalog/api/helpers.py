"""What every view needs: the unit of work for the caller, lists, bodies."""

from __future__ import annotations

from typing import Any

from berth.catalog.app import CatalogState
from berth.catalog.models import User
from berth.catalog.policy import Subject
from berth.catalog.services.context import Ctx, actor_of
from berth.catalog.services.users import ensure_user_everywhere, upsert_user
from berth.common.auth import current_principal
from berth.common.db import get_session, read_mostly
from berth.common.errors import Unauthorized
from berth.common.web import Page, client_address, pagination_headers
from flask import Response, current_app, jsonify, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def state() -> CatalogState:
    """The app's collaborators."""
    value: CatalogState = current_app.extensions["berth.catalog"]
    return value


def ctx(*, login: bool = False) -> Ctx:
    """The unit of work for the current caller (mirror row ensured first)."""
    principal = current_principal()
    st = state()
    if principal.anonymous and (login or not st.knobs.anonymous_browsing):
        raise Unauthorized("authentication required",
                           headers={"WWW-Authenticate": 'Basic realm="berth"'})
    session = get_session()
    subject = Subject(kind=principal.kind, user_id=principal.id,
                      username=principal.username,
                      admin=principal.admin and not principal.anonymous)
    actor = actor_of(principal, client_address())
    if principal.kind in ("user", "bot") and principal.id is not None:
        uid = principal.id

        def mirror() -> User:
            known = session.get(User, uid)
            if (known is not None and known.username == principal.username
                    and known.bot == (principal.kind == "bot")):
                # Nothing to refresh (the name is unique, so no stale row holds
                # it): no write, no commit, and the request keeps one snapshot.
                return known
            # An API token's admin claim may be up to a token lifetime old: it
            # decides this request, but only events and authorize calls (fresh
            # from the token service) change the mirror's flag.
            user = upsert_user(session, uid, principal.username,
                               admin=principal.admin if known is None else None,
                               bot=principal.kind == "bot")
            if known is None:
                ensure_user_everywhere(session, user, lambda e: st.runtime.outbox.add(
                    session, e, actor=actor))
            session.commit()  # the mirror row must outlive a failing request
            return user

        # Reads (GET) run without SQLite's write lock; a user seen for the first
        # time while the worker writes the same row is retried as a writer.
        user = read_mostly(session, mirror)
        subject = Subject(kind=principal.kind, user_id=user.id, username=user.username,
                          admin=principal.admin, enabled=user.enabled)
        if request.method not in SAFE_METHODS and session.in_transaction():
            # A view that writes begins its own transaction as a writer: on
            # SQLite, a read snapshot that later writes is refused at once
            # (not waited for) when another process has written since it began.
            session.rollback()
    if not subject.enabled:
        raise Unauthorized("this account is disabled")
    return Ctx(session=session, outbox=st.runtime.outbox, knobs=st.knobs,
               subject=subject, actor=actor, lookup_user=st.lookup_user)


def listing(items: list[dict[str, Any]], page: Page | None = None,
            total: int | None = None) -> Response:
    """A JSON array with pagination headers (Portus returns bare arrays)."""
    resp = jsonify(items)
    if page is not None:
        for name, value in pagination_headers(page, total or 0).items():
            resp.headers[name] = value
    return resp


def flag(name: str) -> bool:
    """A boolean query parameter."""
    return request.args.get(name, "false").lower() in {"1", "true", "yes"}
