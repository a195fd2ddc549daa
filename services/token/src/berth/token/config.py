"""Configuration of the token service, read once from the environment."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from berth.common.config import (
    CommonSettings,
    Secret,
    berth_home,
    load,
    parse_bool,
    parse_choice,
    parse_list,
    setting,
    sqlite_default,
)


def _default_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    return (str(berth_home(env) / "keys" / "token-signing.pem"),)


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


@dataclasses.dataclass(frozen=True)
class LdapSettings:
    """Portus' ``ldap.*`` options (see :class:`TokenConfig`)."""

    enabled: bool = False
    host: str = ""
    port: int = 389
    encryption: str = "none"
    ca_file: str = ""
    base: str = ""
    admin_base: str = ""
    filter: str = ""
    uid: str = "uid"
    bind_dn: str = ""
    bind_password: str = ""
    guess_email_enabled: bool = False
    guess_email_attr: str = ""


@dataclasses.dataclass(frozen=True)
class TokenConfig(CommonSettings):
    """Every variable the token service reads."""

    database_url: str = setting("BERTH_TOKEN_DATABASE_URL",
                                default=sqlite_default("token"))
    signing_keys: tuple[str, ...] = setting(
        "BERTH_TOKEN_SIGNING_KEYS", default=_default_keys, parse=parse_list,
        help="PEM private keys (RSA -> RS256, P-256 -> ES256), newest last")
    token_lifetime: int = setting("BERTH_TOKEN_LIFETIME", default=900,
                                  parse=_positive_int,
                                  help="registry JWT lifetime, seconds")
    api_token_lifetime: int = setting("BERTH_API_TOKEN_LIFETIME", default=900,
                                      parse=_positive_int,
                                      help="API JWT lifetime, seconds")
    refresh_token_lifetime: int = setting(
        "BERTH_REFRESH_TOKEN_LIFETIME", default=30 * 86400, parse=_positive_int,
        help="refresh token lifetime, seconds")
    signup_enabled: bool = setting("BERTH_SIGNUP_ENABLED", default=True,
                                   parse=parse_bool)
    first_user_admin: bool = setting("BERTH_FIRST_USER_ADMIN", default=True,
                                     parse=parse_bool)
    bootstrap_enabled: bool = setting("BERTH_BOOTSTRAP_ENABLED", default=True,
                                      parse=parse_bool)
    max_application_tokens: int = setting("BERTH_MAX_APPLICATION_TOKENS", default=5,
                                          parse=_positive_int)
    password_min_length: int = setting("BERTH_PASSWORD_MIN_LENGTH", default=8,
                                       parse=_positive_int)
    lockout_attempts: int = setting("BERTH_LOCKOUT_ATTEMPTS", default=10,
                                    parse=_positive_int,
                                    help="failed logins before an account locks")
    lockout_duration: int = setting("BERTH_LOCKOUT_DURATION", default=600,
                                    parse=_positive_int, help="seconds")
    throttle_account_attempts: int = setting(
        "BERTH_THROTTLE_ACCOUNT_ATTEMPTS", default=5, parse=_positive_int,
        help="failures per account within the window before 429")
    throttle_address_attempts: int = setting(
        "BERTH_THROTTLE_ADDRESS_ATTEMPTS", default=30, parse=_positive_int,
        help="failures per client address within the window before 429")
    throttle_window: int = setting("BERTH_THROTTLE_WINDOW", default=60,
                                   parse=_positive_int, help="seconds")
    password_cache_ttl: int = setting(
        "BERTH_PASSWORD_CACHE_TTL", default=60, parse=int,
        help="seconds a verified password is remembered in-process; 0 disables")
    catalog_timeout: float = setting("BERTH_TOKEN_CATALOG_TIMEOUT", default=3.0,
                                     parse=float)
    authorize_cache_ttl: float = setting(
        "BERTH_TOKEN_AUTHORIZE_CACHE_TTL", default=2.0, parse=float,
        help="seconds the catalog's answer for the same principal and scopes is "
             "reused (docker asks once per layer); 0 disables")
    ldap_enabled: bool = setting("BERTH_LDAP_ENABLED", default=False, parse=parse_bool)
    ldap_host: str = setting("BERTH_LDAP_HOST", default="")
    ldap_port: int = setting("BERTH_LDAP_PORT", default=389, parse=_positive_int)
    ldap_encryption: str = setting(
        "BERTH_LDAP_ENCRYPTION", default="none",
        parse=parse_choice("none", "simple_tls", "start_tls"))
    ldap_ca_file: str = setting("BERTH_LDAP_CA_FILE", default="")
    ldap_base: str = setting("BERTH_LDAP_BASE", default="")
    ldap_admin_base: str = setting("BERTH_LDAP_ADMIN_BASE", default="")
    ldap_filter: str = setting("BERTH_LDAP_FILTER", default="")
    ldap_uid: str = setting("BERTH_LDAP_UID", default="uid")
    ldap_bind_dn: str = setting("BERTH_LDAP_BIND_DN", default="")
    ldap_bind_password: str = setting("BERTH_LDAP_BIND_PASSWORD", default="",
                                         secret=True)
    ldap_guess_email_enabled: bool = setting("BERTH_LDAP_GUESS_EMAIL_ENABLED",
                                             default=False, parse=parse_bool)
    ldap_guess_email_attr: str = setting("BERTH_LDAP_GUESS_EMAIL_ATTR", default="")

    @property
    def key_paths(self) -> list[Path]:
        """The signing key files, oldest first."""
        return [Path(p) for p in self.signing_keys]

    @property
    def ldap(self) -> LdapSettings:
        """The LDAP options as one value."""
        return LdapSettings(
            enabled=self.ldap_enabled, host=self.ldap_host, port=self.ldap_port,
            encryption=self.ldap_encryption, ca_file=self.ldap_ca_file,
            base=self.ldap_base, admin_base=self.ldap_admin_base,
            filter=self.ldap_filter, uid=self.ldap_uid, bind_dn=self.ldap_bind_dn,
            bind_password=Secret(self.ldap_bind_password).reveal(),
            guess_email_enabled=self.ldap_guess_email_enabled,
            guess_email_attr=self.ldap_guess_email_attr)


def load_config(environ: Mapping[str, str] | None = None, **overrides: object) -> TokenConfig:
    """Build the config from ``environ`` (default: the process environment)."""
    return load(TokenConfig, environ, **overrides)
