"""Structured logs never carry secrets."""

from __future__ import annotations

import pytest
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


JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJhbGljZSJ9."
       "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg")


def test_secret_shaped_values_are_redacted_under_any_key() -> None:
    event = {
        "event": f"token issued {JWT}",
        "error": "(pymysql.err.OperationalError) can't connect "
                 "mysql+pymysql://berth:db-pa55@db:3306/berth",
        "url": "amqp://guest:amqp-pa55@127.0.0.1:5672//",
        "header": "Basic YWxpY2U6cGFzc3dvcmQ=", "other": "bearer abcdEFGH.1234",
        "exception": "Traceback...\nIntegrityError: [SQL: INSERT INTO users "
                     "(username, password_hash) VALUES (%s, %s)]\n[parameters: "
                     "('alice', '$argon2id$v=19$secret-hash')]\n(Background on this "
                     "error at: https://sqlalche.me/e/20/gkpj)",
        "pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
        "nested": {"body": {"password": "pw-nested", "note": [f"x {JWT}"]}},
        "username": "alice", "count": 3,
    }
    out = redact(None, "info", dict(event))
    text = repr(out)
    for secret in (JWT, "c2lnbmF0dXJl", "db-pa55", "amqp-pa55", "YWxpY2U6",
                   "abcdEFGH", "secret-hash", "MIIEvQIBADANBg", "pw-nested"):
        assert secret not in text, secret
    assert out["event"] == "token issued ***"
    assert out["url"] == "amqp://guest:***@127.0.0.1:5672//"
    assert "https://sqlalche.me" in out["exception"]
    assert out["username"] == "alice" and out["count"] == 3


def test_an_exception_text_is_redacted_in_the_rendered_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    import structlog
    from berth.common.logging import configure_logging

    configure_logging("test", "INFO")
    try:
        raise RuntimeError(f"could not verify {JWT} for amqp://u:hunter2@h/")
    except RuntimeError:
        structlog.get_logger("t").exception("boom", detail=f"Bearer {JWT}")
    err = capsys.readouterr().err
    assert "boom" in err and "RuntimeError" in err
    assert JWT not in err and "hunter2" not in err


@pytest.mark.parametrize(("level", "info", "warning"),
                         [("INFO", True, True), ("WARNING", False, True),
                          ("debug", True, True), ("ERROR", False, False)])
def test_log_enabled_follows_the_configured_level(level: str, info: bool,
                                                  warning: bool) -> None:
    import logging

    from berth.common.logging import configure_logging, log_enabled

    configure_logging("test", level)
    try:
        assert log_enabled(logging.INFO) is info
        assert log_enabled(logging.WARNING) is warning
    finally:
        configure_logging("test", "INFO")


@pytest.mark.parametrize(("level", "lines"), [("INFO", 1), ("WARNING", 0)])
def test_request_line_only_when_info_is_on(capsys: pytest.CaptureFixture[str],
                                           level: str, lines: int) -> None:
    from berth.common.logging import configure_logging, install_request_logging
    from flask import Flask

    configure_logging("test", level)
    try:
        app = Flask(__name__)
        install_request_logging(app)
        app.get("/x")(lambda: "ok")
        resp = app.test_client().get("/x")
        assert resp.status_code == 200 and resp.headers["X-Request-ID"]
        assert capsys.readouterr().err.count('"request_served"') == lines
    finally:
        configure_logging("test", "INFO")


def test_lines_follow_stderr_after_the_stream_they_were_configured_with_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    import structlog
    from berth.common.logging import configure_logging

    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("test", "INFO")
    first.close()  # e.g. a test's capture that has ended
    monkeypatch.setattr(sys, "stderr", second)
    structlog.get_logger("x").info("still_written")
    assert '"still_written"' in second.getvalue()


def test_a_record_and_its_newline_are_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    # Workers sharing one pipe interleave between writes, not within one: a
    # record written apart from its newline lets another's land on its line.
    import sys

    import structlog
    from berth.common.logging import configure_logging

    class Recording:
        def __init__(self) -> None:
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    stream = Recording()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("test", "INFO")
    structlog.get_logger("x").info("one_write", detail="d")
    assert len(stream.writes) == 1
    assert stream.writes[0].endswith("}\n") and '"one_write"' in stream.writes[0]


def test_a_line_that_cannot_be_written_is_dropped_not_raised(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A worker whose log pipe lost its reader (its master killed) must still
    # answer: the request-served line is written after the view has run.
    import sys

    import structlog
    from berth.common.logging import configure_logging

    class Broken:
        def write(self, _text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stderr", Broken())
    configure_logging("test", "INFO")
    structlog.get_logger("x").info("into_nowhere")
    structlog.get_logger("x").error("still_nowhere")


def test_a_view_names_its_request_line_and_adds_to_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from berth.common.logging import (
        configure_logging,
        describe_request,
        install_request_logging,
    )
    from flask import Flask

    configure_logging("test", "INFO")
    app = Flask(__name__)
    install_request_logging(app)

    def view() -> str:
        describe_request("thing_done", thing="t1", count=2)
        return "ok"

    app.get("/x")(view)
    assert app.test_client().get("/x").status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 1
    assert lines[0]["event"] == "thing_done"
    assert (lines[0]["thing"], lines[0]["count"]) == ("t1", 2)
    assert (lines[0]["path"], lines[0]["status"]) == ("/x", 200)
