"""Users the catalog has not heard of yet, looked up at the token service.

The catalog learns about users from ``identity.user.*`` events. Between a
user's creation and the catalog consuming that event, a team owner adding the
new user by name would be told the user does not exist; instead the name is
looked up at the token service (``GET /internal/v1/users?username=``) and the
mirror row is created on the spot, exactly as the event would have done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import requests
import structlog
from berth.common.auth import INTERNAL_HEADER
from berth.common.config import Secret
from berth.common.errors import Unavailable
from berth.common.http import make_session

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class KnownUser:
    """A user as the token service knows them."""

    id: int
    username: str
    admin: bool
    enabled: bool
    bot: bool


UserLookup = Callable[[str], "KnownUser | None"]


class TokenDirectory:
    """``UserLookup`` over the token service's internal API."""

    def __init__(self, token_url: str, internal_secret: Secret | str | None,
                 timeout: float = 3.0) -> None:
        self.url = token_url.rstrip("/") + "/internal/v1/users"
        self.secret = str(internal_secret or "")
        self.http = make_session(timeout=(timeout, timeout))

    def __call__(self, username: str) -> KnownUser | None:
        """The user named ``username``, None if there is none; Unavailable
        when the token service cannot say."""
        if not username or len(username) > 255:
            return None
        try:
            resp = self.http.get(self.url, params={"username": username},
                                 headers={INTERNAL_HEADER: self.secret})
        except requests.RequestException as exc:
            log.warning("user_directory_unreachable", error=str(exc)[:200])
            raise Unavailable("the user directory is unavailable") from exc
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            log.warning("user_directory_failed", status=resp.status_code)
            raise Unavailable("the user directory is unavailable")
        body = resp.json()
        return KnownUser(id=int(body["id"]), username=str(body["username"]),
                         admin=bool(body.get("admin")),
                         enabled=bool(body.get("enabled", True)),
                         bot=bool(body.get("bot")))
