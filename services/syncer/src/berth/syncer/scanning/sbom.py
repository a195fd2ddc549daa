"""The inventory as a CycloneDX 1.5 JSON SBOM, and back."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from berth.syncer.scanning.inventory import Inventory, Package

SPEC_VERSION = "1.5"
MEDIA_TYPE = "application/vnd.cyclonedx+json"


def inventory_to_dict(inventory: Inventory) -> dict[str, Any]:
    """What the database keeps of an inventory (the SBOM is built from it)."""
    return {"os_release": dict(inventory.os_release),
            "packages": [p.to_dict() for p in inventory.packages]}


def inventory_from_dict(data: dict[str, Any]) -> Inventory:
    """The inverse of :func:`inventory_to_dict`."""
    packages = [Package(kind=str(p["kind"]), name=str(p["name"]),
                        version=str(p["version"]), source=p.get("source"),
                        path=str(p.get("path") or ""))
                for p in data.get("packages") or []]
    return Inventory(packages=packages, os_release=dict(data.get("os_release") or {}))


def purl(package: Package, inventory: Inventory) -> str:
    """The package URL of an installed package."""
    name = quote(package.name, safe="")
    version = quote(package.version, safe="")
    if package.kind == "pypi":
        return f"pkg:pypi/{name.lower()}@{version}"
    namespace = inventory.os_id or ("alpine" if package.kind == "apk" else "debian")
    out = f"pkg:{package.kind}/{namespace}/{name}@{version}"
    if inventory.os_version:
        out += f"?distro={quote(namespace + '-' + inventory.os_version, safe='')}"
    return out


def cyclonedx(inventory: Inventory, *, repository: str, digest: str,
              timestamp: str | None) -> dict[str, Any]:
    """A CycloneDX document describing the image ``repository@digest``."""
    components: list[dict[str, Any]] = []
    if inventory.os_id:
        components.append({"type": "operating-system", "bom-ref": "os",
                           "name": inventory.os_id, "version": inventory.os_version,
                           "description": inventory.os_name})
    for pkg in inventory.packages:
        ref = purl(pkg, inventory)
        component: dict[str, Any] = {"type": "library", "bom-ref": ref,
                                     "name": pkg.name, "version": pkg.version,
                                     "purl": ref}
        properties = [{"name": "berth:package:path", "value": pkg.path}]
        if pkg.source and pkg.source != pkg.name:
            properties.append({"name": "berth:package:source", "value": pkg.source})
        component["properties"] = properties
        components.append(component)
    metadata: dict[str, Any] = {
        "tools": {"components": [{"type": "application", "name": "berth-scanner"}]},
        "component": {"type": "container", "bom-ref": digest, "name": repository,
                      "version": digest},
    }
    if timestamp:
        metadata["timestamp"] = timestamp
    return {
        "bomFormat": "CycloneDX", "specVersion": SPEC_VERSION,
        # Stable per image and scan: downloading twice gives the same document.
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL,
                                   f"berth:{digest}:{timestamp}").urn,
        "version": 1, "metadata": metadata, "components": components,
    }
