"""Webhook pages of a namespace: list, create (secret shown once), settings,
headers, the delivery log with re-send, and one delivery's attempts."""

from __future__ import annotations

from typing import Any

import pytest
from berth.webui.api_client import ApiClient, ApiError, Page
from flask.testing import FlaskClient

from services.webui.tests.conftest import post
from services.webui.tests.fake_backend import FakeBackend

HOOK = {"id": 7, "name": "ci", "url": "https://ci.example.test/hook", "enabled": True,
        "namespace_id": 1, "request_method": "POST",
        "content_type": "application/json", "events": ["push", "delete"],
        "username": None, "has_password": False, "updatable": True,
        "destroyable": True,
        "headers": [{"id": 3, "name": "X-Team", "value": "qa", "webhook_id": 7}]}
DELIVERY = {"id": 9, "uuid": "0f0e-uuid", "webhook_id": 7, "event":
            "registry.manifest.pushed", "state": "succeeded", "status": 200,
            "attempts": 3, "duration_ms": 12, "error": None,
            "created_at": "2026-01-02T03:04:05Z", "next_attempt_at": None,
            "request_body": '{"action":"push"}',
            "attempt_log": [
                {"number": 1, "status": 500, "duration_ms": 5, "error": None,
                 "request_header": "{}", "response_header": "{}",
                 "response_body": "<script>alert(1)</script>"},
                {"number": 2, "status": None, "duration_ms": 10000,
                 "error": "timed out after 10 s", "request_header": "{}",
                 "response_header": "", "response_body": ""},
                {"number": 3, "status": 200, "duration_ms": 12, "error": None,
                 "request_header": "{}", "response_header": "{}",
                 "response_body": "ok"}]}


class Hooks:
    """Stands in for the catalog's webhook endpoints; records what was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail: ApiError | None = None

    def install(self, monkeypatch: Any) -> None:
        def rec(name: str, result: Any) -> Any:
            def method(_client: Any, *args: Any, **kw: Any) -> Any:
                self.calls.append((name, args))
                if self.fail is not None:
                    raise self.fail
                return result() if callable(result) else result
            return method

        page = Page(items=[HOOK], total=1)
        for name, result in {
                "webhooks": page, "webhook": HOOK,
                "create_webhook": {**HOOK, "secret": "s3cr3t-shown-once"},
                "update_webhook": HOOK, "toggle_webhook": HOOK,
                "delete_webhook": None, "add_webhook_header": {},
                "remove_webhook_header": None,
                "webhook_deliveries": lambda: Page(items=[DELIVERY], total=1),
                "webhook_delivery": DELIVERY,
                "resend_webhook_delivery": {**DELIVERY, "id": 10}}.items():
            monkeypatch.setattr(ApiClient, name, rec(name, result))

    def names(self) -> list[str]:
        return [n for n, _ in self.calls]


@pytest.fixture
def hooks(monkeypatch: Any, backend: FakeBackend) -> Hooks:
    backend.namespaces[1]["permissions"] = {"webhooks": True, "role": "owner"}
    h = Hooks()
    h.install(monkeypatch)
    return h


def test_namespace_page_links_to_its_webhooks(alice_client: FlaskClient,
                                              hooks: Hooks) -> None:
    page = alice_client.get("/namespaces/1").get_data(as_text=True)
    assert 'href="/namespaces/1/webhooks"' in page


def test_list_shows_webhooks_and_the_form_to_managers(alice_client: FlaskClient,
                                                      hooks: Hooks,
                                                      backend: FakeBackend) -> None:
    page = alice_client.get("/namespaces/1/webhooks").get_data(as_text=True)
    assert "https://ci.example.test/hook" in page and 'id="create-webhook"' in page
    backend.namespaces[1]["permissions"] = {"webhooks": False, "role": "viewer"}
    page = alice_client.get("/namespaces/1/webhooks").get_data(as_text=True)
    assert "ci.example.test" in page and 'id="create-webhook"' not in page


def test_create_shows_the_secret_once(alice_client: FlaskClient,
                                      hooks: Hooks) -> None:
    resp = post(alice_client, "/namespaces/1/webhooks", {
        "name": "ci", "url": "https://ci.example.test/hook", "request_method": "GET",
        "content_type": "application/json", "events_present": "1",
        "event_push": "1", "event_pull": "1", "password": "pw"},
        form_page="/namespaces/1/webhooks")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "s3cr3t-shown-once" in page
    name, (ns_id, fields) = hooks.calls[0]
    assert (name, ns_id) == ("create_webhook", 1)
    assert fields["events"] == ["push", "pull"] and fields["password"] == "pw"
    again = alice_client.get("/namespaces/1/webhooks/7").get_data(as_text=True)
    assert "s3cr3t-shown-once" not in again


def test_a_refused_url_is_shown_as_the_api_said(alice_client: FlaskClient,
                                                hooks: Hooks) -> None:
    hooks.fail = ApiError(422, "url is refused: 127.0.0.2 is a loopback address")
    resp = post(alice_client, "/namespaces/1/webhooks",
                {"name": "x", "url": "http://127.0.0.2/"},
                form_page="/namespaces/1/webhooks")
    assert resp.status_code == 302
    hooks.fail = None
    page = alice_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "127.0.0.2 is a loopback address" in page


def test_webhook_page_shows_deliveries_headers_and_settings(
        alice_client: FlaskClient, hooks: Hooks) -> None:
    page = alice_client.get("/namespaces/1/webhooks/7").get_data(as_text=True)
    assert 'id="deliveries"' in page and "succeeded" in page
    assert "/namespaces/1/webhooks/7/deliveries/9/resend" in page
    assert "X-Team" in page and 'id="edit-webhook"' in page


@pytest.mark.parametrize("path,data,call,args", [
    ("/namespaces/1/webhooks/7/deliveries/9/resend", {}, "resend_webhook_delivery",
     (1, 7, 9)),
    ("/namespaces/1/webhooks/7/toggle", {}, "toggle_webhook", (1, 7)),
    ("/namespaces/1/webhooks/7/delete", {}, "delete_webhook", (1, 7)),
    ("/namespaces/1/webhooks/7/headers", {"name": "X-A", "value": "1"},
     "add_webhook_header", (1, 7, "X-A", "1")),
    ("/namespaces/1/webhooks/7/headers/3/delete", {}, "remove_webhook_header",
     (1, 7, 3)),
    ("/namespaces/1/webhooks/7", {"name": "renamed", "clear_password": "1"},
     "update_webhook", (1, 7, {"name": "renamed", "password": ""})),
])
def test_actions_call_the_api(alice_client: FlaskClient, hooks: Hooks, path: str,
                              data: dict[str, str], call: str, args: Any) -> None:
    resp = post(alice_client, path, data, form_page="/namespaces/1/webhooks/7")
    assert resp.status_code == 302
    assert (call, args) in hooks.calls


def test_delivery_page_shows_every_attempt_escaped(alice_client: FlaskClient,
                                                   hooks: Hooks) -> None:
    page = alice_client.get("/namespaces/1/webhooks/7/deliveries/9").get_data(
        as_text=True)
    assert "Attempt 1: 500" in page and "Attempt 3: 200" in page
    assert "timed out after 10 s" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_pages_need_a_session(client: FlaskClient, hooks: Hooks) -> None:
    resp = client.get("/namespaces/1/webhooks")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert hooks.calls == []
