"""The web UI against the REAL token and catalog apps (SQLite files),
each served over HTTP on a free loopback port, as in a deployment. Skipped
only while one of those packages is not installed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from berth.common.testing import free_port
from berth.webui.app import create_app as create_webui
from flask import Flask
from flask.testing import FlaskClient

from services.webui.tests.conftest import Served, csrf_of, post, webui_config

token_app = pytest.importorskip("berth.token.app")
catalog_app = pytest.importorskip("berth.catalog.app")

INTERNAL = "internal-test-secret"
ISSUER = "berth-test"
REGISTRY = "registry.test:5000"


class _Bus:
    """The catalog's bus in these tests: events are not needed, only kept."""

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


class _Registry:
    """Registry operations the catalog would ask the syncer for."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str, str, str]] = []

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        self.deleted.append((registry, repository, digest))


class Stack:
    """Token and catalog served on loopback, and a way to feed registry pushes."""

    def __init__(self, home: Path) -> None:
        from argon2 import PasswordHasher
        from berth.catalog.config import CatalogConfig
        from berth.common.config import load
        from berth.common.signing import Signer, generate_key
        from berth.token.config import load_config
        from berth.token.models import Base as TokenBase

        home.mkdir(parents=True, exist_ok=True)
        token_port, catalog_port = free_port(), free_port()
        self.token_url = f"http://127.0.0.1:{token_port}"
        self.catalog_url = f"http://127.0.0.1:{catalog_port}"
        common = {"BERTH_HOME": str(home), "BERTH_INTERNAL_SECRET": INTERNAL,
                  "BERTH_TOKEN_ISSUER": ISSUER, "BERTH_LOG_LEVEL": "WARNING",
                  "BERTH_TOKEN_URL": self.token_url, "BERTH_CATALOG_URL": self.catalog_url,
                  "BERTH_REGISTRY_SERVICE": REGISTRY, "BERTH_REGISTRY_HOSTNAME": REGISTRY}
        # Files, not ":memory:": both apps serve threads concurrently (the web UI
        # asks for the dashboard's panels at once), and one in-memory connection
        # shared by every thread would mix their transactions.
        self.token = token_app.create_app(
            load_config({**common,
                         "BERTH_TOKEN_DATABASE_URL": f"sqlite:///{home / 'token.sqlite'}"}),
            signer=Signer([generate_key("RS256")]),
            hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
        TokenBase.metadata.create_all(self.token.extensions["berth.token"].runtime.engine)
        self.token_server = Served(self.token, port=token_port)
        self.bus = _Bus()
        self.registry = _Registry()
        self.catalog = catalog_app.create_app(
            load(CatalogConfig, common,
                 database_url=f"sqlite:///{home / 'catalog.sqlite'}"), bus=self.bus,
            registry_ops=self.registry, create_schema=True)
        self.catalog_server = Served(self.catalog, port=catalog_port)

    def push(self, repository: str, tag: str, digest: str, actor: str) -> None:
        """Apply a registry push notification as the catalog's worker would."""
        from berth.catalog.consumers import CONSUMER, make_handler
        from berth.catalog.models import PROCESSED
        from berth.common.consumer import ConsumerWorker
        from berth.common.events.base import Envelope
        from berth.common.events.registry import ManifestPushed

        state = self.catalog.extensions["berth.catalog"]
        env = Envelope.wrap(ManifestPushed(
            registry=REGISTRY, repository=repository, digest=digest, tag=tag,
            media_type="application/vnd.oci.image.manifest.v1+json", size=2048,
            actor=actor), producer="syncer")
        worker = ConsumerWorker(bus=self.bus, name=CONSUMER,  # type: ignore[arg-type]
                                handler=make_handler(state.runtime.outbox, state.knobs),
                                factory=state.runtime.sessions, processed=PROCESSED)
        worker.handle_body(env.to_json())

    def stop(self) -> None:
        """Stop both servers."""
        self.token_server.stop()
        self.catalog_server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real services, for this module."""
    s = Stack(tmp_path_factory.mktemp("real") / "home")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def webui(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The web UI pointing at them (audit and syncer down on purpose)."""
    dead = f"http://127.0.0.1:{free_port()}"
    app = create_webui(webui_config(
        tmp_path_factory.mktemp("webui"),
        {"token": stack.token_url, "catalog": stack.catalog_url, "audit": dead,
         "syncer": dead}))
    app.config["TESTING"] = True
    return app


def _sign_up(client: FlaskClient, username: str, password: str) -> Any:
    return client.post("/signup", data={
        "username": username, "email": f"{username}@example.test", "password": password,
        "password_confirmation": password, "csrf_token": csrf_of(client, "/signup")})


@pytest.fixture(scope="module")
def admin(webui: Flask) -> FlaskClient:
    """The first user, signed up through the UI: an administrator."""
    client = webui.test_client()
    resp = _sign_up(client, "root", "root-password-1")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


@pytest.fixture(scope="module")
def bob(webui: Flask, admin: FlaskClient) -> FlaskClient:
    """A second user, signed up through the UI."""
    client = webui.test_client()
    assert _sign_up(client, "bob", "bob-password-1").status_code == 302
    return client


def test_first_user_is_admin_and_sees_the_empty_dashboard(admin: FlaskClient) -> None:
    page = admin.get("/").get_data(as_text=True)
    assert "Hello, root" in page
    assert "podman login registry.example.test:8080" in page
    assert "Activity is unavailable right now." in page  # audit is down: a notice
    assert 'href="/admin/users"' in page


