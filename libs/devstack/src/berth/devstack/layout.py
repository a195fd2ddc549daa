"""Where `make run` keeps things under BERTH_HOME, and which ports it uses."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("token", "catalog", "syncer", "audit", "webui")
# Offsets from the port base: the registry first, then the services in order.
_OFFSETS = {"registry": 0, "token": 1, "catalog": 2, "syncer": 3, "audit": 4, "webui": 5}


def repo_root() -> Path:
    """The checkout this devstack was installed from (editable install)."""
    return Path(__file__).resolve().parents[5]


@dataclass(frozen=True)
class Stack:
    """Paths and ports of one `make run` stack."""

    home: Path
    port: int
    port_base: int
    host: str = "127.0.0.1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Stack:
        """Read BERTH_HOME, BERTH_PORT and BERTH_PORT_BASE (registry, then services)."""
        env = os.environ if env is None else env
        home = Path(env.get("BERTH_HOME", "./var")).resolve()
        return cls(home=home, port=int(env.get("BERTH_PORT", "8080")),
                   port_base=int(env.get("BERTH_PORT_BASE", "5000")))

    def port_of(self, part: str) -> int:
        """The loopback port of ``part`` (registry or a service)."""
        return self.port_base + _OFFSETS[part]

    def addr(self, part: str) -> str:
        """host:port of ``part``."""
        return f"{self.host}:{self.port_of(part)}"

    def url(self, part: str) -> str:
        """Base URL of ``part``."""
        return f"http://{self.addr(part)}"

    @property
    def public_url(self) -> str:
        """The one origin users reach."""
        return f"http://{self.host}:{self.port}"

    @property
    def public_host(self) -> str:
        """host:port of the origin (the registry's service name and pull host)."""
        return f"{self.host}:{self.port}"

    def path(self, *parts: str) -> Path:
        """A path under BERTH_HOME."""
        return self.home.joinpath(*parts)

    @property
    def signing_key(self) -> Path:
        """The token service's default signing key."""
        return self.path("keys", "token-signing.pem")

    @property
    def cert_bundle(self) -> Path:
        """The registry's rootcertbundle: a certificate per signing key."""
        return self.path("keys", "token-bundle.pem")


def installed_services() -> list[str]:
    """Services whose package is installed (each runs only when present)."""
    found = []
    for svc in SERVICES:
        try:
            if importlib.util.find_spec(f"berth.{svc}.wsgi") is not None:
                found.append(svc)
        except ModuleNotFoundError:
            continue
    return found


def service_env(stack: Stack) -> dict[str, str]:
    """Environment every Berth process of the stack gets."""
    env = {
        "BERTH_HOME": str(stack.home),
        "BERTH_PUBLIC_URL": stack.public_url,
        "BERTH_REGISTRY_URL": stack.url("registry"),
        "BERTH_REGISTRY_HOSTNAME": stack.public_host,
        "BERTH_REGISTRY_SERVICE": stack.public_host,
    }
    for svc in SERVICES:
        env[f"BERTH_{svc.upper()}_URL"] = stack.url(svc)
        env[f"BERTH_{svc.upper()}_BIND"] = stack.addr(svc)
    return env
