"""An HTTP client that checks the address it connects to.

The host is resolved once per connection, every address is checked against
the :class:`AddressPolicy`, and the socket connects to the checked address:
a DNS answer that changes between the check and the connect (rebinding) can't
redirect a delivery. Proxies from the environment and redirects are ignored,
so neither can route around the check.
"""

from __future__ import annotations

import socket
from typing import Any

import requests
from berth.catalog.webhooks.ssrf import AddressPolicy, Refused, Resolver, resolve
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError


def _guarded_connect(conn: Any) -> socket.socket:
    policy: AddressPolicy = conn.address_policy
    resolver: Resolver = conn.resolver
    host = conn._dns_host
    try:
        addresses = resolver(host, conn.port)
    except OSError as exc:
        raise NewConnectionError(conn, f"cannot resolve {host}: {exc}") from exc
    policy.check(addresses, host)
    timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
    last: OSError | None = None
    for ip in addresses:
        try:
            sock = socket.create_connection((str(ip), conn.port), timeout)
        except TimeoutError as exc:
            raise ConnectTimeoutError(conn, f"connection to {host} timed out") from exc
        except OSError as exc:
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise NewConnectionError(conn, f"cannot connect to {host}: {last}")


class GuardedHTTPConnection(HTTPConnection):
    address_policy = AddressPolicy()
    resolver: Resolver = staticmethod(resolve)  # type: ignore[assignment]

    def _new_conn(self) -> socket.socket:
        return _guarded_connect(self)


class GuardedHTTPSConnection(HTTPSConnection):
    address_policy = AddressPolicy()
    resolver: Resolver = staticmethod(resolve)  # type: ignore[assignment]

    def _new_conn(self) -> socket.socket:
        return _guarded_connect(self)


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go through the address check."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver = resolve) -> None:
        self.address_policy = policy
        self.resolver = resolver
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        attrs = {"address_policy": self.address_policy,
                 "resolver": staticmethod(self.resolver)}
        http_conn = type("Conn", (GuardedHTTPConnection,), attrs)
        https_conn = type("Conn", (GuardedHTTPSConnection,), attrs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("Pool", (HTTPSConnectionPool,),
                          {"ConnectionCls": https_conn}),
        }

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        raise Refused("webhooks are never sent through a proxy")


def guarded_session(policy: AddressPolicy, resolver: Resolver = resolve
                    ) -> requests.Session:
    """A session for webhook deliveries (no env proxies, no redirects)."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = 0
    adapter = GuardedAdapter(policy, resolver)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


__all__ = ["GuardedAdapter", "Refused", "guarded_session"]
