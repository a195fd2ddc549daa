"""k8s/: the network policies deny by default and let through only what the
stack needs (the ingress controller, Berth's own pods, the registry's
notifications)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.manifests import (
    OVERLAYS,
    build,
    component,
    matches,
    of_kind,
    pod_spec,
    port_of,
)


def _objects(overlay: str, kind: str) -> list[dict[str, Any]]:
    return of_kind(build(overlay), kind)


def _policies(overlay: str) -> list[dict[str, Any]]:
    return _objects(overlay, "NetworkPolicy")


def _allowed(overlay: str, labels: dict[str, str], port: int) -> list[dict[str, Any]]:
    """The peers allowed to reach ``port`` of pods with ``labels``."""
    peers = []
    for policy in _policies(overlay):
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if selector and not matches(selector, labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            if any(p["port"] == port for p in rule.get("ports", [])):
                peers += rule["from"]
    return peers


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default(overlay: str) -> None:
    defaults = [p for p in _policies(overlay) if p["spec"]["podSelector"] == {}]
    assert len(defaults) == 1
    assert defaults[0]["spec"]["policyTypes"] == ["Ingress"]
    assert "ingress" not in defaults[0]["spec"]
    for policy in _policies(overlay):
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from") and rule.get("ports"), policy["metadata"]["name"]
            assert all(peer for peer in rule["from"]), "an empty peer allows everyone"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_berth_and_the_ingress_controller_reach_web_ports(overlay: str) -> None:
    for obj in _objects(overlay, "Deployment"):
        labels = obj["spec"]["template"]["metadata"]["labels"]
        (c,) = pod_spec(obj)["containers"]
        ports = [p["containerPort"] for p in c.get("ports", [])]
        if not ports:
            assert not any(p["spec"]["podSelector"].get("matchLabels") and matches(
                p["spec"]["podSelector"]["matchLabels"], labels)
                for p in _policies(overlay)), "a worker needs no ingress"
            continue
        peers = _allowed(overlay, labels, ports[0])
        kinds = set()
        for peer in peers:
            if "namespaceSelector" in peer:
                assert peer["namespaceSelector"]["matchLabels"] == \
                    {"kubernetes.io/metadata.name": "ingress-nginx"}
                kinds.add("ingress-controller")
            else:
                kinds.add(tuple(sorted(peer["podSelector"]["matchLabels"].items())))
        berth = (("app.kubernetes.io/part-of", "berth"),)
        assert kinds >= {"ingress-controller", berth}, obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_registry_reaches_the_notification_endpoint(overlay: str) -> None:
    (syncer,) = [d for d in _objects(overlay, "Deployment")
                 if component(d) == ("syncer", "web")]
    (registry,) = [d for d in _objects(overlay, "Deployment")
                   if d["metadata"]["name"] == "registry"]
    peers = _allowed(overlay, syncer["spec"]["template"]["metadata"]["labels"],
                     port_of("syncer"))
    registry_labels = registry["spec"]["template"]["metadata"]["labels"]
    assert any("namespaceSelector" not in p and matches(
        p["podSelector"]["matchLabels"], registry_labels) for p in peers)
