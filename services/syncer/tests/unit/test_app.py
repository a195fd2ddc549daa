"""Ping, health, OpenAPI, config defaults."""

from __future__ import annotations

import re

from berth.syncer.config import load_config


def test_ping(client):
    assert client.get("/api/v1/_ping").get_json() == {"status": "ok"}


def test_health_reports_an_unreachable_registry(client):
    resp = client.get("/api/v1/health")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["database"]["success"] is True
    assert body["registry:registry.test:5000"]["success"] is False


def test_openapi_lists_every_route(app, client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert client.get("/api/v1/syncer/openapi.json").get_json() == doc
    rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule)
             for r in app.url_map.iter_rules()}
    for path in doc["paths"]:
        assert path in rules


def test_config_defaults_follow_the_public_url(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "notify").write_text("s3cret\n")
    cfg = load_config({"BERTH_HOME": str(tmp_path),
                       "BERTH_PUBLIC_URL": "https://berth.example:8443"})
    assert cfg.registry_hostname == "berth.example:8443"
    assert cfg.registry_service == "berth.example:8443"
    assert cfg.registry_notification_secret.reveal() == "s3cret"
    assert "s3cret" not in repr(cfg)
    assert cfg.sync_strategy == "update-delete" and cfg.sync_interval == 600
    assert cfg.database_url.endswith("db/syncer.sqlite")


def test_config_rejects_an_unknown_strategy(tmp_path):
    import pytest
    from berth.common.config import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config({"BERTH_HOME": str(tmp_path), "BERTH_SYNC_STRATEGY": "sometimes",
                     "BERTH_SYNC_INTERVAL": "0"})
    assert len(err.value.problems) == 2
