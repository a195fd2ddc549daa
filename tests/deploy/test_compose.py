"""docker-compose.yml: valid, complete, and running what `make run` runs."""

from __future__ import annotations

import configparser
import importlib.resources
import json
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from berth.devstack.generate import WORKER_SERVICES, supervisor_config
from berth.devstack.layout import SERVICES, Stack, service_env

from tests.deploy.manifests import (
    MIGRATED,
    ROOT,
    berth_service_of,
    compose,
    environment,
    installed_variables,
    interpolate,
    port_of,
    raw_compose,
    web_command,
)


def _schema() -> dict[str, Any]:
    try:
        files = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:
        pytest.skip("check-jsonschema (which ships the compose-spec schema) is not "
                    "installed")
    schema: dict[str, Any] = json.loads((files / "compose-spec.json").read_text())
    return schema


def _berth_containers() -> dict[str, tuple[str, dict[str, Any]]]:
    """compose service name -> (Berth service, definition), the init step aside."""
    out = {}
    for name, svc in compose()["services"].items():
        berth = berth_service_of(svc.get("image", ""))
        if berth and name != "init":
            out[name] = (berth, svc)
    return out


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}", env) == "v-d-e-"
    assert interpolate("${UNSET:-http://h:${PORT:-8080}}/x", env) == "http://h:8080/x"
    assert interpolate("$$HOME", env) == "$HOME"
    with pytest.raises(ValueError):
        interpolate("${UNSET:?must be set}", env)


@pytest.mark.parametrize("env", [{}, {"BERTH_PORT": "9090", "BERTH_VERSION": "1.2.3"}])
def test_compose_file_matches_the_compose_spec(env: dict[str, str]) -> None:
    schema = _schema()  # skips without check-jsonschema, which needs jsonschema
    from jsonschema.validators import validator_for

    validator = validator_for(schema)(schema)
    for document in (raw_compose(), compose(env)):
        errors = sorted(validator.iter_errors(document), key=str)
        assert not errors, "\n".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_every_service_has_a_healthcheck_or_is_a_one_shot() -> None:
    services = compose()["services"]
    awaited = {dep for svc in services.values()
               for dep, cond in (svc.get("depends_on") or {}).items()
               if cond.get("condition") == "service_completed_successfully"}
    for name, svc in services.items():
        health = svc.get("healthcheck", {})
        if name in awaited:
            assert svc.get("restart") == "no", f"{name} is a one-shot: never restart it"
        elif svc.get("command", [])[-1:] in (["worker"], ["webhooks"], ["scanner"]):
            # A worker serves no HTTP: the image's web HEALTHCHECK must be off.
            assert health == {"disable": True}, name
            assert svc["restart"] == "unless-stopped", name
        else:
            test = health.get("test")
            assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no healthcheck"


def test_dependencies_exist_and_wait_for_health_or_completion() -> None:
    services = compose()["services"]
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            condition = cond["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
            else:
                assert condition == "service_completed_successfully", (name, dep)


def test_web_and_worker_processes_wait_for_their_migration() -> None:
    containers = _berth_containers()
    for name, (berth, svc) in containers.items():
        command = svc["command"]
        if command[-1] == "migrate":
            assert svc["depends_on"]["mysql"]["condition"] == "service_healthy"
            continue
        deps = svc["depends_on"]
        assert deps["init"]["condition"] == "service_completed_successfully", name
        if berth in MIGRATED:
            assert deps[f"{berth}-migrate"]["condition"] == \
                "service_completed_successfully", name


def _make_run_programs(tmp_path: Path) -> dict[str, list[str]]:
    """supervisord programs `make run` writes: name -> argv (paths reduced)."""
    stack = Stack(home=tmp_path, port=8080, port_base=5000)
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor_config(stack, list(SERVICES)))
    programs = {}
    for section in parser.sections():
        if section.startswith("program:"):
            argv = shlex.split(parser.get(section, "command"))
            # Absolute paths to the venv and checkout differ from the image's.
            argv = [Path(a).name if a.startswith("/") else a for a in argv]
            programs[section.removeprefix("program:")] = argv
    return programs