def test_wrong_password_is_refused_by_the_token_service(webui: Flask,
                                                        admin: FlaskClient) -> None:
    client = webui.test_client()
    resp = client.post("/login", data={"username": "root", "password": "nope-nope",
                                       "csrf_token": csrf_of(client)})
    assert resp.status_code in (401, 429)
    assert "Hello" not in client.get("/").get_data(as_text=True)


def test_team_namespace_visibility_and_membership(admin: FlaskClient,
                                                  bob: FlaskClient) -> None:
    bob.get("/")  # the catalog learns bob exists
    resp = post(admin, "/teams", {"name": "devs", "description": "<i>devs</i>"})
    assert resp.status_code == 302
    team_path = resp.headers["Location"]
    assert re.fullmatch(r"/teams/\d+", team_path)
    post(admin, f"{team_path}/members", {"user": "bob", "role": "viewer"})
    page = admin.get(team_path).get_data(as_text=True)
    assert "bob" in page and "&lt;i&gt;devs&lt;/i&gt;" in page
    resp = post(admin, "/namespaces", {"name": "apps", "team": "devs",
                                       "description": "apps of the devs"})
    ns_path = resp.headers["Location"]
    assert re.fullmatch(r"/namespaces/\d+", ns_path), admin.get("/namespaces").data
    post(admin, ns_path, {"visibility": "public"})
    page = admin.get(ns_path).get_data(as_text=True)
    assert 'id="visibility">public<' in page
    bob_page = bob.get(ns_path).get_data(as_text=True)
    assert "apps of the devs" in bob_page and "Change visibility" not in bob_page
    post(bob, ns_path, {"visibility": "private"})
    assert 'id="visibility">public<' in admin.get(ns_path).get_data(as_text=True)


def test_pushed_repository_page_star_and_comment(stack: Stack, admin: FlaskClient,
                                                 bob: FlaskClient, webui: Flask) -> None:
    stack.push("apps/web", "v1", "sha256:" + "c" * 64, "root")
    stack.push("apps/web", "stable", "sha256:" + "c" * 64, "root")
    page = admin.get("/search?q=web").get_data(as_text=True)
    match = re.search(r'href="(/repositories/\d+)"', page)
    assert match, page
    repo = match.group(1)
    page = admin.get(repo).get_data(as_text=True)
    assert "docker pull registry.example.test:8080/apps/web:" in page
    assert "cccccccccccc" in page and "2.0 KB" in page
    post(bob, f"{repo}/star", {"action": "star"})
    assert "Unstar" in bob.get(repo).get_data(as_text=True)
    post(bob, f"{repo}/comments", {"body": "<script>alert(1)</script> **nice**"})
    page = bob.get(repo).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "<strong>nice</strong>" in page
    tag_id = re.search(rf'href="{repo}/tags/(\d+)/delete"', admin.get(repo).get_data(
        as_text=True))
    assert tag_id
    confirm = admin.get(f"{repo}/tags/{tag_id.group(1)}/delete").get_data(as_text=True)
    assert "<li>v1</li>" in confirm and "<li>stable</li>" in confirm
    anonymous = webui.test_client().get(repo)
    body = anonymous.get_data(as_text=True)
    assert anonymous.status_code == 200
    assert 'id="star-button"' not in body and 'id="add-comment"' not in body


def test_application_token_shown_once_then_revoked(admin: FlaskClient) -> None:
    resp = post(admin, "/profile/tokens", {"application": "ci"})
    assert resp.status_code == 201
    shown = re.search(r'id="new-token" readonly value="([^"]+)"',
                      resp.get_data(as_text=True))
    assert shown and len(shown.group(1)) > 16
    page = admin.get("/profile").get_data(as_text=True)
    assert shown.group(1) not in page
    token_id = re.search(r'/profile/tokens/(\d+)/revoke', page)
    assert token_id
    post(admin, f"/profile/tokens/{token_id.group(1)}/revoke")
    assert "/revoke" not in admin.get("/profile").get_data(as_text=True)


def test_admin_disables_a_user_who_then_cannot_sign_in(webui: Flask, admin: FlaskClient,
                                                       bob: FlaskClient) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    match = re.search(r'data-user="bob".*?/admin/users/(\d+)', page, re.DOTALL)
    assert match, page
    ids = {"bob": match.group(1)}
    post(admin, f"/admin/users/{ids['bob']}", {"action": "disable"})
    client = webui.test_client()
    resp = client.post("/login", data={"username": "bob", "password": "bob-password-1",
                                       "csrf_token": csrf_of(client)})
    assert resp.status_code == 401
    assert bob.get("/profile").status_code in (200, 302)


def test_non_admin_is_refused_admin_pages(bob: FlaskClient) -> None:
    assert bob.get("/admin/users").status_code in (403, 302)


def test_a_user_who_just_signed_up_can_be_added_to_a_team_at_once(
        webui: Flask, admin: FlaskClient) -> None:
    # carol never called the catalog, and the bus here delivers nothing: the
    # catalog finds her at the token service.
    assert _sign_up(webui.test_client(), "carol", "carol-password-1").status_code == 302
    team_path = post(admin, "/teams", {"name": "newcomers"}).headers["Location"]
    post(admin, f"{team_path}/members", {"user": "carol", "role": "contributor"})
    page = admin.get(team_path).get_data(as_text=True)
    assert "carol" in page and "unknown user" not in page
