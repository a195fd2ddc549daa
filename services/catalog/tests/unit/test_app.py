"""Version, OpenAPI, health, and the config knobs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from berth.catalog.config import CatalogConfig
from berth.common.auth import Principal
from berth.common.config import ConfigError, load


def test_version(world: Any) -> None:
    body = world.client.get("/api/version").get_json()
    assert body["api-versions"] == ["v1"]


def test_openapi_lists_every_api_route(world: Any) -> None:
    doc = world.client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = set(doc["paths"])
    for rule in world.app.url_map.iter_rules():
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for name in ("team_id", "namespace_id", "repository_id", "registry_id"):
            path = path.replace("{" + name + "}", "{id}")
        if path.startswith("/api/v1/tags/"):
            path = path.replace("{tag_id}", "{id}")
        if path.startswith("/api/v1/") and not path.startswith(
                ("/api/v1/_ping", "/api/v1/health", "/api/v1/catalog/")):
            assert path in documented, path
    assert world.client.get("/api/v1/catalog/openapi.json").status_code == 200


def test_health(world: Any) -> None:
    assert world.client.get("/api/v1/_ping").status_code == 200
    body = world.client.get("/api/v1/health").get_json()
    assert body["database"]["success"] is True


def test_config_defaults_follow_portus(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "notify").write_text("s3cret\n")
    cfg = load(CatalogConfig, {"BERTH_HOME": str(tmp_path),
                               "BERTH_PUBLIC_URL": "http://reg.example:8080"})
    assert cfg.delete_enabled and not cfg.delete_contributors
    assert cfg.push_policy == "allow-teams" and cfg.anonymous_browsing
    assert cfg.registry_hostname == "reg.example:8080"
    assert cfg.registry_service == "reg.example:8080"
    assert cfg.registry_notification_secret.reveal() == "s3cret"
    assert "s3cret" not in repr(cfg)
    assert cfg.database_url.endswith("db/catalog.sqlite")


def test_config_reports_every_bad_knob(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(CatalogConfig, {"BERTH_HOME": str(tmp_path), "BERTH_PUSH_POLICY": "all",
                             "BERTH_DELETE_ENABLED": "perhaps"})
    assert len(err.value.problems) == 2


def test_service_defaults_to_the_hostname(tmp_path: Path) -> None:
    cfg = load(CatalogConfig, {"BERTH_HOME": str(tmp_path),
                               "BERTH_REGISTRY_HOSTNAME": "r.test:5000"})
    assert cfg.registry_service == "r.test:5000"


def test_disabled_user_token_is_refused(world: Any) -> None:
    ghost = world.user("ghost", enabled=False)
    assert ghost.get("/api/v1/namespaces").status_code == 401


def test_portus_auth_goes_through_the_credential_resolver(make_world: Any) -> None:
    w = make_world(new_app=True)
    carol = w.user("carol")
    auth = w.app.extensions["berth.authenticator"]
    auth.credentials = lambda user, secret, addr: (
        Principal(id=carol.id, username="carol", via="credentials")
        if (user, secret) == ("carol", "app-token") else None)
    ok = w.client.get("/api/v1/teams", headers={"Portus-Auth": "carol:app-token"})
    assert ok.status_code == 200
    bad = w.client.get("/api/v1/teams", headers={"Portus-Auth": "carol:wrong"})
    assert bad.status_code == 401


def test_openapi_documents_only_real_routes(world: Any) -> None:
    doc = world.client.get("/openapi.json").get_json()
    adapter = world.app.url_map.bind("localhost")
    for path, ops in doc["paths"].items():
        concrete = re.sub(r"\{[a-z_]+\}", "1", path)
        for method in ops:
            if method == "parameters":
                continue
            adapter.match(concrete, method=method.upper())  # raises if unknown


def test_integrity_race_is_a_409(make_world: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    world = make_world(new_app=True)

    @world.app.get("/boom")
    def boom() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    resp = world.client.get("/boom")
    assert resp.status_code == 409
    assert resp.get_json()["errors"][0]["code"] == "CONFLICT"
