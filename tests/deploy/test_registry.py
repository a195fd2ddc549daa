"""The registry's configuration under compose and Kubernetes: what `make run`
generates, and accepted by the real distribution binary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from berth.common.testing import free_port
from berth.devstack.generate import registry_config
from berth.devstack.layout import Stack

from tests.deploy.manifests import ROOT, build, compose, environment, of_kind, port_of
from tests.deploy.test_init import run_init

COMPOSE_CONFIG = ROOT / "deploy" / "compose" / "registry" / "config.yml"
ENTRYPOINT = ROOT / "deploy" / "compose" / "registry" / "entrypoint.sh"
K8S_CONFIG = ROOT / "k8s" / "base" / "registry" / "config.yml"
_K8S_REF = re.compile(r"\$\((\w+)\)")


def _binary() -> str:
    path = shutil.which("docker-registry") or shutil.which("registry")
    if path is None:
        pytest.skip("the registry binary (Debian docker-registry) is not installed")
    return path


@contextmanager
def running_registry(argv: list[str], env: Mapping[str, str], home: Path,
                     addr: str) -> Iterator[str]:
    """Start the registry; yield its log once it answers (or fail with the log)."""
    log = home / "registry.log"
    with log.open("wb") as out:
        # The S3 driver would try to load a CA bundle this machine may point at.
        base = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
        proc = subprocess.Popen(argv, env={**base, **env}, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"registry exited {proc.returncode}:\n{log.read_text()}")
            try:
                if requests.get(f"http://{addr}/", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail(f"registry did not answer:\n{log.read_text()}")
        yield log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _local_overrides(home: Path, bundle: Path, addr: str) -> dict[str, str]:
    # Only where it listens and keeps files changes; the rest is as deployed.
    return {"REGISTRY_HTTP_ADDR": addr,
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": str(home / "data"),
            "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE": str(bundle)}


def _assert_berth_wiring(addr: str, log: str, public: str, service: str,
                         notify: str, syncer: str) -> None:
    resp = requests.get(f"http://{addr}/v2/", timeout=5)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == \
        f'Bearer realm="{public}/v2/token",service="{service}"'
    assert f"configuring endpoint berth-syncer ({syncer}/v2/webhooks/events)" in log
    assert f"Authorization:[Bearer {notify}]" in log
    # distribution names every REGISTRY_* variable it does not know.
    assert "Ignoring unrecognized environment variable" not in log


def test_compose_registry_config_is_what_make_run_generates(tmp_path: Path) -> None:
    ours = yaml.safe_load(COMPOSE_CONFIG.read_text())
    stack = Stack(home=tmp_path, port=8080, port_base=5000)
    theirs = registry_config(stack, "notify-secret", "http-secret")
    for section in ("log",):
        assert ours[section] == theirs[section]
    storage = dict(theirs["storage"])
    storage.pop("filesystem")
    assert {k: ours["storage"][k] for k in storage} == storage
    assert ours["storage"]["filesystem"]["rootdirectory"] == "/var/lib/registry"
    assert set(ours["auth"]["token"]) == set(theirs["auth"]["token"])
    assert ours["http"]["relativeurls"] == theirs["http"]["relativeurls"]
    assert ours["http"]["headers"] == theirs["http"]["headers"]
    assert ours["notifications"]["events"] == theirs["notifications"]["events"]
    assert ours["http"]["addr"] == f":{port_of('registry')}"


def test_k8s_registry_config_equals_the_compose_one_but_for_comments() -> None:
    assert yaml.safe_load(K8S_CONFIG.read_text()) == yaml.safe_load(COMPOSE_CONFIG.read_text())


def test_compose_registry_starts_with_berth_wiring(tmp_path: Path) -> None:
    binary = _binary()
    state = tmp_path / "state"
    run_init(state)
    registry = compose()["services"]["registry"]
    assert registry["entrypoint"] == ["/bin/sh", "/opt/berth-deploy/entrypoint.sh"]
    env = environment(registry)
    addr = f"127.0.0.1:{free_port()}"
    env.update(_local_overrides(tmp_path, state / "keys" / "token-bundle.pem", addr))
    env.update(BERTH_STATE_DIR=str(state), BERTH_REGISTRY_BIN=binary,
               BERTH_REGISTRY_CONFIG=str(COMPOSE_CONFIG))
    with running_registry(["/bin/sh", str(ENTRYPOINT)], env, tmp_path, addr) as log:
        _assert_berth_wiring(addr, log, "http://localhost:8080", "localhost:8080",
                             (state / "secrets" / "notify").read_text().strip(),
                             "http://syncer:5003")


def _resolve_k8s_env(container: Mapping[str, Any], objects: list[dict[str, Any]],
                     secrets: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """A container's environment as the kubelet computes it."""
    maps = {o["metadata"]["name"]: o.get("data", {}) for o in of_kind(objects, "ConfigMap")}
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            # $(VAR) refers to a variable defined earlier in the list.
            env[item["name"]] = _K8S_REF.sub(lambda m: env.get(m.group(1), m.group(0)),
                                             item["value"])
            continue
        source = item["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[item["name"]] = maps[ref["name"]][ref["key"]]
        else:
            ref = source["secretKeyRef"]
            env[item["name"]] = secrets[(ref["name"], ref["key"])]
    return env


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_k8s_registry_starts_with_berth_wiring(overlay: str, tmp_path: Path) -> None:
    binary = _binary()
    objects = build(overlay)
    registry = next(d for d in of_kind(objects, "Deployment")
                    if d["metadata"]["name"] == "registry")
    container = registry["spec"]["template"]["spec"]["containers"][0]
    config_map = next(v["configMap"]["name"] for v in
                      registry["spec"]["template"]["spec"]["volumes"] if v["name"] == "config")
    config = next(o for o in of_kind(objects, "ConfigMap")
                  if o["metadata"]["name"] == config_map)["data"]["config.yml"]
    (tmp_path / "config.yml").write_text(config)
    state = tmp_path / "state"
    run_init(state)
    notify = "0123456789abcdef" * 4
    env = _resolve_k8s_env(container, objects, {
        ("berth-shared", "notification-secret"): notify,
        ("berth-registry", "http-secret"): "http-secret",
        ("berth-registry-s3", "access-key"): "access",
        ("berth-registry-s3", "secret-key"): "secret"})
    assert "$(" not in json.dumps(env)
    addr = f"127.0.0.1:{free_port()}"
    env.update(_local_overrides(tmp_path, state / "keys" / "token-bundle.pem", addr))
    if "s3" in yaml.safe_load(config)["storage"]:
        # A closed loopback port stands in for S3: the registry must start
        # (configuration accepted) without ever reaching a real bucket.
        del env["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"]
        env["REGISTRY_STORAGE_S3_REGIONENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    argv = [binary, *container["command"][1:-1], str(tmp_path / "config.yml")]
    assert container["command"][-1] == "/etc/docker/registry/config.yml"
    public = next(o for o in of_kind(objects, "ConfigMap")
                  if o["metadata"]["name"].startswith("berth-config"))["data"]
    with running_registry(argv, env, tmp_path, addr) as log:
        _assert_berth_wiring(addr, log, public["BERTH_PUBLIC_URL"],
                             public["BERTH_REGISTRY_SERVICE"], notify,
                             f"http://syncer:{port_of('syncer')}")
