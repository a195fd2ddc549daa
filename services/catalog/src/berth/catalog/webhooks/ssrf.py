"""Which addresses a webhook may reach: none that is internal (loopback,
private, link-local, unspecified, multicast, reserved, the cloud metadata
address) unless an allow-listed network holds it."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from berth.common.web import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[IPAddress]]

METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "100.100.100.200"))


class Refused(Exception):
    """The target is not one a webhook may reach."""


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (numeric forms included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


@dataclass(frozen=True)
class AddressPolicy:
    """Decides on resolved addresses, never on host names."""

    allowed: Sequence[IPNetwork] = ()

    def problem(self, ip: IPAddress) -> str | None:
        """Why ``ip`` is refused, or None when it may be reached."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allowed if net.version == ip.version):
            return None
        if ip in METADATA:
            return "the metadata address"
        for attr in ("loopback", "link_local", "private", "unspecified",
                     "multicast", "reserved"):
            if getattr(ip, f"is_{attr}"):
                return f"a {attr.replace('_', '-')} address"
        if not ip.is_global:
            return "a non-public address"
        return None

    def check(self, addresses: Sequence[IPAddress], host: str) -> None:
        """Refuse unless every address may be reached (one bad one is enough)."""
        if not addresses:
            raise Refused(f"{host} resolves to no address")
        for ip in addresses:
            reason = self.problem(ip)
            if reason is not None:
                raise Refused(f"{host} resolves to {ip}, {reason}")


def split_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL; ValueError when unusable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("the URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("put credentials in username and password, not the URL")
    host = parts.hostname
    if not host:
        raise ValueError("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, host, port


def validate_url(url: str, policy: AddressPolicy,
                 resolver: Resolver = resolve) -> None:
    """Refuse a URL whose host is, or resolves to, a refused address.

    A name that does not resolve now is accepted: it is checked again, on the
    address actually connected to, at every delivery.
    """
    try:
        _scheme, host, port = split_target(url)
    except ValueError as exc:
        raise Refused(str(exc)) from exc
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError):
            return
    policy.check(addresses, host)
