"""The token benchmark's baseline: a bare Flask endpoint returning constant JSON,
run under the same gunicorn settings as the token service."""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)
BODY = {"token": "x" * 600, "access_token": "x" * 600, "expires_in": 900,
        "issued_at": "2026-01-01T00:00:00Z"}


@app.get("/v2/token")
def token() -> object:
    return jsonify(BODY)
