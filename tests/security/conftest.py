"""Fixtures of the attack scenarios.

Where the defence lives in one or two services, the REAL apps run in this
process: the token and catalog apps served over HTTP on free loopback ports
(each calls the other, as deployed), SQLite files, cheap password hashing.
Ingress path tricks use the running stack of tests/e2e (fixture ``stack``).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from argon2 import PasswordHasher
from berth.common.signing import Signer, generate_key
from berth.common.testing import free_port
from werkzeug.serving import BaseWSGIServer, make_server

INTERNAL = "internal-security-secret"
ISSUER = "berth-security"
REGISTRY = "registry.security.test:5000"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORDS = {"root": "root-password-1", "alice": "alice-password-1",
             "bob": "bob-password-1"}


class RecordingBus:
    """Stands in for the bus: keeps what was published (events are read back
    by the tests that look for leaked secrets)."""

    embedded = True

    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, envelopes: Any) -> None:
        self.published.extend(envelopes)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    def dead_letter(self, consumer: str, body: Any, reason: str) -> None:
        return None


class NoRegistry:
    """Registry operations the catalog would ask the syncer for."""

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        return None


class Served:
    """A WSGI app on 127.0.0.1 in a thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server: BaseWSGIServer = make_server("127.0.0.1", self.port, app,
                                                  threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Shut down."""
        self.server.shutdown()
        self.thread.join(5)


def basic(username: str, secret: str) -> dict[str, str]:
    """An ``Authorization: Basic`` header."""
    raw = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def token_config(home: Path, token_url: str, catalog_url: str, database_url: str,
                 **env: str) -> Any:
    """The token service's config for these tests."""
    from berth.token.config import load_config

    return load_config({
        "BERTH_HOME": str(home), "BERTH_INTERNAL_SECRET": INTERNAL,
        "BERTH_TOKEN_ISSUER": ISSUER, "BERTH_LOG_LEVEL": "WARNING",
        "BERTH_TOKEN_URL": token_url, "BERTH_CATALOG_URL": catalog_url,
        "BERTH_TOKEN_DATABASE_URL": database_url,
        "BERTH_THROTTLE_ADDRESS_ATTEMPTS": "100000",
        "BERTH_THROTTLE_ACCOUNT_ATTEMPTS": "100000",
        "BERTH_LOCKOUT_ATTEMPTS": "100000", **env})


def make_token_app(config: Any, signer: Signer, **collaborators: Any) -> Any:
    """The real token app with its schema created."""
    from berth.token.app import create_app
    from berth.token.models import Base

    app = create_app(config, signer=signer, hasher=CHEAP_HASHER, **collaborators)
    svc = app.extensions["berth.token"]
    bus = RecordingBus()
    svc.runtime.bus.close()
    svc.runtime.bus = svc.runtime.outbox.bus = bus
    Base.metadata.create_all(svc.runtime.engine)
    return app


class Berth:
    """The token and catalog apps, served on loopback and calling each other."""

    def __init__(self, home: Path, **token_env: str) -> None:
        from berth.catalog.app import create_app as create_catalog
        from berth.catalog.config import CatalogConfig
        from berth.common.config import load

        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        token_port, catalog_port = free_port(), free_port()
        self.token_url = f"http://127.0.0.1:{token_port}"
        self.catalog_url = f"http://127.0.0.1:{catalog_port}"
        self.signer = Signer([generate_key("RS256")])
        self.token = make_token_app(
            token_config(home, self.token_url, self.catalog_url,
                         f"sqlite:///{home / 'token.sqlite'}", **token_env),
            self.signer)
        self.token_bus: RecordingBus = self.token.extensions["berth.token"].runtime.bus
        self.catalog_bus = RecordingBus()
        common = {"BERTH_HOME": str(home), "BERTH_INTERNAL_SECRET": INTERNAL,
                  "BERTH_TOKEN_ISSUER": ISSUER, "BERTH_LOG_LEVEL": "WARNING",
                  "BERTH_TOKEN_URL": self.token_url, "BERTH_CATALOG_URL": self.catalog_url,
                  "BERTH_REGISTRY_SERVICE": REGISTRY, "BERTH_REGISTRY_HOSTNAME": REGISTRY}
        self.catalog = create_catalog(
            load(CatalogConfig, common,
                 database_url=f"sqlite:///{home / 'catalog.sqlite'}"),
            bus=self.catalog_bus,  # type: ignore[arg-type]
            registry_ops=NoRegistry(), create_schema=True)
        self.servers = [Served(self.token, token_port), Served(self.catalog, catalog_port)]
        self.http = requests.Session()
        self.ids: dict[str, int] = {}
        self.jwts: dict[str, str] = {}

    def stop(self) -> None:
        """Stop both servers."""
        for server in self.servers:
            server.stop()

    def push(self, repository: str, tag: str = "latest", actor: str = "root") -> None:
        """Apply a registry push notification as the catalog's worker would."""
        import hashlib

        from berth.catalog.consumers import CONSUMER, make_handler
        from berth.catalog.models import PROCESSED
        from berth.common.consumer import ConsumerWorker
        from berth.common.events.base import Envelope
        from berth.common.events.registry import ManifestPushed

        state = self.catalog.extensions["berth.catalog"]
        digest = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
        env = Envelope.wrap(ManifestPushed(
            registry=REGISTRY, repository=repository, digest=digest, tag=tag,
            media_type="application/vnd.oci.image.manifest.v1+json", size=2048,
            actor=actor), producer="syncer")
        worker = ConsumerWorker(bus=self.catalog_bus,  # type: ignore[arg-type]
                                name=CONSUMER, factory=state.runtime.sessions,
                                handler=make_handler(state.runtime.outbox, state.knobs),
                                processed=PROCESSED)
        worker.handle_body(env.to_json())

    # --- calls -------------------------------------------------------------

    def token_call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A request to the token service."""
        return self.http.request(method, self.token_url + path, timeout=10, **kw)

    def catalog_call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A request to the catalog."""
        return self.http.request(method, self.catalog_url + path, timeout=10, **kw)

    def sign_up(self, username: str, password: str | None = None) -> dict[str, Any]:
        """Anonymous sign-up; returns the user."""
        password = password or PASSWORDS.get(username, f"{username}-password-1")
        resp = self.token_call("POST", "/api/v1/users", json={"user": {
            "username": username, "email": f"{username}@example.test",
            "password": password}})
        assert resp.status_code == 201, resp.text
        user: dict[str, Any] = resp.json()
        self.ids[username] = user["id"]
        return user

    def jwt(self, username: str, password: str | None = None) -> str:
        """An API JWT of ``username`` (cached)."""
        if username not in self.jwts:
            password = password or PASSWORDS.get(username, f"{username}-password-1")
            resp = self.token_call("POST", "/api/v1/auth/token",
                                   headers=basic(username, password))
            assert resp.status_code == 200, resp.text
            self.jwts[username] = resp.json()["token"]
        return self.jwts[username]

    def as_(self, username: str) -> dict[str, str]:
        """Bearer headers of ``username``."""
        return {"Authorization": f"Bearer {self.jwt(username)}"}

    def registry_token(self, username: str | None, *scopes: str,
                       service: str = REGISTRY, **params: str) -> requests.Response:
        """``GET /v2/token`` as ``username`` (anonymous when None)."""
        headers = basic(username, PASSWORDS.get(username, f"{username}-password-1")) \
            if username else {}
        query: list[tuple[str, str]] = [("service", service)]
        query += [("scope", s) for s in scopes] + list(params.items())
        return self.token_call("GET", "/v2/token", params=query, headers=headers)


@pytest.fixture(scope="session")
def berth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Berth]:
    """Token + catalog, with ``root`` (the first user: admin), ``alice`` and ``bob``."""
    b = Berth(tmp_path_factory.mktemp("security") / "home")
    for name in ("root", "alice", "bob"):
        b.sign_up(name)
    yield b
    b.stop()


def assert_error_shape(resp: Any, status: int) -> dict[str, Any]:
    """``resp`` has ``status`` and the one JSON error shape."""
    body = resp.json() if hasattr(resp, "json") and callable(resp.json) else resp.get_json()
    assert resp.status_code == status, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list) and body["errors"]
    assert {"code", "message", "detail"} <= set(body["errors"][0])
    return dict(body)
