"""Typed config: every problem reported at once, secrets from files, never shown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from berth.common.config import (
    CommonSettings,
    ConfigError,
    Secret,
    describe,
    load,
    parse_bool,
    parse_choice,
    setting,
)


@dataclasses.dataclass(frozen=True)
class Example:
    name: str = setting("X_NAME")
    count: int = setting("X_COUNT", default=3, parse=int)
    enabled: bool = setting("X_ENABLED", default=True, parse=parse_bool)
    mode: str = setting("X_MODE", default="a", parse=parse_choice("a", "b"))
    password: Secret = setting("X_PASSWORD", default="", secret=True)


def test_defaults_apply_when_unset() -> None:
    cfg = load(Example, {"X_NAME": "n"})
    assert (cfg.name, cfg.count, cfg.enabled, cfg.mode) == ("n", 3, True, "a")


def test_every_problem_is_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        load(Example, {"X_COUNT": "many", "X_MODE": "c", "X_ENABLED": "perhaps"})
    problems = "\n".join(info.value.problems)
    for name in ("X_NAME", "X_COUNT", "X_MODE", "X_ENABLED"):
        assert name in problems
    assert len(info.value.problems) == 4


def test_secret_comes_from_file_and_never_shows(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("s3cret\n")
    cfg = load(Example, {"X_NAME": "n", "X_PASSWORD_FILE": str(path)})
    assert cfg.password == "s3cret"
    assert "s3cret" not in repr(cfg)


def test_invalid_secret_value_is_not_echoed() -> None:
    @dataclasses.dataclass(frozen=True)
    class Strict:
        token: int = setting("X_TOKEN", parse=int, secret=True)

    with pytest.raises(ConfigError) as info:
        load(Strict, {"X_TOKEN": "hunter2"})
    assert "hunter2" not in str(info.value)


def test_unreadable_secret_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(Example, {"X_NAME": "n", "X_PASSWORD_FILE": str(tmp_path / "missing")})
    assert "X_PASSWORD_FILE" in str(info.value)


def test_common_settings_derive_from_berth_home(tmp_path: Path) -> None:
    cfg = load(CommonSettings, {"BERTH_HOME": str(tmp_path)})
    assert cfg.home == tmp_path.resolve()
    assert cfg.amqp_url == ""


def test_describe_lists_variables() -> None:
    rows = {r["env"]: r for r in describe(Example)}
    assert rows["X_NAME"]["required"] and not rows["X_COUNT"]["required"]
    assert rows["X_PASSWORD"]["secret"]
