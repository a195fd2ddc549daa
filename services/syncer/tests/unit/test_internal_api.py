"""POST /internal/v1/manifests/delete: service principal only, validation,
unknown registry, unreachable registry."""

from __future__ import annotations

import pytest
from syncer_testing import INTERNAL, USER

DIGEST = "sha256:" + "c" * 64
BODY = {"registry": "registry.test:5000", "repository": "team/app", "digest": DIGEST}
URL = "/internal/v1/manifests/delete"


def assert_error(resp, status, code=None):
    assert resp.status_code == status
    body = resp.get_json()
    assert body["message"] and body["errors"][0]["code"]
    if code:
        assert body["errors"][0]["code"] == code


def test_anonymous_is_401(client):
    assert_error(client.post(URL, json=BODY), 401)


def test_wrong_internal_secret_is_401(client):
    assert_error(client.post(URL, json=BODY, headers={"X-Berth-Internal": "nope"}), 401)


def test_a_user_is_403(client):
    assert_error(client.post(URL, json=BODY, headers=USER), 403)


def test_unknown_registry_is_404(client):
    resp = client.post(URL, json={**BODY, "registry": "elsewhere:5000"},
                       headers=INTERNAL)
    assert_error(resp, 404, "REGISTRY_UNKNOWN")


@pytest.mark.parametrize("change", [
    {"digest": "sha256:short"}, {"digest": "md5"}, {"repository": "Upper/Case"},
    {"repository": "../etc"}, {"registry": None}, {"repository": 5},
], ids=["short-digest", "no-algo", "uppercase", "dots", "no-registry", "number"])
def test_invalid_fields_are_422(client, change):
    assert_error(client.post(URL, json={**BODY, **change}, headers=INTERNAL), 422)


def test_malformed_json_is_400(client):
    assert_error(client.post(URL, data="{", content_type="application/json",
                             headers=INTERNAL), 400)


def test_unreachable_registry_is_503(client):
    assert_error(client.post(URL, json=BODY, headers=INTERNAL), 503,
                 "REGISTRY_UNAVAILABLE")
