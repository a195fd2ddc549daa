"""Request parsing: JSON or form bodies, Portus nesting, pagination, LIKE escaping."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify

from berth.common.app import base_app
from berth.common.web import escape_like, nested, page_params, request_data


@pytest.fixture
def client() -> object:
    app: Flask = base_app("test", __name__)

    @app.post("/body")
    def body() -> object:
        return jsonify(nested(request_data(), "user"))

    @app.get("/list")
    def lst() -> object:
        p = page_params(["name", "created_at"])
        return jsonify({"page": p.page, "per_page": p.per_page, "sort": p.sort_attr,
                        "desc": p.descending, "offset": p.offset})

    return app.test_client()


def test_json_and_form_bodies_are_equivalent(client) -> None:
    as_json = client.post("/body", json={"user": {"username": "a"}}).json
    as_form = client.post("/body", data={"user[username]": "a"}).json
    assert as_json == as_form == {"username": "a"}


def test_malformed_json_is_400(client) -> None:
    resp = client.post("/body", data="{bad", content_type="application/json")
    assert resp.status_code == 400 and resp.json["message"]


def test_non_object_nested_is_422(client) -> None:
    assert client.post("/body", json={"user": "x"}).status_code == 422


def test_pagination_defaults_cap_and_allow_list(client) -> None:
    assert client.get("/list").json == {"page": 1, "per_page": 15, "sort": "name",
                                        "desc": False, "offset": 0}
    assert client.get("/list?per_page=100000&page=3").json["per_page"] == 100
    assert client.get("/list?sort_attr=password").status_code == 422
    assert client.get("/list?sort_order=sideways").status_code == 422
    assert client.get("/list?page=0").status_code == 422
    assert client.get("/list?page=x").status_code == 422
    # An offset past 64 bits made MySQL and SQLite fail with a 500.
    assert client.get(f"/list?page={10**20}").status_code == 422


def test_like_wildcards_are_escaped() -> None:
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"


def test_client_address_believes_only_trusted_proxies() -> None:
    from berth.common.web import client_address

    app: Flask = base_app("test", __name__, trusted_proxies="127.0.0.0/8")

    @app.get("/addr")
    def addr() -> object:
        return jsonify({"addr": client_address()})

    c = app.test_client()
    via_proxy = c.get("/addr", headers={"X-Forwarded-For": "203.0.113.9"},
                      environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert via_proxy.json["addr"] == "203.0.113.9"
    spoofed = c.get("/addr", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.9"},
                    environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert spoofed.json["addr"] == "203.0.113.9"
    direct = c.get("/addr", headers={"X-Forwarded-For": "1.2.3.4"},
                   environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert direct.json["addr"] == "198.51.100.7"
