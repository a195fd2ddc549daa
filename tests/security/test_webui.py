"""The web UI against the real token and catalog apps: stored XSS in every
user-supplied field it renders shows as text, every state-changing route
refuses a POST without the session's CSRF token, and ``next=`` never leaves
the site (only the Location header is checked: no traffic goes anywhere)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from berth.common.testing import free_port
from flask import Flask
from flask.testing import FlaskClient

from services.webui.tests.conftest import csrf_of, post, webui_config
from services.webui.tests.unit.test_real_services import Stack

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)><svg onload=alert(3)>"
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text")


class LiveMarkup(HTMLParser):
    """What of a page would run in a browser: event handlers, script-bearing
    elements, and links with script schemes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.found.append(f"<script {values}>")
        if tag in ("iframe", "svg", "object", "embed", "frame", "math", "base"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            cleaned = re.sub(r"[\s\x00-\x1f]", "", (value or "")).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    cleaned.startswith(BAD_SCHEMES):
                self.found.append(f"{tag} {name}={value}")


def live(page: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(page)
    return parser.found


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("webui-real") / "home")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def webui(services: Stack, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    dead = f"http://127.0.0.1:{free_port()}"
    app = create(services, tmp_path_factory.mktemp("webui"), dead)
    app.config["TESTING"] = True
    return app


def create(services: Stack, home: Any, dead: str) -> Flask:
    from berth.webui.app import create_app

    return create_app(webui_config(home, {"token": services.token_url,
                                          "catalog": services.catalog_url,
                                          "audit": dead, "syncer": dead}))


def sign_up(webui: Flask, username: str, email: str | None = None) -> tuple[FlaskClient,
                                                                            Any]:
    client = webui.test_client()
    password = f"{username}-password-1"
    resp = client.post("/signup", data={
        "username": username, "email": email or f"{username}@example.test",
        "password": password, "password_confirmation": password,
        "csrf_token": csrf_of(client, "/signup")})
    return client, resp


@pytest.fixture(scope="module")
def root(webui: Flask) -> FlaskClient:
    client, resp = sign_up(webui, "root")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


@pytest.fixture(scope="module")
def mallory(webui: Flask, root: FlaskClient) -> FlaskClient:
    client, resp = sign_up(webui, "mallory")
    assert resp.status_code == 302
    return client


def assert_inert(page: str, marker: str) -> None:
    """The payload's marker is on the page (so the field IS rendered), and
    nothing of it is live markup."""
    assert marker in page, f"{marker} not rendered"
    assert live(page) == []


# --- stored XSS --------------------------------------------------------------


def test_display_name_and_email_render_as_text(webui: Flask, root: FlaskClient,
                                               mallory: FlaskClient) -> None:
    resp = post(mallory, "/profile/display_name", {"display_name": "DN1" + XSS})
    assert resp.status_code in (200, 302, 422)
    _client, resp = sign_up(webui, "eve", email="eve\"onclick=alert(1)@example.test")
    for path in ("/profile", "/", "/admin/users"):
        page = root.get(path).get_data(as_text=True) if path == "/admin/users" \
            else mallory.get(path).get_data(as_text=True)
        assert live(page) == [], path
    assert_inert(root.get("/admin/users").get_data(as_text=True), "DN1")


def test_team_and_namespace_fields_render_as_text(root: FlaskClient,
                                                  mallory: FlaskClient) -> None:
    resp = post(mallory, "/teams", {"name": "xss-team", "description": "TD1" + XSS})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    team = resp.headers["Location"]
    post(mallory, "/teams", {"name": "T2" + XSS, "description": "x"})
    resp = post(mallory, "/namespaces", {"name": "xssns", "team": "xss-team",
                                         "description": "ND1" + XSS})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ns = resp.headers["Location"]
    post(mallory, ns, {"visibility": "public", "description": "ND2" + XSS})
    assert_inert(mallory.get(team).get_data(as_text=True), "TD1")
    assert_inert(mallory.get("/teams").get_data(as_text=True), "xss-team")
    assert_inert(root.get(ns).get_data(as_text=True), "ND")
    assert_inert(root.get("/namespaces").get_data(as_text=True), "xssns")
    assert_inert(root.get("/search?q=xss").get_data(as_text=True), "xssns")


@pytest.mark.parametrize("body", [
    "C1 " + XSS,
    "C2 [click](javascript:alert(1))",
    "C3 [click](JaVaScRiPt:alert(1))",
    "C4 [click](  javascript:alert(1))",
    "C5 <a href=\"javascript:alert(1)\">x</a>",
    "C6 ![x](javascript:alert(1))",
    "C7 [x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "C8 <iframe src=//evil.example></iframe>",
    "C9 [x](vbscript:msgbox(1))",
    "C10 <details open ontoggle=alert(1)>",
    "C11 [x]: javascript:alert(1)\n\n[y][x]",
])
def test_comment_markdown_renders_as_text(services: Stack, root: FlaskClient,
                                          mallory: FlaskClient, body: str) -> None:
    services.push("xssns/app", "v1", "sha256:" + "d" * 64, "mallory")
    page = root.get("/search?q=xssns/app").get_data(as_text=True)
    repo = re.search(r'href="(/repositories/\d+)"', page)
    assert repo, page
    resp = post(mallory, f"{repo.group(1)}/comments", {"body": body})
    assert resp.status_code in (200, 201, 302), resp.get_data(as_text=True)
    resp = root.get(repo.group(1))
    assert_inert(resp.get_data(as_text=True), body.split(" ", 1)[0])
    # and were anything to slip through, the browser would not run it
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_repository_description_and_tag_names_render_as_text(
        services: Stack, root: FlaskClient, mallory: FlaskClient) -> None:
    services.push("xssns/tags", "v1", "sha256:" + "e" * 64, "mallory")
    for tag in ("<b>x</b>", "a\"onclick=alert(1)"):
        # the worker dead-letters a name it refuses; one it keeps must be text
        services.push("xssns/tags", tag, "sha256:" + "f" * 64, "mallory")
    page = root.get("/search?q=xssns/tags").get_data(as_text=True)
    repo = re.search(r'href="(/repositories/\d+)"', page)
    assert repo
    post(mallory, f"{repo.group(1)}/description", {"description": "RD1" + XSS})
    assert_inert(root.get(repo.group(1)).get_data(as_text=True), "RD1")
    assert_inert(root.get(repo.group(1)).get_data(as_text=True), "v1")


# --- CSRF --------------------------------------------------------------------


def post_routes(app: Flask) -> list[str]:
    """Every state-changing URL of the web UI (ids filled with 1)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()):
            continue
        urls.append(re.sub(r"<int:\w+>", "1", rule.rule))
    return sorted(urls)


def test_the_web_ui_has_the_post_routes_this_test_knows(webui: Flask) -> None:
    routes = post_routes(webui)
    assert len(routes) >= 25 and "/login" in routes and "/profile/tokens" in routes


@pytest.mark.parametrize("token", [None, "", "wrong-token", "csrf"])
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(
        webui: Flask, root: FlaskClient, token: str | None) -> None:
    refused = []
    for url in post_routes(webui):
        data = {} if token is None else {"csrf_token": token}
        data.update({"display_name": "csrf-victim", "application": "csrf",
                     "name": "csrfteam", "description": "csrf", "body": "csrf",
                     "visibility": "public", "action": "disable"})
        resp = root.post(url, data=data)
        if resp.status_code == 400 and "did not come from this site" in \
                resp.get_data(as_text=True):
            refused.append(url)
    assert refused == post_routes(webui)
    # and nothing changed
    assert "csrf-victim" not in root.get("/profile").get_data(as_text=True)
    assert "csrfteam" not in root.get("/teams").get_data(as_text=True)


def test_another_sessions_token_is_refused(webui: Flask, root: FlaskClient,
                                           mallory: FlaskClient) -> None:
    theirs = csrf_of(mallory, "/profile")
    resp = root.post("/profile/display_name", data={"display_name": "stolen",
                                                    "csrf_token": theirs})
    assert resp.status_code == 400
    resp = root.post("/profile/display_name", data={"display_name": "x"},
                     headers={"X-CSRF-Token": theirs})
    assert resp.status_code == 400


# --- open redirects ----------------------------------------------------------


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "http://evil.example/x",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "JAVASCRIPT:alert(1)",
    "///evil.example", "/\t/evil.example", "/%2F/evil.example".replace("%2F", "/"),
    "https:evil.example", " //evil.example", "\x00//evil.example", "//evil.example@x",
    "data:text/html,hi",
])
def test_next_never_leaves_the_site(webui: Flask, root: FlaskClient, target: str) -> None:
    client = webui.test_client()
    resp = client.post(f"/login?next={target}", data={
        "username": "root", "password": "root-password-1",
        "csrf_token": csrf_of(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and "evil" not in location and ":" not in location
    # in the form body too
    client = webui.test_client()
    resp = client.post("/login", data={
        "username": "root", "password": "root-password-1", "next": target,
        "csrf_token": csrf_of(client)})
    assert resp.headers["Location"] == "/" or "evil" not in resp.headers["Location"]


def test_a_path_on_the_site_is_kept(webui: Flask, root: FlaskClient) -> None:
    client = webui.test_client()
    resp = client.post("/login?next=/teams", data={
        "username": "root", "password": "root-password-1",
        "csrf_token": csrf_of(client)})
    assert resp.headers["Location"] == "/teams"


@pytest.mark.parametrize("html", [
    XSS, '<a href=" JavaScript:alert(1)">x</a>', "<a href='java\tscript:x'>x</a>",
    "<iframe src=//evil.example>", "<p onmouseover=alert(1)>x</p>",
    '<form action="javascript:alert(1)"></form>', "<script>alert(1)</script>",
])
def test_the_detector_sees_live_markup(html: str) -> None:
    # the XSS checks above are only as good as this
    assert live(f"<html><body>{html}</body></html>") != []
