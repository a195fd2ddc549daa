"""The one error shape, for raised AppErrors, Werkzeug errors and crashes."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import create_engine, text

from berth.common.app import base_app
from berth.common.errors import Denied, Invalid, RateLimited


def make_app() -> Flask:
    app = base_app("test", __name__)

    @app.get("/invalid")
    def invalid() -> str:
        raise Invalid("name is bad", code="NAME_INVALID", detail={"field": "name"})

    @app.get("/denied")
    def denied() -> str:
        raise Denied("no")

    @app.get("/limited")
    def limited() -> str:
        raise RateLimited("slow down", retry_after=7)

    @app.get("/crash")
    def crash() -> str:
        raise RuntimeError("secret internals")

    @app.get("/database-down")
    def database_down() -> str:
        # A real OperationalError: the database file cannot be opened.
        engine = create_engine("sqlite:////nonexistent-dir/berth.db")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "unreachable"

    @app.post("/echo")
    def echo() -> str:
        return "ok"

    return app


def test_app_error_has_the_one_shape() -> None:
    resp = make_app().test_client().get("/invalid")
    assert resp.status_code == 422
    assert resp.json == {"message": "name is bad", "errors": [
        {"code": "NAME_INVALID", "message": "name is bad", "detail": {"field": "name"}}]}


def test_werkzeug_errors_keep_status_and_headers() -> None:
    client = make_app().test_client()
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json["errors"][0]["code"] == "NOT_FOUND"
    wrong = client.delete("/invalid")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


def test_rate_limit_sets_retry_after() -> None:
    resp = make_app().test_client().get("/limited")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"


def test_unexpected_errors_hide_internals() -> None:
    resp = make_app().test_client().get("/crash")
    assert resp.status_code == 500
    assert "secret internals" not in resp.get_data(as_text=True)
    assert resp.json["errors"][0]["code"] == "INTERNAL_ERROR"


def test_database_down_is_503_without_internals() -> None:
    resp = make_app().test_client().get("/database-down")
    assert resp.status_code == 503
    assert resp.json["errors"][0]["code"] == "UNAVAILABLE"
    assert "nonexistent" not in resp.get_data(as_text=True)


def test_oversized_body_is_413_in_the_shape() -> None:
    resp = make_app().test_client().post("/echo", data=b"x" * (2 * 1024 * 1024))
    assert resp.status_code == 413 and resp.json["errors"][0]["code"] == "TOO_LARGE"


def test_request_id_is_echoed_or_generated() -> None:
    client = make_app().test_client()
    assert client.get("/denied", headers={"X-Request-ID": "abc-1"}).headers[
        "X-Request-ID"] == "abc-1"
    generated = client.get("/denied", headers={"X-Request-ID": "bad id!"})
    assert generated.headers["X-Request-ID"] != "bad id!"
    assert len(generated.headers["X-Request-ID"]) == 32


def test_an_id_beyond_64_bits_is_a_404_not_a_crash() -> None:
    app: Flask = base_app("test", __name__)

    @app.get("/things/<int:thing_id>")
    def thing(thing_id: int) -> str:
        return str(thing_id)

    client = app.test_client()
    assert client.get("/things/9223372036854775807").status_code == 200
    resp = client.get("/things/9223372036854775808")
    assert resp.status_code == 404 and resp.get_json()["errors"]


def test_a_huge_id_is_a_404_whatever_the_method() -> None:
    app: Flask = base_app("test", __name__)

    @app.delete("/things/<int:thing_id>")
    def drop(thing_id: int) -> str:
        return str(thing_id)

    @app.get("/things/<name>")
    def by_name(name: str) -> str:
        return name

    resp = app.test_client().delete("/things/99999999999999999999999")
    assert resp.status_code == 404 and resp.get_json()["errors"]
