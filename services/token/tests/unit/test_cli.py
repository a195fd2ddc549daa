"""``python -m berth.token keygen|certbundle|migrate``."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from berth.common.signing import algorithm_for, libtrust_kid, load_private_key
from berth.token.__main__ import main
from cryptography import x509


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_keygen_writes_a_private_key_only_the_owner_can_read(tmp_path: Path,
                                                             algorithm: str) -> None:
    path = tmp_path / "keys" / "k.pem"
    assert main(["keygen", str(path), "--algorithm", algorithm]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert algorithm_for(load_private_key(path)) == algorithm


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    main(["keygen", str(path)])
    before = path.read_bytes()
    main(["keygen", str(path)])
    assert path.read_bytes() == before


def test_certbundle_holds_every_configured_key(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "old.pem", tmp_path / "new.pem"
    main(["keygen", str(old)])
    main(["keygen", str(new), "--algorithm", "ES256"])
    monkeypatch.setenv("BERTH_HOME", str(tmp_path))
    monkeypatch.setenv("BERTH_TOKEN_SIGNING_KEYS", f"{old},{new}")
    out = tmp_path / "bundle.pem"
    assert main(["certbundle", str(out)]) == 0
    certs = x509.load_pem_x509_certificates(out.read_bytes())
    kids = {libtrust_kid(c.public_key()) for c in certs}  # type: ignore[arg-type]
    assert kids == {libtrust_kid(load_private_key(p).public_key()) for p in (old, new)}


def test_migrate_creates_the_sqlite_database(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_HOME", str(tmp_path))
    monkeypatch.delenv("BERTH_TOKEN_DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert (tmp_path / "db" / "token.sqlite").exists()


def test_worker_relays_until_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "BERTH_HOME": str(tmp_path), "BERTH_AMQP_URL": "",
           "BERTH_TOKEN_DATABASE_URL": f"sqlite:///{tmp_path / 'token.sqlite'}"}
    env.pop("BERTH_TOKEN_SIGNING_KEYS", None)
    subprocess.run([sys.executable, "-m", "berth.token", "migrate"], env=env, check=True,
                   capture_output=True, timeout=60)
    proc = subprocess.Popen([sys.executable, "-m", "berth.token", "worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        started = b""
        deadline = time.monotonic() + 60
        while b"worker_started" not in started and time.monotonic() < deadline:
            line = proc.stderr.readline()  # SIGTERM only once the handler is set
            assert line or proc.poll() is None, started
            started += line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        logs = started + proc.stderr.read()
        assert b"worker_started" in logs and b"worker_stopped" in logs
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
