"""The web UI's settings, read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from berth.common.config import CommonSettings, Secret, parse_bool, setting


@dataclass(frozen=True)
class WebuiConfig(CommonSettings):
    """Every variable the web UI reads."""

    secret_key: Secret = setting(  # noqa: RUF009 - setting() is a field()
        "BERTH_WEBUI_SECRET_KEY", default=Secret(""), secret=True,
        help="signs session cookies; empty = read or create <BERTH_HOME>/secrets/webui")
    signup_enabled: bool = setting(
        "BERTH_SIGNUP_ENABLED", default=True, parse=parse_bool,
        help="show the sign-up form (the token service decides)")
    anonymous_browsing: bool = setting(
        "BERTH_ANONYMOUS_BROWSING", default=True, parse=parse_bool,
        help="show Explore to visitors who are not signed in")
    session_lifetime: int = setting(
        "BERTH_WEBUI_SESSION_LIFETIME", default=12 * 3600, parse=int,
        help="seconds a browser session lasts without activity")
    per_page: int = setting("BERTH_WEBUI_PER_PAGE", default=20, parse=int,
                            help="rows per page of every list")

    @property
    def public_host(self) -> str:
        """host[:port] users pull from (the pull command shown on pages)."""
        return urlsplit(self.public_url).netloc or "127.0.0.1:8080"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry Secure when users reach Berth over TLS."""
        return urlsplit(self.public_url).scheme == "https"


def resolve_secret_key(config: WebuiConfig) -> str:
    """The configured key, else the one kept under BERTH_HOME (created once)."""
    if config.secret_key:
        return config.secret_key.reveal()
    path = Path(config.home) / "secrets" / "webui"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then linked into place: several gunicorn workers may race
        # here, and none may ever read a half-written key.
        tmp = path.with_name(f".webui.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker won; use its key
        finally:
            tmp.unlink()
    return path.read_text().strip()
