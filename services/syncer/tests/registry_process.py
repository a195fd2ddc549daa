"""The real registry binary for tests: start, push with skopeo, stop."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests
from berth.common.testing import free_port
from oci import build_oci_image

REGISTRY_BIN = "/usr/bin/docker-registry"


class RegistryProcess:
    """``docker-registry serve`` on a free port, storage under ``root``."""

    def __init__(self, root: Path, *, notify_url: str | None = None,
                 notify_secret: str = "", extra: str = "") -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.notify_url = notify_url
        self.notify_secret = notify_secret
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self._images = 0

    def _config(self) -> str:
        hooks = ""
        if self.notify_url:
            hooks = f"""
notifications:
  endpoints:
    - name: berth
      url: {self.notify_url}
      headers:
        Authorization: [Bearer {self.notify_secret}]
      timeout: 2s
      threshold: 3
      backoff: 100ms
      ignoredmediatypes: [application/octet-stream]
"""
        return f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {self.root / 'data'}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{self.port}
  secret: test-only-http-secret
{self.extra}{hooks}"""

    def start(self) -> RegistryProcess:
        """Start and wait until ``GET /v2/`` answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        cfg = self.root / "config.yml"
        cfg.write_text(self._config())
        with open(self.root / "registry.log", "ab") as log:
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(cfg)],
                                         stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/v2/", timeout=1).status_code in (200, 401):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("registry did not start: "
                           + (self.root / "registry.log").read_text()[-2000:])

    def stop(self) -> None:
        """Stop the process (idempotent)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def push(self, repository: str, tag: str, content: bytes | None = None,
             creds: str | None = None) -> str:
        """Build a distinct tiny image and push it; return its manifest digest."""
        self._images += 1
        layout = self.root / "layouts" / f"img{self._images}"
        payload = content if content is not None else f"{repository}:{tag}:{self._images}".encode()
        digest = build_oci_image(layout, tag, {"hello.txt": payload})
        cmd = ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false"]
        if creds:
            cmd += ["--dest-creds", creds]
        cmd += [f"oci:{layout}:{tag}", f"docker://127.0.0.1:{self.port}/{repository}:{tag}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        return digest