def test_the_same_processes_and_commands_as_make_run(tmp_path: Path) -> None:
    programs = _make_run_programs(tmp_path)
    expected = {}
    for svc in SERVICES:
        expected[svc] = web_command(svc)
        assert programs[svc] == web_command(svc)
        if svc in WORKER_SERVICES:
            expected[f"{svc}-worker"] = ["python", "-m", f"berth.{svc}", "worker"]
            assert programs[f"{svc}-worker"] == expected[f"{svc}-worker"]
        if svc in MIGRATED:
            expected[f"{svc}-migrate"] = ["python", "-m", f"berth.{svc}", "migrate"]
    # Every other Berth process `make run` starts has a container of its own.
    for name, argv in programs.items():
        if name not in expected and name not in ("registry", "nginx"):
            expected[name] = argv
    found = {name: svc["command"] for name, (_, svc) in _berth_containers().items()}
    assert found == expected


def test_ports_and_urls_match_make_run() -> None:
    services = compose()["services"]
    for name, (berth, svc) in _berth_containers().items():
        env = environment(svc)
        for other in SERVICES:
            url = env.get(f"BERTH_{other.upper()}_URL")
            if url:
                parts = urlsplit(url)
                assert (parts.hostname, parts.port) == (other, port_of(other)), name
        if "BERTH_REGISTRY_URL" in env:
            parts = urlsplit(env["BERTH_REGISTRY_URL"])
            assert (parts.hostname, parts.port) == ("registry", port_of("registry"))
        if svc["command"][0] == "gunicorn":
            assert env[f"BERTH_{berth.upper()}_BIND"] == f"0.0.0.0:{port_of(berth)}"
            assert svc["expose"] == [str(port_of(berth))]
            probe = " ".join(svc["healthcheck"]["test"])
            assert f"http://127.0.0.1:{port_of(berth)}/api/v1/_ping" in probe, name
    ingress = environment(services["ingress"])
    for part in ("registry", *SERVICES):
        assert ingress[f"BERTH_UPSTREAM_{part.upper()}"] == f"{part}:{port_of(part)}"
        assert part in services


@pytest.mark.parametrize("svc", SERVICES)
def test_every_variable_set_is_one_the_service_reads(svc: str) -> None:
    known = installed_variables(svc)
    for name, (berth, definition) in _berth_containers().items():
        if berth != svc:
            continue
        for var in environment(definition):
            assert known.reads(var), f"{name} sets {var}, which berth-{svc} never reads"
        # `_FILE` only works for settings declared secret.
        for var in environment(definition):
            if var.endswith("_FILE"):
                assert var[:-5] in known.secret, var


@pytest.mark.parametrize("svc", SERVICES)
def test_required_and_make_run_variables_are_set(svc: str, tmp_path: Path) -> None:
    known = installed_variables(svc)
    make_run = set(service_env(Stack(home=tmp_path, port=8080, port_base=5000)))
    make_run.add("BERTH_TOKEN_SIGNING_KEYS")
    for name, (berth, definition) in _berth_containers().items():
        if berth != svc:
            continue
        env = environment(definition)
        given = set(env) | {v.removesuffix("_FILE") for v in env}
        missing = known.required - given
        assert not missing, f"{name} lacks required {sorted(missing)}"
        # What `make run` sets and this service reads must be set here too
        # (binds only for the web process, which is the one that binds).
        wanted = {v for v in make_run if known.reads(v)}
        if definition["command"][0] != "gunicorn":
            wanted -= {f"BERTH_{svc.upper()}_BIND"}
        assert wanted <= given, f"{name} lacks {sorted(wanted - given)}"


def test_secrets_come_from_the_init_volume() -> None:
    services = compose()["services"]
    state = services["init"]["environment"]["BERTH_STATE_DIR"]
    assert f"berth-state:{state}" in services["init"]["volumes"]
    for name, (_, svc) in _berth_containers().items():
        assert f"berth-state:{state}:ro" in svc["volumes"], name
        for var, value in environment(svc).items():
            if var.endswith("_FILE"):
                assert value.startswith(f"{state}/secrets/"), (name, var)
    token = environment(services["token"])
    assert token["BERTH_TOKEN_SIGNING_KEYS"] == \
        services["init"]["environment"]["BERTH_TOKEN_SIGNING_KEYS"]


def test_built_images_use_each_service_dockerfile() -> None:
    for name, (berth, svc) in _berth_containers().items():
        build = svc["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == f"services/{berth}/Dockerfile", name
        assert (ROOT / build["dockerfile"]).is_file(), f"{build['dockerfile']} is missing"


def test_mounted_files_exist() -> None:
    for name, svc in compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name} mounts missing {source}"
