"""The catalog's settings: database, Portus' permission knobs, default registry."""

from __future__ import annotations

from dataclasses import dataclass

from berth.common.config import (
    CommonSettings,
    DefaultRegistrySettings,
    Secret,
    parse_bool,
    parse_choice,
    setting,
    sqlite_default,
)
from berth.common.web import IPNetwork, parse_networks

PUSH_POLICIES = ("allow-teams", "allow-personal", "admin-only")






def _float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _flag(env: str, help: str) -> bool:
    result: bool = setting(env, default=True, parse=parse_bool, help=help)
    return result


@dataclass(frozen=True)
class CatalogConfig(CommonSettings, DefaultRegistrySettings):
    """Every variable the catalog reads."""

    database_url: str = setting("BERTH_CATALOG_DATABASE_URL",
                                default=sqlite_default("catalog"), secret=True,
                                help="SQLAlchemy URL of the catalog database")
    delete_enabled: bool = _flag("BERTH_DELETE_ENABLED", "images may be deleted")
    delete_contributors: bool = setting(
        "BERTH_DELETE_CONTRIBUTORS", default=False, parse=parse_bool,
        help="contributors may delete too (not only owners)")
    push_policy: str = setting("BERTH_PUSH_POLICY", default="allow-teams",
                               parse=parse_choice(*PUSH_POLICIES),
                               help="who may push: allow-teams, allow-personal, "
                                    "admin-only")
    create_team: bool = _flag("BERTH_USER_PERMISSION_CREATE_TEAM",
                              "non-admins may create teams")
    manage_team: bool = _flag("BERTH_USER_PERMISSION_MANAGE_TEAM",
                              "team owners may manage their team")
    create_namespace: bool = _flag("BERTH_USER_PERMISSION_CREATE_NAMESPACE",
                                   "team members may create namespaces")
    manage_namespace: bool = _flag("BERTH_USER_PERMISSION_MANAGE_NAMESPACE",
                                   "team owners may manage their namespaces")
    change_visibility: bool = _flag("BERTH_USER_PERMISSION_CHANGE_VISIBILITY",
                                    "team owners may change visibility")
    create_webhook: bool = _flag("BERTH_USER_PERMISSION_CREATE_WEBHOOK",
                                 "team owners may create webhooks")
    manage_webhook: bool = _flag("BERTH_USER_PERMISSION_MANAGE_WEBHOOK",
                                 "team owners may manage webhooks")
    anonymous_browsing: bool = _flag("BERTH_ANONYMOUS_BROWSING",
                                     "anonymous users may browse and pull public "
                                     "namespaces")
    webhook_secret_key: Secret = setting(  # noqa: RUF009 - a str
        "BERTH_WEBHOOK_SECRET_KEY", default=Secret(""), secret=True,
        help="Fernet key encrypting webhook passwords and secrets (default: "
             "generated under BERTH_HOME/secrets/webhook-key)")
    webhook_allowed_networks: tuple[IPNetwork, ...] = setting(
        "BERTH_WEBHOOK_ALLOWED_NETWORKS", default=(), parse=parse_networks,
        help="CIDRs webhooks may reach although internal (loopback, private...)")
    webhook_timeout: float = setting("BERTH_WEBHOOK_TIMEOUT", default=10.0,
                                     parse=_float,
                                     help="seconds one webhook attempt may take")
    webhook_max_attempts: int = setting("BERTH_WEBHOOK_MAX_ATTEMPTS", default=6,
                                        parse=_count,
                                        help="attempts per delivery before giving up")
    webhook_backoff: float = setting(
        "BERTH_WEBHOOK_BACKOFF_SECONDS", default=10.0, parse=_float,
        help="delay before the first retry; doubles after each failure")
    webhook_backoff_max: float = setting(
        "BERTH_WEBHOOK_BACKOFF_MAX_SECONDS", default=3600.0, parse=_float,
        help="longest delay between two attempts")
