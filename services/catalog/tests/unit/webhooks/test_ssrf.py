"""Which webhook targets are refused, on the URL and at connect time."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from berth.catalog.webhooks.sender import Sender
from berth.catalog.webhooks.ssrf import AddressPolicy, Refused, validate_url

from .conftest import LOCAL


def _never(host: str, port: int) -> list[Any]:
    raise AssertionError(f"no lookup expected for {host}")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.0.0.2:8080/", "http://10.1.2.3/",
    "http://172.16.0.1/", "http://172.31.255.254/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://169.254.1.1/",
    "http://0.0.0.0/", "http://[::1]/", "http://[fe80::1]/", "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "http://100.64.0.1/",
    "http://[fd00:ec2::254]/", "http://240.0.0.1/",
])
def test_internal_addresses_are_refused_without_connecting(url: str) -> None:
    with pytest.raises(Refused):
        validate_url(url, AddressPolicy(), resolver=_never)


@pytest.mark.parametrize("url", [
    "ftp://example.test/", "file:///etc/passwd", "http://user:pw@203.0.113.9/",
    "http:///nohost", "gopher://203.0.113.9/",
])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        validate_url(url, AddressPolicy(), resolver=_never)


def test_a_public_address_is_accepted_without_connecting() -> None:
    validate_url("https://93.184.216.34/hook", AddressPolicy(), resolver=_never)


def test_an_allow_listed_loopback_address_is_accepted() -> None:
    validate_url("http://127.0.0.1:9/", AddressPolicy(LOCAL), resolver=_never)


def test_loopback_outside_the_allow_list_is_refused() -> None:
    with pytest.raises(Refused, match="127.0.0.2"):
        validate_url("http://127.0.0.2:9/", AddressPolicy(LOCAL), resolver=_never)


def test_localhost_is_refused_by_what_it_resolves_to() -> None:
    with pytest.raises(Refused, match="loopback"):
        validate_url("http://localhost:9/", AddressPolicy())


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    def fake(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.5")]

    with pytest.raises(Refused, match="10.0.0.5"):
        validate_url("http://mixed.test/", AddressPolicy(), resolver=fake)


def test_numeric_host_forms_are_resolved_before_the_check() -> None:
    # 2130706433 is 127.0.0.1 to inet_aton: the string check alone would miss it.
    with pytest.raises(Refused, match="127.0.0.1"):
        validate_url("http://2130706433/", AddressPolicy())


def test_connect_time_refuses_loopback_outside_the_allow_list(receiver: Any) -> None:
    sender = Sender(AddressPolicy(LOCAL), 2.0)
    outcome = sender.send("POST", receiver.url(host="127.0.0.2"), {}, b"x")
    assert outcome.status is None
    assert outcome.error is not None and outcome.error.startswith("refused")
    assert receiver.requests == []


def test_connect_time_refuses_what_the_name_resolves_to_now(receiver: Any) -> None:
    # DNS rebinding: the name was fine when the webhook was saved; now it
    # answers a loopback address. The check runs on the address connected to.
    def rebound(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("127.0.0.1")]

    sender = Sender(AddressPolicy(), 2.0, resolver=rebound)
    outcome = sender.send("POST", f"http://hook.test:{receiver.port}/", {}, b"x")
    assert outcome.error is not None and "127.0.0.1" in outcome.error
    assert receiver.requests == []


def test_connects_to_the_checked_address_and_keeps_the_host_name(
        receiver: Any) -> None:
    calls: list[str] = []

    def pinned(host: str, port: int) -> list[Any]:
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    sender = Sender(AddressPolicy(LOCAL), 2.0, resolver=pinned)
    outcome = sender.send("POST", f"http://hook.test:{receiver.port}/p", {}, b"x")
    assert outcome.status == 200, outcome
    assert calls == ["hook.test"]
    assert receiver.requests[0].headers["Host"] == f"hook.test:{receiver.port}"


def test_proxies_from_the_environment_are_ignored(receiver: Any,
                                                  monkeypatch: Any) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.2:9")
    sender = Sender(AddressPolicy(LOCAL), 2.0)
    assert sender.send("POST", receiver.url(), {}, b"x").status == 200


def test_redirects_are_not_followed(receiver: Any) -> None:
    receiver.statuses = [302]
    outcome = Sender(AddressPolicy(LOCAL), 2.0).send("POST", receiver.url(), {}, b"")
    assert outcome.status == 302 and not outcome.succeeded
    assert len(receiver.requests) == 1
