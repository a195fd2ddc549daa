"""The real registry clients, driven as a user would: skopeo and podman."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    """Exit code and output of a client command."""

    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        """True when the command succeeded."""
        return self.code == 0


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: int = 180) -> Result:
    """Run a client command and capture its output."""
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    return Result(proc.returncode, proc.stdout, proc.stderr)


class Skopeo:
    """skopeo against a plain-HTTP registry host."""

    def __init__(self, host: str) -> None:
        self.host = host

    def push(self, layout: Path, tag: str, repo: str, creds: str | None,
             authfile: Path | None = None) -> Result:
        """Copy ``oci:layout:tag`` to ``host/repo:tag`` (credentials from
        ``creds``, else from ``authfile`` if given, else none)."""
        cmd = ["skopeo", "copy", "--dest-tls-verify=false", "--retry-times", "0"]
        if creds:
            cmd += ["--dest-creds", creds]
        elif authfile is not None:
            cmd += ["--authfile", str(authfile)]
        else:
            cmd += ["--dest-no-creds"]
        return run(cmd + [f"oci:{layout}:{tag}", f"docker://{self.host}/{repo}:{tag}"])

    def pull(self, repo: str, tag: str, dest: Path, creds: str | None) -> Result:
        """Copy ``host/repo:tag`` into an OCI layout at ``dest``."""
        cmd = ["skopeo", "copy", "--src-tls-verify=false"]
        cmd += ["--src-creds", creds] if creds else ["--src-no-creds"]
        return run(cmd + [f"docker://{self.host}/{repo}:{tag}", f"oci:{dest}:{tag}"])

    def digest(self, repo: str, tag: str, creds: str | None) -> str | None:
        """The manifest digest the registry serves for ``repo:tag``."""
        cmd = ["skopeo", "inspect", "--tls-verify=false", "--raw"]
        cmd += ["--creds", creds] if creds else ["--no-creds"]
        res = run(cmd + [f"docker://{self.host}/{repo}:{tag}"])
        if not res.ok:
            return None
        import hashlib

        return "sha256:" + hashlib.sha256(res.out.encode()).hexdigest()


class Podman:
    """podman with its own storage, auth file and no TLS (tests only)."""

    def __init__(self, host: str, workdir: Path) -> None:
        self.host = host
        import tempfile

        self.root = workdir / "root"
        # podman refuses a runroot path longer than 50 characters.
        self.runroot = Path(tempfile.mkdtemp(prefix="podrun-", dir="/tmp"))
        self.authfile = workdir / "auth.json"
        self.env = {"REGISTRY_AUTH_FILE": str(self.authfile), "HOME": str(workdir)}

    def _cmd(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.root), "--runroot", str(self.runroot),
                "--storage-driver", "vfs", *args]

    def login(self, user: str, password: str) -> Result:
        """``podman login`` with the password on stdin."""
        proc = subprocess.run(
            self._cmd("login", "--tls-verify=false", "-u", user, "--password-stdin",
                      self.host), check=False, input=password, capture_output=True, text=True,
            timeout=60, env={**os.environ, **self.env})
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def pull(self, ref: str) -> Result:
        """``podman pull``."""
        return run(self._cmd("pull", "--tls-verify=false", ref), self.env)

    def push(self, src: str, dest: str) -> Result:
        """``podman push``."""
        return run(self._cmd("push", "--tls-verify=false", src, dest), self.env)

    def tag(self, src: str, dest: str) -> Result:
        """``podman tag``."""
        return run(self._cmd("tag", src, dest), self.env)

    def image_digest(self, ref: str) -> str | None:
        """The digest podman recorded for ``ref``."""
        res = run(self._cmd("image", "inspect", ref), self.env)
        if not res.ok:
            return None
        data = json.loads(res.out)
        return data[0].get("Digest") if data else None
