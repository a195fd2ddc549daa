"""Request parsing shared by every API: JSON or form bodies, Portus' nested
bodies, pagination and sorting with allow-listed keys."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from berth.common.errors import BadRequest, Invalid

MAX_PER_PAGE = 100
# The offset must fit a signed 64-bit integer: MySQL and SQLite refuse larger.
MAX_PAGE = (2**63 - 1) // MAX_PER_PAGE


def request_data() -> dict[str, Any]:
    """The body as a dict, from JSON or a form; 400 on malformed JSON."""
    from flask import request

    if request.is_json or (request.data and not request.form):
        if not request.data:
            return {}
        payload = request.get_json(silent=True)
        if payload is None:
            raise BadRequest("request body is not valid JSON")
        if not isinstance(payload, dict):
            raise BadRequest("request body must be a JSON object")
        return payload
    out: dict[str, Any] = {}
    for key in request.form:
        value = request.form.get(key)
        if "[" in key and key.endswith("]"):  # Portus form style: user[name]=x
            outer, inner = key[:-1].split("[", 1)
            out.setdefault(outer, {})
            if isinstance(out[outer], dict):
                out[outer][inner] = value
        else:
            out[key] = value
    return out


def nested(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` as a dict (Portus wraps bodies: ``{"user": {...}}``)."""
    inner = data.get(key, data if key not in data else None)
    if not isinstance(inner, dict):
        raise Invalid(f"'{key}' must be an object", detail={"field": key})
    return inner


def field(data: dict[str, Any], name: str, *, required: bool = True,
          kind: type | tuple[type, ...] = str, max_length: int | None = 255) -> Any:
    """One field, type-checked; 422 naming the field when missing or wrong."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Invalid(f"{name} is required", detail={"field": name})
        return None
    if kind is bool and isinstance(value, str):
        if value.lower() in {"true", "1", "yes", "on"}:
            return True
        if value.lower() in {"false", "0", "no", "off"}:
            return False
    if kind is int and isinstance(value, str) and value.isdigit():
        return int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Invalid(f"{name} has the wrong type", detail={"field": name})
    if isinstance(value, str) and max_length is not None and len(value) > max_length:
        raise Invalid(f"{name} is too long (max {max_length})", detail={"field": name})
    return value


@dataclass(frozen=True)
class Page:
    """Portus list parameters: page, per_page, sort_attr, sort_order, all."""

    page: int
    per_page: int
    sort_attr: str
    descending: bool
    all: bool

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.per_page


def page_params(sort_keys: Sequence[str], default_sort: str | None = None,
                default_per_page: int = 15) -> Page:
    """Parse list parameters; sort keys must come from ``sort_keys``."""
    from flask import request

    args = request.args
    try:
        page = int(args.get("page", 1))
        per_page = int(args.get("per_page", default_per_page))
    except ValueError as exc:
        raise Invalid("page and per_page must be integers") from exc
    if page < 1 or per_page < 1:
        raise Invalid("page and per_page must be positive")
    if page > MAX_PAGE:
        raise Invalid(f"page must be at most {MAX_PAGE}", detail={"field": "page"})
    sort_attr = args.get("sort_attr", default_sort or sort_keys[0])
    if sort_attr not in sort_keys:
        raise Invalid(f"sort_attr must be one of {', '.join(sort_keys)}",
                      detail={"field": "sort_attr"})
    order = args.get("sort_order", "asc").lower()
    if order not in {"asc", "desc"}:
        raise Invalid("sort_order must be asc or desc", detail={"field": "sort_order"})
    return Page(page=page, per_page=min(per_page, MAX_PER_PAGE), sort_attr=sort_attr,
                descending=order == "desc",
                all=args.get("all", "false").lower() in {"true", "1"})


def pagination_headers(page: Page, total: int) -> dict[str, str]:
    """Headers that tell a client how many items and pages there are."""
    pages = max(1, -(-total // page.per_page))
    return {"X-Total": str(total), "X-Total-Pages": str(pages),
            "X-Page": str(page.page), "X-Per-Page": str(page.per_page)}


def escape_like(value: str) -> str:
    """Escape LIKE wildcards; use with ``escape='\\\\'``."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """Parse comma-separated CIDRs (config helper for ``BERTH_TRUSTED_PROXIES``)."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False)
                 for p in raw.split(",") if p.strip())


@functools.lru_cache(maxsize=4096)
def _trusted(addr: str, networks: Sequence[IPNetwork]) -> bool:
    # Cached: every request asks about the same few proxy and client addresses.
    try:
        ip = ipaddress.ip_address(addr.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address() -> str:
    """The real client's address: the nearest untrusted hop in X-Forwarded-For.

    Only hops added by trusted proxies (``app.config["BERTH_TRUSTED_PROXIES"]``,
    loopback by default: the ingress and the web UI) are believed, so a client
    cannot pick its own address to dodge per-client throttling.
    """
    from flask import current_app, request

    networks = current_app.config.get("BERTH_TRUSTED_PROXIES", LOOPBACK)
    addr = request.remote_addr or ""
    if not _trusted(addr, networks):
        return addr
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")
            if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
        addr = hop
    return addr
