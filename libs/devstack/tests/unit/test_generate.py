"""What `make run` generates under BERTH_HOME, and that a second run reuses it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from berth.common.signing import (
    algorithm_for,
    generate_key,
    load_private_key,
    private_key_pem,
)
from berth.devstack.generate import generate
from berth.devstack.layout import Stack, installed_services
from cryptography import x509


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.delenv("BERTH_TOKEN_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("BERTH_TOKEN_ALGORITHM", raising=False)
    return Stack(home=tmp_path / "home", port=18080, port_base=18000)


def test_registry_config_points_at_berth(stack: Stack) -> None:
    generate(stack)
    cfg = yaml.safe_load((stack.home / "registry" / "config.yml").read_text())
    token = cfg["auth"]["token"]
    assert token["realm"] == "http://127.0.0.1:18080/v2/token"
    assert token["service"] == "127.0.0.1:18080"
    assert Path(token["rootcertbundle"]).read_text().count("BEGIN CERTIFICATE") == 1
    assert cfg["storage"]["delete"]["enabled"] is True
    endpoint = cfg["notifications"]["endpoints"][0]
    assert endpoint["url"] == "http://127.0.0.1:18003/v2/webhooks/events"
    secret = (stack.home / "secrets" / "notify").read_text().strip()
    assert endpoint["headers"]["Authorization"] == [f"Bearer {secret}"]
    assert cfg["http"]["addr"] == "127.0.0.1:18000"


def test_second_run_reuses_keys_and_secrets(stack: Stack) -> None:
    generate(stack)
    files = ["keys/token-signing.pem", "secrets/internal", "secrets/notify"]
    before = {f: (stack.home / f).read_bytes() for f in files}
    generate(stack)
    assert {f: (stack.home / f).read_bytes() for f in files} == before
    assert oct((stack.home / "keys/token-signing.pem").stat().st_mode & 0o777) == "0o600"


def test_generated_signing_key_is_p256_by_default(stack: Stack) -> None:
    generate(stack)
    key = load_private_key(stack.signing_key)
    assert algorithm_for(key) == "ES256"
    bundle = x509.load_pem_x509_certificate(stack.cert_bundle.read_bytes())
    assert bundle.public_key() == key.public_key()


def test_rsa_keys_stay_available(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_TOKEN_ALGORITHM", "RS256")
    generate(stack)
    assert algorithm_for(load_private_key(stack.signing_key)) == "RS256"


def test_an_existing_key_is_kept_whatever_the_default(stack: Stack) -> None:
    stack.signing_key.parent.mkdir(parents=True)
    stack.signing_key.write_bytes(private_key_pem(generate_key("RS256")))
    generate(stack)
    assert algorithm_for(load_private_key(stack.signing_key)) == "RS256"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_nginx_config_is_valid(stack: Stack) -> None:
    generate(stack)
    conf = stack.home / "nginx" / "nginx.conf"
    res = subprocess.run(["nginx", "-t", "-p", str(stack.home / "nginx"), "-c", str(conf)],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    text = conf.read_text()
    assert "listen 127.0.0.1:18080;" in text and "location /internal/ { return 404; }" in text
    assert "access.log combined buffer=64k flush=1s;" in text


def test_supervisor_runs_every_installed_service_and_worker(stack: Stack) -> None:
    services = generate(stack)
    assert services == installed_services()
    conf = (stack.home / "supervisord.conf").read_text()
    for program in ["registry", "nginx", *services]:
        assert f"[program:{program}]" in conf
    for svc in set(services) & {"token", "catalog", "syncer", "audit"}:
        assert f"[program:{svc}-worker]" in conf
    assert "autorestart=true" in conf and "killasgroup=true" in conf


def test_supervisor_escapes_percent_in_settings(stack: Stack,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_CATALOG_DATABASE_URL", "mysql+pymysql://u:p%40ss@h/db")
    generate(stack)
    assert "p%%40ss" in (stack.home / "supervisord.conf").read_text()
