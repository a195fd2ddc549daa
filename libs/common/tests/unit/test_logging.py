"""Structured logs never carry secrets."""

from __future__ import annotations

from berth.common.logging import redact


def test_secret_fields_are_redacted() -> None:
    event = {"event": "login", "password": "pw", "refresh_token": "t",
             "Authorization": "Basic x", "client_secret": "c", "username": "alice",
             "jti": "abc", "signing_key": "k"}
    out = redact(None, "info", dict(event))
    assert out["username"] == "alice" and out["jti"] == "abc"
    for key in ("password", "refresh_token", "Authorization", "client_secret",
                "signing_key"):
        assert out[key] == "***"
