"""Injection: SQL through sort, filter and search parameters; LIKE wildcards
that would leak other names; LDAP filter metacharacters and empty passwords."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import Berth, assert_error_shape

SQL = ["id; DROP TABLE users", "id desc", "(select 1)", "username' OR '1'='1",
       "1,2", "id--", "users.password_hash", "CASE WHEN 1=1 THEN id END"]


@pytest.fixture(scope="module")
def images(berth: Berth) -> dict[str, int]:
    """Public repositories by root, and bob's private namespace with a repository."""
    berth.push("library-ish")
    berth.push("root/ab_cd")
    berth.push("root/abXcd")
    repos = berth.catalog_call("GET", "/api/v1/repositories", params={"all": "true"},
                               headers=berth.as_("root")).json()
    return {r["full_name"]: r["id"] for r in repos}


@pytest.mark.parametrize("value", SQL)
@pytest.mark.parametrize(("service", "path", "who"), [
    ("token", "/api/v1/users", "root"),
    ("catalog", "/api/v1/teams", "alice"),
    ("catalog", "/api/v1/namespaces", "alice"),
    ("catalog", "/api/v1/repositories", "alice"),
])
def test_sort_attr_comes_from_an_allow_list(berth: Berth, service: str, path: str,
                                            who: str, value: str) -> None:
    call = berth.token_call if service == "token" else berth.catalog_call
    resp = call("GET", path, params={"sort_attr": value}, headers=berth.as_(who))
    assert_error_shape(resp, 422)
    resp = call("GET", path, params={"sort_order": value}, headers=berth.as_(who))
    assert_error_shape(resp, 422)


@pytest.mark.parametrize("q", ["' OR 1=1 --", "\\", "%' OR '%'='", "\"; DROP TABLE x;",
                               "')) UNION SELECT password_hash FROM users --"])
def test_search_treats_input_as_text(berth: Berth, images: dict[str, int],
                                     q: str) -> None:
    resp = berth.catalog_call("GET", "/api/v1/search", params={"q": q},
                              headers=berth.as_("alice"))
    assert resp.status_code in (200, 422), resp.text
    if resp.status_code == 200:
        assert resp.json()["totals"] == {"repositories": 0, "namespaces": 0, "teams": 0}


@pytest.mark.parametrize(("q", "expected"), [
    ("_", {"root/ab_cd"}), ("ab_cd", {"root/ab_cd"}), ("%", set()), ("b%c", set()),
])
def test_like_wildcards_match_only_themselves(berth: Berth, images: dict[str, int],
                                              q: str, expected: set[str]) -> None:
    resp = berth.catalog_call("GET", "/api/v1/search", params={"q": q},
                              headers=berth.as_("root"))
    assert resp.status_code == 200, resp.text
    found = {r["full_name"] for r in resp.json()["repositories"]}
    assert found == expected


def test_like_wildcards_never_reveal_private_names(berth: Berth) -> None:
    resp = berth.catalog_call("GET", "/api/v1/search", params={"q": "%"},
                              headers=berth.as_("alice"))
    assert resp.status_code == 200
    names = [n["name"] for n in resp.json()["namespaces"]]
    assert "bob" not in names and "root" not in names


def test_comment_bodies_are_data(berth: Berth, images: dict[str, int]) -> None:
    rid = images["library-ish"]
    body = "'); DELETE FROM comments; -- <script>alert(1)</script>"
    resp = berth.catalog_call("POST", f"/api/v1/repositories/{rid}/comments",
                              headers=berth.as_("alice"), json={"comment": {"body": body}})
    assert resp.status_code == 201, resp.text
    comments = berth.catalog_call("GET", f"/api/v1/repositories/{rid}/comments",
                                  headers=berth.as_("alice")).json()
    assert body in [c["body"] for c in comments]
    # and only its author (or an admin) may delete it
    cid = resp.json()["id"]
    other = berth.catalog_call("DELETE", f"/api/v1/repositories/{rid}/comments/{cid}",
                               headers=berth.as_("bob"))
    assert other.status_code in (403, 404)
    missing = berth.catalog_call("DELETE",
                                 f"/api/v1/repositories/{rid}/comments/999999",
                                 headers=berth.as_("bob"))
    if other.status_code == 404:
        assert other.json() == missing.json()


# --- LDAP ------------------------------------------------------------------

ldap_server: Any = pytest.importorskip("services.token.tests.ldap_server")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not ldap_server.available():
        pytest.skip("slapd is not installed")
    with ldap_server.run_slapd(Path(tmp_path_factory.mktemp("slapd"))) as server:
        yield server


@pytest.fixture(scope="module")
def ldap_token(slapd: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A token app logging in through the real slapd (catalog not needed)."""
    from berth.common.signing import Signer, generate_key

    from tests.security.conftest import make_token_app, token_config

    home = tmp_path_factory.mktemp("ldap-token")
    config = token_config(home, "http://127.0.0.1:9", "http://127.0.0.1:9",
                          f"sqlite:///{home / 'token.sqlite'}",
                          BERTH_LDAP_ENABLED="true", BERTH_LDAP_HOST=slapd.host,
                          BERTH_LDAP_PORT=str(slapd.port), BERTH_LDAP_BASE=slapd.base,
                          BERTH_LDAP_ADMIN_BASE=f"ou=admins,{slapd.base}")
    return make_token_app(config, Signer([generate_key("ES256")])).test_client()


def _login(client: Any, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", json={
        "grant_type": "password", "username": username, "password": password})


@pytest.mark.parametrize("username", ["*", "jane)(uid=*", "ja*", "jane\\", "(uid=jane)",
                                      "*)(|(uid=*", "jane)(|(objectClass=*)",
                                      "boss)(uid=jane", "jane\u0000"])
def test_ldap_filter_metacharacters_find_nobody(ldap_token: Any, username: str) -> None:
    assert_error_shape(_login(ldap_token, username, "secret-jane"), 401)


@pytest.mark.parametrize("password", ["", "\u0000", "secret-jane\u0000"])
def test_ldap_empty_password_never_binds(ldap_token: Any, password: str) -> None:
    # An empty password is an LDAP "unauthenticated bind", which succeeds.
    assert _login(ldap_token, "jane", password).status_code in (401, 422)


def test_ldap_control_login_works(ldap_token: Any) -> None:
    assert _login(ldap_token, "jane", "secret-jane").status_code == 200


@pytest.mark.parametrize("q", ["\u0000", "a\u0000", "\u0000%", "\u0001", "\u001f",
                               "\u007f", "a\u0085b"])
def test_search_for_a_nul_matches_nothing(berth: Berth, images: dict[str, int],
                                          q: str) -> None:
    # A NUL ended the LIKE pattern on SQLite, so it matched every visible name.
    resp = berth.catalog_call("GET", "/api/v1/search", params={"q": q},
                              headers=berth.as_("alice"))
    assert_error_shape(resp, 422)
