"""Jinja filters: sizes, digests and times as people read them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from markupsafe import Markup

_UNITS = ("B", "KB", "MB", "GB", "TB")


def human_size(value: Any) -> str:
    """1536 -> '1.5 KB' (powers of 1024, as registries report sizes)."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return "—"
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "—"


def short_digest(value: Any) -> str:
    """'sha256:abcdef…' -> 'abcdef123456' (12 hex digits, like docker)."""
    if not value:
        return ""
    text = str(value)
    return text.split(":", 1)[-1][:12]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string (or epoch seconds) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: Any) -> str:
    """A time as 'YYYY-MM-DD HH:MM UTC', or '—' when unknown."""
    parsed = parse_time(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else "—"


def ago(value: Any, now: datetime | None = None) -> str:
    """A time relative to now: '5 minutes ago'."""
    parsed = parse_time(value)
    if parsed is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - parsed).total_seconds())
    if seconds < 60:
        return "just now"
    for span, name in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"),
                       (3600, "hour"), (60, "minute")):
        if seconds >= span:
            n = seconds // span
            return f"{n} {name}{'s' if n != 1 else ''} ago"
    return "just now"


def catalog_html(value: Any) -> Markup:
    """HTML the catalog rendered from Markdown and sanitised (``body_md``).

    Only the catalog's sanitised rendering goes through here, never a raw user
    field; the Content-Security-Policy still forbids any script it might hold."""
    return Markup(str(value or ""))


def install_filters(app: Flask) -> None:
    """Register the filters with ``app``'s Jinja environment."""
    app.jinja_env.filters.update(human_size=human_size, short_digest=short_digest,
                                 when=when, ago=ago,
                                 catalog_html=catalog_html)
