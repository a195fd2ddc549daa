"""LDAP login (Portus' ``ldap`` options) with ldap3: search for the user (as
the service account, or anonymously), then bind as the entry found with the
given password. User input is escaped in the filter; an empty password never
reaches a bind (an LDAP "unauthenticated bind" would succeed without one)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from berth.token.config import LdapSettings
from berth.token.errors import DirectoryUnavailable

if TYPE_CHECKING:  # ldap3 is loaded only where LDAP is configured and used
    from ldap3 import Connection, Server

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DirectoryEntry:
    """A user the directory vouched for."""

    dn: str
    username: str
    email: str | None
    admin: bool


class Directory(Protocol):
    """An external user directory."""

    def authenticate(self, username: str, password: str) -> DirectoryEntry | None:
        """The entry when the password is right, None when not; raises
        DirectoryUnavailable when the directory cannot answer."""


def _in_base(dn: str, base: str) -> bool:
    from ldap3.utils.dn import parse_dn

    if not base:
        return False
    norm = ",".join(f"{k.lower()}={v.lower()}" for k, v, _ in parse_dn(dn))
    wanted = ",".join(f"{k.lower()}={v.lower()}" for k, v, _ in parse_dn(base))
    return norm == wanted or norm.endswith("," + wanted)


def guess_email_from_dn(dn: str, username: str) -> str | None:
    """``username@`` the DN's ``dc`` components (Portus' fallback), if any."""
    from ldap3.utils.dn import parse_dn

    domain = [v for k, v, _ in parse_dn(dn) if k.lower() == "dc"]
    return f"{username}@{'.'.join(domain)}" if domain else None


class LdapDirectory:
    """Search-then-bind against one LDAP server."""

    def __init__(self, settings: LdapSettings, timeout: float = 5.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def _server(self) -> Server:
        from ldap3 import NONE, Server, Tls

        s = self.settings
        tls = None
        if s.encryption != "none":
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=s.ca_file or None)
        return Server(s.host, port=s.port, use_ssl=s.encryption == "simple_tls",
                      tls=tls, get_info=NONE, connect_timeout=self.timeout)

    def _connection(self, server: Server, user: str | None,
                    password: str | None) -> Connection:
        from ldap3 import Connection

        conn = Connection(server, user=user, password=password, auto_bind=False,
                          receive_timeout=max(1, int(self.timeout)), raise_exceptions=False,
                          read_only=True)
        conn.open()
        # Never fall back to plain text: a failed StartTLS is an unusable directory.
        if self.settings.encryption == "start_tls" and not conn.start_tls():
            conn.unbind()
            raise DirectoryUnavailable("StartTLS failed")
        return conn

    def authenticate(self, username: str, password: str) -> DirectoryEntry | None:
        """Search for ``username`` and bind as the entry with ``password``."""
        from ldap3.core.exceptions import (
            LDAPBindError,
            LDAPException,
            LDAPSASLPrepError,
        )

        if not username or not password:
            return None
        s = self.settings
        server = self._server()
        try:
            service = self._connection(server, s.bind_dn or None, s.bind_password or None)
            try:
                if not service.bind():
                    log.warning("ldap_service_bind_failed", result=service.result.get(
                        "description"))
                    raise DirectoryUnavailable("service bind refused")
                entry = self._search(service, username)
            finally:
                service.unbind()
            if entry is None:
                return None
            dn, attrs = entry
            user_conn = self._connection(server, dn, password)
            try:
                if not user_conn.bind():
                    return None
            except LDAPSASLPrepError:
                # A password LDAP cannot carry (e.g. a NUL): a wrong password,
                # not a directory outage.
                return None
            finally:
                user_conn.unbind()
        except LDAPBindError:
            return None
        except LDAPException as exc:
            log.warning("ldap_unavailable", error=type(exc).__name__)
            raise DirectoryUnavailable(str(exc)) from exc
        return DirectoryEntry(dn=dn, username=username, email=self._email(dn, attrs,
                                                                           username),
                              admin=_in_base(dn, s.admin_base))

    def _search(self, conn: Connection, username: str) -> tuple[str, dict[str, Any]] | None:
        from ldap3 import SUBTREE
        from ldap3.utils.conv import escape_filter_chars

        s = self.settings
        uid_filter = f"({s.uid}={escape_filter_chars(username)})"
        extra = s.filter.strip()
        if extra and not extra.startswith("("):
            extra = f"({extra})"
        query = f"(&{uid_filter}{extra})" if extra else uid_filter
        attributes = [s.uid, "mail"]
        if s.guess_email_attr:
            attributes.append(s.guess_email_attr)
        ok = conn.search(s.base, query, search_scope=SUBTREE, attributes=attributes,
                         size_limit=2)
        if not ok and conn.result.get("result") not in (0, 4):
            if conn.result.get("result") == 32:  # noSuchObject: base missing
                return None
            raise DirectoryUnavailable(str(conn.result.get("description")))
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        if len(entries) != 1:  # none, or ambiguous: never guess which one
            return None
        return entries[0]["dn"], dict(entries[0].get("attributes") or {})

    def _email(self, dn: str, attrs: dict[str, Any], username: str) -> str | None:
        s = self.settings
        if not s.guess_email_enabled:
            return None
        if s.guess_email_attr:
            value = attrs.get(s.guess_email_attr)
            if isinstance(value, list):
                value = value[0] if value else None
            return str(value) if value else None
        return guess_email_from_dn(dn, username)
