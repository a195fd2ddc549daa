"""LDAP login against a real slapd started for this module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from berth.token.config import LdapSettings
from berth.token.errors import DirectoryUnavailable
from berth.token.services.directory import LdapDirectory, guess_email_from_dn
from ldap_server import LdapServer, available, run_slapd
from token_helpers import assert_error, basic

pytestmark = pytest.mark.skipif(not available(), reason="slapd is not installed")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    with run_slapd(Path(tmp_path_factory.mktemp("slapd"))) as server:
        yield server


def settings(server: LdapServer, **kw: object) -> LdapSettings:
    base = {"enabled": True, "host": server.host, "port": server.port,
            "base": server.base, "admin_base": f"ou=admins,{server.base}", "uid": "uid"}
    base.update(kw)
    return LdapSettings(**base)  # type: ignore[arg-type]


def ldap_env(server: LdapServer, **extra: str) -> dict[str, str]:
    env = {"BERTH_LDAP_ENABLED": "true", "BERTH_LDAP_HOST": server.host,
           "BERTH_LDAP_PORT": str(server.port), "BERTH_LDAP_BASE": server.base,
           "BERTH_LDAP_ADMIN_BASE": f"ou=admins,{server.base}"}
    env.update(extra)
    return env


@pytest.mark.parametrize("service_bind", [False, True])
def test_search_then_bind(slapd, service_bind) -> None:
    kw = {"bind_dn": slapd.service_dn, "bind_password": slapd.service_pw} \
        if service_bind else {}
    directory = LdapDirectory(settings(slapd, **kw))
    entry = directory.authenticate("jane", "secret-jane")
    assert entry is not None and entry.dn == f"uid=jane,ou=people,{slapd.base}"
    assert entry.admin is False
    boss = directory.authenticate("boss", "secret-boss")
    assert boss is not None and boss.admin is True
    assert directory.authenticate("jane", "wrong") is None
    assert directory.authenticate("nobody", "secret-jane") is None


@pytest.mark.parametrize("username", ["*", "jane)(uid=*", "ja*", "jane\\", "(uid=jane)"])
def test_filter_injection_finds_nobody(slapd, username) -> None:
    assert LdapDirectory(settings(slapd)).authenticate(username, "secret-jane") is None


def test_empty_password_never_binds(slapd) -> None:
    assert LdapDirectory(settings(slapd)).authenticate("jane", "") is None


@pytest.mark.parametrize("password", ["\u0000", "secret-jane\u0000", "\u0007x"])
def test_password_ldap_cannot_carry_is_a_wrong_password(slapd, password) -> None:
    assert LdapDirectory(settings(slapd)).authenticate("jane", password) is None


def test_extra_filter_narrows_the_search(slapd) -> None:
    directory = LdapDirectory(settings(slapd, filter="(mail=*)"))
    assert directory.authenticate("jane", "secret-jane") is not None
    assert directory.authenticate("boss", "secret-boss") is None


def test_guess_email(slapd) -> None:
    by_attr = LdapDirectory(settings(slapd, guess_email_enabled=True,
                                     guess_email_attr="mail"))
    assert by_attr.authenticate("jane", "secret-jane").email == "jane@example.org"
    by_dn = LdapDirectory(settings(slapd, guess_email_enabled=True))
    assert by_dn.authenticate("boss", "secret-boss").email == "boss@example.org"
    assert guess_email_from_dn("uid=x,ou=p", "x") is None


def test_wrong_service_password_is_unavailable_not_a_refusal(slapd) -> None:
    directory = LdapDirectory(settings(slapd, bind_dn=slapd.service_dn,
                                       bind_password="wrong"))
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("jane", "secret-jane")


def test_unreachable_server_is_unavailable(slapd) -> None:
    from berth.common.testing import free_port

    directory = LdapDirectory(settings(slapd, port=free_port()), timeout=1)
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("jane", "secret-jane")


def test_first_ldap_login_creates_the_user(make_app, slapd) -> None:
    app = make_app(**ldap_env(slapd, BERTH_LDAP_GUESS_EMAIL_ENABLED="true",
                              BERTH_LDAP_GUESS_EMAIL_ATTR="mail"))
    client = app.test_client()
    resp = client.get("/v2/token?service=s", headers=basic("jane", "secret-jane"))
    assert resp.status_code == 200
    internal = client.get("/internal/v1/users?username=jane",
                          headers={"X-Berth-Internal": "internal-test-secret"}).get_json()
    assert internal["email"] == "jane@example.org" and internal["admin"] is False
    # cached now, and refused with a wrong password
    assert client.get("/v2/token?service=s",
                      headers=basic("jane", "secret-jane")).status_code == 200
    assert_error(client.get("/v2/token?service=s", headers=basic("jane", "nope")), 401)
    boss = client.post("/api/v1/auth/token", headers=basic("boss", "secret-boss"))
    assert boss.status_code == 200
    users = client.get("/api/v1/users", headers={
        "Authorization": f"Bearer {boss.get_json()['token']}"}).get_json()
    assert {u["username"]: u["admin"] for u in users} == {"jane": False, "boss": True}


def test_ldap_down_is_503(make_app, slapd) -> None:
    from berth.common.testing import free_port

    app = make_app(**ldap_env(slapd, BERTH_LDAP_PORT=str(free_port())))
    resp = app.test_client().get("/v2/token?service=s",
                                 headers=basic("jane", "secret-jane"))
    assert_error(resp, 503)


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    with run_slapd(Path(tmp_path_factory.mktemp("slapd-tls")), tls=True) as server:
        yield server


def test_start_tls(tls_slapd) -> None:
    directory = LdapDirectory(settings(tls_slapd, encryption="start_tls",
                                       ca_file=tls_slapd.ca_file))
    assert directory.authenticate("jane", "secret-jane") is not None


def test_simple_tls(tls_slapd) -> None:
    directory = LdapDirectory(settings(tls_slapd, encryption="simple_tls",
                                       port=tls_slapd.tls_port,
                                       ca_file=tls_slapd.ca_file))
    assert directory.authenticate("jane", "secret-jane") is not None
    assert directory.authenticate("jane", "wrong") is None


@pytest.mark.parametrize("encryption", ["start_tls", "simple_tls"])
def test_untrusted_certificate_is_unavailable(tls_slapd, tmp_path, encryption) -> None:
    from ldap_server import write_tls_files

    other_ca = write_tls_files(tmp_path)[0]
    port = tls_slapd.tls_port if encryption == "simple_tls" else tls_slapd.port
    directory = LdapDirectory(settings(tls_slapd, encryption=encryption, port=port,
                                       ca_file=str(other_ca)), timeout=2)
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("jane", "secret-jane")
