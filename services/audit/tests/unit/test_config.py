"""Configuration, the anchor key and the command line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from berth.audit.__main__ import main
from berth.audit.config import AuditConfig
from berth.audit.keys import anchor_key, anchor_key_path
from berth.common.config import ConfigError, load


def test_defaults(tmp_path: Path) -> None:
    config = load(AuditConfig, {"BERTH_HOME": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path}/db/audit.sqlite"
    assert config.retention_days == 0
    assert config.retention_interval == 3600.0
    assert not config.anchor_key


def test_every_invalid_variable_is_reported_together() -> None:
    with pytest.raises(ConfigError) as err:
        load(AuditConfig, {"BERTH_AUDIT_RETENTION_DAYS": "-1",
                           "BERTH_AUDIT_RETENTION_INTERVAL": "soon"})
    text = "\n".join(err.value.problems)
    assert "BERTH_AUDIT_RETENTION_DAYS" in text
    assert "BERTH_AUDIT_RETENTION_INTERVAL" in text


def test_anchor_key_from_a_file_and_hidden_in_repr(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret-anchor\n")
    config = load(AuditConfig, {"BERTH_HOME": str(tmp_path),
                                "BERTH_AUDIT_ANCHOR_KEY_FILE": str(secret)})
    assert anchor_key(config) == b"s3cret-anchor"
    assert "s3cret" not in repr(config)


def test_generated_anchor_key_is_private_and_stable(tmp_path: Path) -> None:
    config = load(AuditConfig, {"BERTH_HOME": str(tmp_path)})
    first = anchor_key(config)
    path = anchor_key_path(config)
    assert len(first) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert anchor_key(config) == first


def test_importing_the_app_module_creates_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    import importlib

    monkeypatch.setenv("BERTH_HOME", str(tmp_path))
    importlib.reload(importlib.import_module("berth.audit.app"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [[], ["serve"], ["migrate", "extra"]])
def test_command_line_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage" in capsys.readouterr().err


def test_migrate_command_creates_the_sqlite_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_HOME", str(tmp_path))
    monkeypatch.delenv("BERTH_AUDIT_DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert (tmp_path / "db" / "audit.sqlite").exists()
