"""Reading Berth's deployment manifests the way their tools do, and what
`make run` (libs/devstack) says they must agree with."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from berth.devstack.layout import SERVICES, Stack

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "berth-routes.conf.template"
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "prod")
# `make run` migrates every service but the web UI, which owns no data
# (berth.devstack.run.migrate).
MIGRATED = tuple(s for s in SERVICES if s != "webui")
WEB_COMMAND = ["gunicorn", "-c", "gunicorn.conf.py", "berth.{svc}.wsgi:app"]
DEFAULT_STACK = Stack.from_env({})


def port_of(part: str) -> int:
    """The port `make run` gives ``part`` with the default port base."""
    return DEFAULT_STACK.port_of(part)


def web_command(svc: str) -> list[str]:
    """The gunicorn command line of ``svc``'s web process."""
    return [arg.format(svc=svc) for arg in WEB_COMMAND]


# ------------------------------------------------------------------ compose

_VAR = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?)")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable interpolation: ${X}, ${X:-default}, ${X-default},
    ${X:?error}, ${X?error}, nested defaults, and $$ for a literal dollar."""
    out: list[str] = []
    i = 0
    while i < len(text):
        m = _VAR.match(text, i)
        if text[i] != "$" or m is None:
            out.append(text[i])
            i += 1
            continue
        if m.group(0) == "$$":
            out.append("$")
            i += 2
            continue
        name, op = m.group("name"), m.group("op")
        j, depth = m.end(), 1
        start = j
        while depth:  # find the closing brace, skipping nested ${...}
            if j >= len(text):
                raise ValueError(f"unterminated ${{ in {text!r}")
            if text.startswith("${", j):
                depth, j = depth + 1, j + 2
                continue
            if text[j] == "}":
                depth -= 1
            j += 1
        arg = text[start:j - 1]
        value = env.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            out.append(interpolate(arg, env) if unset else str(value))
        elif op in (":?", "?"):
            if unset:
                raise ValueError(f"{name}: {arg}")
            out.append(str(value))
        else:
            out.append("" if value is None else value)
        i = j
    return "".join(out)


def _walk(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_walk(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, env) for k, v in value.items()}
    return value


def raw_compose() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors and merge keys resolved)."""
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml after interpolation (default: an empty environment)."""
    return dict(_walk(raw_compose(), env or {}))


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A compose service's environment as a dict (list or mapping form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def berth_service_of(image: str) -> str | None:
    """``token`` for ``berth/token:tag``; None for other images."""
    m = re.match(r"(?:.*/)?berth/(\w+)(?::.*)?$", image)
    return m.group(1) if m else None


# ------------------------------------------------------------------ kubernetes


def kubectl() -> str:
    """The kubectl binary (its kustomize builds the overlays), or skip."""
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl is not installed (it provides `kubectl kustomize`)")
    return path


@functools.cache
def _build(directory: str) -> str:
    result = subprocess.run([kubectl(), "kustomize", directory], check=False,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"kustomize build {directory} failed:\n{result.stderr}")
    return result.stdout


@functools.cache
def _parsed(overlay: str) -> tuple[dict[str, Any], ...]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = _build(str(K8S / "overlays" / overlay))
    return tuple(d for d in yaml.load_all(text, Loader=loader) if d)


def build(overlay: str) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize k8s/overlays/<overlay>` produces (shared:
    do not modify them)."""
    return list(_parsed(overlay))


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Objects of one kind."""
    return [o for o in objects if o["kind"] == kind]


def pod_spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment or Job."""
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def containers(obj: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every container (init containers too) of a Deployment or Job."""
    spec = pod_spec(obj)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def component(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(service, component) from the pod template's labels."""
    labels = obj["spec"]["template"]["metadata"]["labels"]
    return labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"]


def matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A matchLabels selector selects ``labels``."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# ------------------------------------------------------------------ service configs


@dataclasses.dataclass(frozen=True)
class Variables:
    """The environment variables one service's processes read."""

    names: frozenset[str]
    secret: frozenset[str]
    required: frozenset[str]

    def reads(self, name: str) -> bool:
        """Whether ``name`` (or the secret it is the ``_FILE`` of) is read."""
        if name.endswith("_FILE") and name[:-5] in self.secret:
            return True
        return name in self.names


def config_class(svc: str) -> type | None:
    """The service's config dataclass, or None when its package is not installed."""
    from berth.common.config import CommonSettings

    try:
        module = importlib.import_module(f"berth.{svc}.config")
    except ModuleNotFoundError:
        return None
    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, CommonSettings)
             and obj is not CommonSettings and dataclasses.is_dataclass(obj)]
    return found[0] if found else None


def variables(svc: str) -> Variables | None:
    """What ``svc`` reads: its config class, gunicorn's settings, prometheus."""
    from berth.common.config import describe

    cls = config_class(svc)
    if cls is None:
        return None
    rows = describe(cls)
    prefix = f"BERTH_{svc.upper()}_"
    # berth.common.gunicorn_defaults.settings and prometheus_client's
    # multiprocess mode read these outside the config class.
    extra = {prefix + "BIND", prefix + "WORKERS", prefix + "THREADS",
             "PROMETHEUS_MULTIPROC_DIR"}
    return Variables(
        names=frozenset({r["env"] for r in rows} | extra),
        secret=frozenset(r["env"] for r in rows if r["secret"]),
        required=frozenset(r["env"] for r in rows if r["required"]),
    )


def installed_variables(svc: str) -> Variables:
    """``variables(svc)``, or skip the test when the service is not installed."""
    found = variables(svc)
    if found is None:
        pytest.skip(f"berth-{svc} is not installed: its variables cannot be checked")
    return found
