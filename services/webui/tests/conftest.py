"""Fixtures of the web UI's tests: the UI built by its factory, talking over
real HTTP to a backend on a free loopback port (the fake one by default; the
real token and catalog apps in test_real_services.py)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from berth.common.config import load
from berth.common.testing import free_port
from berth.webui.app import create_app
from berth.webui.config import WebuiConfig
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from services.webui.tests.fake_backend import Current, FakeBackend, create_fake_app

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Served:
    """A WSGI app served on 127.0.0.1 in a thread."""

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
        """Shut the server down."""
        self.server.shutdown()
        self.thread.join(5)


def webui_config(home: Path, urls: dict[str, str], **overrides: Any) -> WebuiConfig:
    """A web UI config pointing at ``urls`` (token, catalog, audit, syncer)."""
    env = {"BERTH_HOME": str(home), "BERTH_PUBLIC_URL": "http://registry.example.test:8080",
           "BERTH_INTERNAL_SECRET": "internal-test-secret",
           **{f"BERTH_{k.upper()}_URL": v for k, v in urls.items()}}
    return load(WebuiConfig, env, **overrides)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[tuple[Served, Current]]:
    """The fake backend on a free port, for the whole run."""
    current = Current()
    server = Served(create_fake_app(current))
    yield server, current
    server.stop()


@pytest.fixture
def backend(fake_server: tuple[Served, Current]) -> FakeBackend:
    """The fake services' state, seeded with two users, namespaces and images."""
    state = FakeBackend()
    fake_server[1].state = state
    admin = state.add_user("admin", "admin-password", admin=True)
    state.add_user("alice", "alice-password")
    state.teams[1] = {"id": 1, "name": "qa", "description": "quality", "hidden": False,
                      "role": "owner"}
    state.namespaces[1] = {"id": 1, "name": "library", "visibility": "public",
                           "team": {"id": 1, "name": "qa", "hidden": False},
                           "description": "shared images"}
    state.namespaces[2] = {"id": 2, "name": "secret", "visibility": "private",
                           "team": {"id": 1, "name": "qa", "hidden": False},
                           "description": "", "_members": ["admin"]}
    state.repositories[10] = {"id": 10, "name": "busybox", "full_name": "library/busybox",
                              "namespace": {"id": 1, "name": "library"},
                              "description": "<script>alert(1)</script> tiny"}
    state.repositories[11] = {"id": 11, "name": "hidden", "full_name": "secret/hidden",
                              "namespace": {"id": 2, "name": "secret"}, "description": ""}
    author = {"id": admin["id"], "name": "admin"}
    state.tags[10] = [
        {"id": 1, "name": "latest", "digest": "sha256:" + "a" * 64, "size": 1536,
         "author": author, "pushed_at": "2026-01-02T03:04:05Z", "pulled_at": None},
        {"id": 2, "name": "v1", "digest": "sha256:" + "a" * 64, "size": 1536,
         "author": author, "pushed_at": "2026-01-02T03:04:05Z", "pulled_at": None},
        {"id": 3, "name": "v0", "digest": "sha256:" + "b" * 64, "size": 3 * 1024 ** 2,
         "author": author, "pushed_at": "2026-01-01T00:00:00Z", "pulled_at": None},
    ]
    state.audit.append({"id": 1, "action": "repository.push", "occurred_at":
                        "2026-01-02T03:04:05Z", "actor": {"name": "admin"},
                        "target": {"type": "repository", "name": "library/busybox"}})
    return state


@pytest.fixture
def served(fake_server: tuple[Served, Current], backend: FakeBackend) -> Served:
    """The fake backend, serving this test's state."""
    return fake_server[0]


@pytest.fixture
def app(served: Served, tmp_path: Path) -> Flask:
    """The web UI, every service URL pointing at the fake backend."""
    urls = {svc: served.url for svc in ("token", "catalog", "audit", "syncer")}
    webui = create_app(webui_config(tmp_path / "home", urls))
    webui.config["TESTING"] = True
    return webui


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser without a session."""
    return app.test_client()


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of ``client``'s session (as a page's form carries it)."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str) -> Any:
    """Submit the sign-in form."""
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(client)})


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None,
         form_page: str = "/") -> Any:
    """Submit a form with the session's CSRF token."""
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    if not token:
        token = csrf_of(client, form_page)
    return client.post(path, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def admin_client(client: FlaskClient) -> FlaskClient:
    """A browser signed in as the admin."""
    assert sign_in(client, "admin", "admin-password").status_code == 302
    return client


@pytest.fixture
def alice_client(client: FlaskClient) -> FlaskClient:
    """A browser signed in as a regular user."""
    assert sign_in(client, "alice", "alice-password").status_code == 302
    return client
