"""Typed configuration read once from the environment.

A service declares a frozen dataclass whose fields carry their variable name,
parser and default through :func:`setting`; :func:`load` builds it, reading
``NAME_FILE`` for secrets and reporting every missing or invalid variable in
one :class:`ConfigError`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(Exception):
    """Every configuration problem found at start-up, reported together."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


class Secret(str):
    """A string whose repr never shows its value."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def reveal(self) -> str:
        """Return the plain value."""
        return str.__str__(self)


def parse_bool(raw: str) -> bool:
    """Parse the usual spellings of a boolean."""
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


def parse_list(raw: str) -> tuple[str, ...]:
    """Parse a comma-separated list, dropping empty items."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_choice(*choices: str) -> Callable[[str], str]:
    """Return a parser accepting only one of ``choices``."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


def berth_home(environ: Mapping[str, str]) -> Path:
    """The directory holding embedded-mode state (``BERTH_HOME``, default ./var)."""
    return Path(environ.get("BERTH_HOME", "./var")).resolve()


Default = Callable[[Mapping[str, str]], Any]
_MISSING = object()


def setting(
    env: str,
    *,
    default: Any = _MISSING,
    parse: Callable[[str], Any] = str,
    secret: bool = False,
    help: str = "",
) -> Any:
    """Declare a config field bound to the environment variable ``env``.

    ``default`` may be a value or a callable receiving the environment (for
    defaults derived from ``BERTH_HOME``); without one the variable is required.
    """
    meta = {"env": env, "default": default, "parse": parse, "secret": secret,
            "help": help}
    return dataclasses.field(metadata=meta)


def describe(cls: type) -> list[dict[str, Any]]:
    """List the variables a config class reads (for docs and --help)."""
    rows = []
    for field in dataclasses.fields(cls):
        meta = field.metadata
        default = meta["default"]
        rows.append({
            "env": meta["env"],
            "required": default is _MISSING,
            "default": None if callable(default) or default is _MISSING else default,
            "secret": meta["secret"],
            "help": meta["help"],
        })
    return rows


def load(cls: type[T], environ: Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build ``cls`` from ``environ`` (default ``os.environ``); keyword overrides win."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in overrides:
            values[field.name] = overrides[field.name]
            continue
        meta = field.metadata
        name = meta["env"]
        raw = _read_raw(env, name, meta["secret"], problems)
        if raw is None:
            default = meta["default"]
            if default is _MISSING:
                problems.append(f"{name}: required but not set")
                continue
            values[field.name] = default(env) if callable(default) else default
            continue
        try:
            value = meta["parse"](raw)
        except (ValueError, TypeError) as exc:
            if meta["secret"]:
                problems.append(f"{name}: invalid value (hidden)")
            else:
                problems.append(f"{name}: invalid value {raw!r}: {exc}")
            continue
        values[field.name] = Secret(value) if meta["secret"] else value
    if problems:
        raise ConfigError(problems)
    return cls(**values)


def _read_raw(
    env: Mapping[str, str], name: str, secret: bool, problems: list[str]
) -> str | None:
    if name in env:
        return env[name]
    file_name = env.get(f"{name}_FILE")
    if file_name and secret:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            problems.append(f"{name}_FILE: cannot read {file_name}: {exc.strerror}")
    return None


def _home_default(env: Mapping[str, str]) -> Path:
    return berth_home(env)


def sqlite_default(service: str) -> Default:
    """Default database URL: a SQLite file per service under ``BERTH_HOME``."""

    def default(env: Mapping[str, str]) -> str:
        return f"sqlite:///{berth_home(env) / 'db' / f'{service}.sqlite'}"

    return default


def _internal_secret_default(env: Mapping[str, str]) -> Secret:
    path = berth_home(env) / "secrets" / "internal"
    return Secret(path.read_text().strip()) if path.exists() else Secret("")


@dataclasses.dataclass(frozen=True)
class CommonSettings:
    """Settings every service reads; service configs inherit from this."""

    home: Path = setting("BERTH_HOME", default=_home_default, parse=lambda v: Path(v).resolve(),
                         help="directory for embedded-mode state")
    amqp_url: str = setting("BERTH_AMQP_URL", default="", secret=True,
                            help="RabbitMQ URL; empty = embedded bus under BERTH_HOME")
    internal_secret: Secret = setting(
        "BERTH_INTERNAL_SECRET", default=_internal_secret_default, secret=True,
        help="shared secret for service-to-service calls")
    token_url: str = setting("BERTH_TOKEN_URL", default="http://127.0.0.1:5001",
                             help="token service base URL (internal)")
    catalog_url: str = setting("BERTH_CATALOG_URL", default="http://127.0.0.1:5002",
                               help="catalog service base URL (internal)")
    audit_url: str = setting("BERTH_AUDIT_URL", default="http://127.0.0.1:5004",
                             help="audit service base URL (internal)")
    syncer_url: str = setting("BERTH_SYNCER_URL", default="http://127.0.0.1:5003",
                              help="syncer service base URL (internal)")
    public_url: str = setting("BERTH_PUBLIC_URL", default="http://127.0.0.1:8080",
                              help="the origin users and docker clients reach")
    token_issuer: str = setting("BERTH_TOKEN_ISSUER", default="berth",
                                help="iss of every JWT Berth signs (the machine FQDN)")
    trusted_proxies: str = setting(
        "BERTH_TRUSTED_PROXIES", default="127.0.0.0/8,::1/128",
        help="CIDRs of proxies whose X-Forwarded-For is believed (ingress, web UI)")
    log_level: str = setting("BERTH_LOG_LEVEL", default="INFO",
                             parse=parse_choice("DEBUG", "INFO", "WARNING", "ERROR"))


def _public_hostport(env: Mapping[str, str]) -> str:
    from urllib.parse import urlsplit

    return urlsplit(env.get("BERTH_PUBLIC_URL", "http://127.0.0.1:8080")).netloc \
        or "127.0.0.1:8080"


def _registry_service_default(env: Mapping[str, str]) -> str:
    # The registry's token `service` is, unless told otherwise, the host users
    # pull from: that is what `make run` writes into the registry config.
    return env.get("BERTH_REGISTRY_HOSTNAME") or _public_hostport(env)


def _notify_secret_default(env: Mapping[str, str]) -> Secret:
    path = berth_home(env) / "secrets" / "notify"
    return Secret(path.read_text().strip()) if path.exists() else Secret("")


@dataclasses.dataclass(frozen=True)
class DefaultRegistrySettings:
    """The registry Berth is configured with (the catalog and the syncer read it)."""

    registry_name: str = setting("BERTH_REGISTRY_NAME", default="default",
                                 help="name of the default registry")
    registry_url: str = setting("BERTH_REGISTRY_URL", default="http://127.0.0.1:5000",
                                help="where Berth's services reach the registry API")
    registry_hostname: str = setting("BERTH_REGISTRY_HOSTNAME",
                                     default=_public_hostport,
                                     help="host:port users pull from (the ingress)")
    registry_service: str = setting("BERTH_REGISTRY_SERVICE",
                                    default=_registry_service_default,
                                    help="the registry's token service name")
    registry_notification_secret: Secret = setting(
        "BERTH_REGISTRY_NOTIFICATION_SECRET", default=_notify_secret_default,
        secret=True, help="bearer secret the registry sends with notifications")
