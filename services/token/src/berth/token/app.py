"""The token service's app factory: the only place that wires things together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from berth.common.app import base_app
from berth.common.auth import Authenticator, JwksKeys, Principal, install_auth
from berth.common.db import install_session
from berth.common.health import install_health
from berth.common.runtime import Runtime, build_runtime
from berth.common.signing import Signer, load_private_key
from berth.token.config import TokenConfig, load_config
from berth.token.models import OUTBOX
from berth.token.services.app_tokens import ApplicationTokenService
from berth.token.services.authorizer import (
    Authorizer,
    CachedAuthorizer,
    CatalogAuthorizer,
)
from berth.token.services.credentials import CredentialService
from berth.token.services.directory import Directory, LdapDirectory
from berth.token.services.issuer import TokenIssuer
from berth.token.services.passwords import Passwords, VerificationCache
from berth.token.services.refresh import RefreshTokenService
from berth.token.services.throttle import Throttle, ThrottlePolicy
from berth.token.services.users import UserService
from flask import Flask

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class TokenServices:
    """Everything the views use, built once per app."""

    config: TokenConfig
    runtime: Runtime
    signer: Signer
    issuer: TokenIssuer
    authorizer: Authorizer
    users: UserService
    tokens: ApplicationTokenService
    refresh: RefreshTokenService
    credentials: CredentialService
    cache: VerificationCache


def load_signer(config: TokenConfig) -> Signer:
    """The signer over every configured key (the last one signs)."""
    return Signer([load_private_key(path) for path in config.key_paths])


def build_services(config: TokenConfig, *, runtime: Runtime | None = None,
                   signer: Signer | None = None, authorizer: Authorizer | None = None,
                   hasher: PasswordHasher | None = None,
                   directory: Directory | None = None) -> TokenServices:
    """Build the collaborators (defaults from ``config``; tests pass their own)."""
    runtime = runtime or build_runtime(config, service="token",
                                       database_url=config.database_url,
                                       outbox_table=OUTBOX)
    signer = signer or load_signer(config)
    cache = VerificationCache(ttl=config.password_cache_ttl)
    passwords = Passwords(hasher)
    users = UserService(passwords=passwords, cache=cache, outbox=runtime.outbox,
                        password_min_length=config.password_min_length)
    tokens = ApplicationTokenService(outbox=runtime.outbox,
                                     max_per_user=config.max_application_tokens)
    if directory is None and config.ldap_enabled:
        directory = LdapDirectory(config.ldap)
    throttle = Throttle(ThrottlePolicy(
        account_attempts=config.throttle_account_attempts,
        address_attempts=config.throttle_address_attempts,
        window=config.throttle_window, lockout_attempts=config.lockout_attempts,
        lockout_duration=config.lockout_duration))
    credentials = CredentialService(users=users, tokens=tokens, passwords=passwords,
                                    cache=cache, throttle=throttle,
                                    outbox=runtime.outbox, directory=directory)
    return TokenServices(
        config=config, runtime=runtime, signer=signer,
        issuer=TokenIssuer(signer, issuer=config.token_issuer,
                           registry_lifetime=config.token_lifetime,
                           api_lifetime=config.api_token_lifetime),
        authorizer=authorizer or CachedAuthorizer(CatalogAuthorizer(
            config.catalog_url, config.internal_secret, timeout=config.catalog_timeout),
            ttl=config.authorize_cache_ttl),
        users=users, tokens=tokens,
        refresh=RefreshTokenService(config.refresh_token_lifetime),
        credentials=credentials, cache=cache)


def create_app(config: TokenConfig | None = None, **collaborators: Any) -> Flask:
    """The token service's Flask app."""
    config = config or load_config()
    # Behind the ingress and the web UI every request comes from a proxy: the
    # per-address throttle needs the client's address, believed only from them.
    app = base_app("token", __name__, log_level=config.log_level,
                   trusted_proxies=config.trusted_proxies)
    services = build_services(config, **collaborators)
    app.extensions["berth.token"] = services
    install_session(app, services.runtime.sessions)
    install_health(app, services.runtime.health_checks())

    from berth.token.api import register
    from berth.token.api.support import resolve_credentials

    def credentials(username: str, secret: str, address: str) -> Principal | None:
        return resolve_credentials(username, secret, address)

    # The token service owns the credentials: no HTTP round trip to itself.
    install_auth(app, Authenticator(
        keys=JwksKeys(static=services.signer.public_keys()), credentials=credentials,
        internal_secret=config.internal_secret, issuer=config.token_issuer))
    register(app)
    return app
