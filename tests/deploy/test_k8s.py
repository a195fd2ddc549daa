"""k8s/: the overlays build, validate, are hardened, and run what `make run` runs."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from berth.devstack.generate import WORKER_SERVICES, supervisor_config
from berth.devstack.layout import SERVICES, Stack

from tests.deploy.manifests import (
    K8S,
    MIGRATED,
    NGINX_TEMPLATE,
    OVERLAYS,
    build,
    component,
    containers,
    installed_variables,
    matches,
    of_kind,
    pod_spec,
    port_of,
    web_command,
)

EXAMPLES = K8S / "examples" / "secrets.example.yaml"
BLOCK = "nginx.ingress.kubernetes.io/denylist-source-range"
ANNOTATION = "nginx.ingress.kubernetes.io/"


def _objects(overlay: str, kind: str) -> list[dict[str, Any]]:
    return of_kind(build(overlay), kind)


def _berth_workloads(overlay: str) -> list[dict[str, Any]]:
    return [o for o in _objects(overlay, "Deployment") + _objects(overlay, "Job")
            if component(o)[0] in SERVICES]


# ------------------------------------------------------------------ structure


def test_kustomizations_reference_only_existing_files() -> None:
    found = list(K8S.rglob("kustomization.yaml"))
    assert {p.parent.relative_to(K8S).as_posix() for p in found} >= \
        {"base", "overlays/dev", "overlays/prod"}
    for path in found:
        k = yaml.safe_load(path.read_text())
        here = path.parent
        refs = list(k.get("resources", []))
        refs += [p["path"] for p in k.get("patches", []) if "path" in p]
        for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
            refs += [f.split("=", 1)[-1] for f in gen.get("files", [])]
            refs += gen.get("envs", [])
        for ref in refs:
            target = (here / ref).resolve()
            assert target.is_file() or (target / "kustomization.yaml").is_file(), \
                f"{path.relative_to(K8S)} refers to missing {ref}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", ["1.30.0"])
def test_overlay_validates_against_the_kubernetes_schemas(overlay: str,
                                                         version: str) -> None:
    validate = pytest.importorskip("kubernetes_validate")
    for obj in build(overlay):
        validate.validate(obj, version, strict=True)


def test_example_secrets_validate_and_are_placeholders() -> None:
    validate = pytest.importorskip("kubernetes_validate")
    for obj in yaml.safe_load_all(EXAMPLES.read_text()):
        validate.validate(obj, "1.33.0", strict=True)
        for value in (obj.get("stringData") or obj.get("data") or {}).values():
            assert "REPLACE-ME" in value, obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_overlay_ships_a_secret(overlay: str) -> None:
    # Secrets are the operator's: an apply must never overwrite real ones.
    assert _objects(overlay, "Secret") == []


# ------------------------------------------------------------------ workloads


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_hardened_and_sized(overlay: str) -> None:
    for obj in _objects(overlay, "Deployment") + _objects(overlay, "Job"):
        name = obj["metadata"]["name"]
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec.get("automountServiceAccountToken") is False, name
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for v in spec["volumes"]:
            if "secret" in v:
                # Files belong to root and the fsGroup: the group must read them.
                assert spec["securityContext"]["fsGroup"] == \
                    spec["securityContext"]["runAsGroup"]
                assert v["secret"].get("defaultMode", 0o644) & 0o040, name
        for c in containers(obj):
            sec = c["securityContext"]
            assert sec["readOnlyRootFilesystem"] is True, name
            assert sec["allowPrivilegeEscalation"] is False, name
            assert sec["capabilities"]["drop"] == ["ALL"], name
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) >= {"cpu", "memory"}, (name, kind)
            tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in empty_dirs, f"{name}: no writable /tmp"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_same_processes_and_commands_as_make_run(overlay: str) -> None:
    found = {}
    for obj in _berth_workloads(overlay):
        svc, comp = component(obj)
        (c,) = pod_spec(obj)["containers"]
        assert c["image"].split(":")[0].endswith(f"berth/{svc}")
        found[(svc, comp, obj["kind"])] = c["command"]
    expected = {}
    for svc in SERVICES:
        expected[(svc, "web", "Deployment")] = web_command(svc)
        if svc in WORKER_SERVICES:
            expected[(svc, "worker", "Deployment")] = ["python", "-m", f"berth.{svc}",
                                                       "worker"]
        if svc in MIGRATED:
            expected[(svc, "migrate", "Job")] = ["python", "-m", f"berth.{svc}",
                                                 "migrate"]
    # Every other process `make run` starts (the catalog's webhook deliveries,
    # the syncer's scanner) runs as a Deployment of its own.
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor_config(Stack(home=Path("/tmp/berth"), port=8080,
                                               port_base=5000), list(SERVICES)))
    for section in parser.sections():
        name = section.removeprefix("program:")
        svc, _, comp = name.partition("-")
        if svc in SERVICES and comp and comp != "worker":
            argv = shlex.split(parser.get(section, "command"))
            expected[(svc, comp, "Deployment")] = ["python", *argv[1:]]
    assert found == expected


def _port(container: dict[str, Any], name_or_number: str | int) -> int:
    if isinstance(name_or_number, int):
        return name_or_number
    (port,) = [p["containerPort"] for p in container["ports"]
               if p["name"] == name_or_number]
    return int(port)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_processes_bind_and_probe_like_make_run(overlay: str) -> None:
    for obj in _berth_workloads(overlay):
        svc, comp = component(obj)
        (c,) = pod_spec(obj)["containers"]
        env = {e["name"]: e.get("value") for e in c["env"]}
        if comp != "web":
            assert "ports" not in c and "livenessProbe" not in c, obj["metadata"]["name"]
            # Workers and migrations keep metrics in memory (as in `make run`).
            assert env["PROMETHEUS_MULTIPROC_DIR"] == ""
            continue
        assert env[f"BERTH_{svc.upper()}_BIND"] == f"0.0.0.0:{port_of(svc)}"
        assert [p["containerPort"] for p in c["ports"]] == [port_of(svc)]
        for probe, path in (("startupProbe", "/api/v1/_ping"),
                            ("livenessProbe", "/api/v1/_ping"),
                            ("readinessProbe", "/api/v1/health")):
            get = c[probe]["httpGet"]
            assert get["path"] == path, (svc, probe)
            assert _port(c, get["port"]) == port_of(svc), (svc, probe)
        # gunicorn's multiprocess metrics need a writable, per-pod directory.
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec(obj)["volumes"]}
        assert "emptyDir" in volumes[mounts[env["PROMETHEUS_MULTIPROC_DIR"]]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_registry_probes_mounts_and_config(overlay: str) -> None:
    (registry,) = [d for d in _objects(overlay, "Deployment")
                   if d["metadata"]["name"] == "registry"]
    (c,) = pod_spec(registry)["containers"]
    assert _port(c, "http") == port_of("registry")
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/", "port": "http"}
    volumes = {v["name"]: v for v in pod_spec(registry)["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in c["volumeMounts"]}
    config_map = mounts["/etc/docker/registry"]["configMap"]["name"]
    (cm,) = [o for o in _objects(overlay, "ConfigMap")
             if o["metadata"]["name"] == config_map]
    config = yaml.safe_load(cm["data"]["config.yml"])
    assert c["command"] == ["registry", "serve", "/etc/docker/registry/config.yml"]
    bundle = Path(config["auth"]["token"]["rootcertbundle"])
    assert mounts[str(bundle.parent)]["configMap"]["name"] == "berth-token-bundle"
    assert _example("ConfigMap", "berth-token-bundle")["data"].keys() >= {bundle.name}
    storage = config["storage"]
    if overlay == "prod":
        assert "s3" in storage and "filesystem" not in storage
        assert registry["spec"]["replicas"] >= 2
    else:
        assert storage["filesystem"]["rootdirectory"] == "/var/lib/registry"
        claim = mounts["/var/lib/registry"]["persistentVolumeClaim"]["claimName"]
        assert claim in {p["metadata"]["name"]
                         for p in _objects(overlay, "PersistentVolumeClaim")}
        assert registry["spec"]["strategy"]["type"] == "Recreate"
    assert storage["delete"] == {"enabled": True}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_token_reads_its_keys_from_the_mounted_secret(overlay: str) -> None:
    (token,) = [d for d in _berth_workloads(overlay) if component(d) == ("token", "web")]
    (c,) = pod_spec(token)["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    volumes = {v["name"]: v for v in pod_spec(token)["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in c["volumeMounts"]}
    for key in env["BERTH_TOKEN_SIGNING_KEYS"].split(","):
        path = Path(key)
        secret = mounts[str(path.parent)]["secret"]["secretName"]
        assert path.name in _example("Secret", secret)["stringData"]


# ------------------------------------------------------------------ wiring


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_existing_pods_on_make_run_ports(overlay: str) -> None:
    deployments = _objects(overlay, "Deployment")
    for service in _objects(overlay, "Service"):
        name = service["metadata"]["name"]
        selected = [d for d in deployments if matches(
            service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        assert len(selected) == 1, f"Service {name} selects {len(selected)} Deployments"
        (c,) = pod_spec(selected[0])["containers"]
        for port in service["spec"]["ports"]:
            assert _port(c, port["targetPort"]) == port["port"] == port_of(name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_and_budgets_target_web_deployments(overlay: str) -> None:
    deployments = {d["metadata"]["name"]: d for d in _objects(overlay, "Deployment")}
    hpas = _objects(overlay, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == set(SERVICES)
    for hpa in hpas:
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdbs = _objects(overlay, "PodDisruptionBudget")
    for pdb in pdbs:
        selected = [n for n, d in deployments.items() if matches(
            pdb["spec"]["selector"]["matchLabels"],
            d["spec"]["template"]["metadata"]["labels"])]
        assert len(selected) == 1, pdb["metadata"]["name"]
    assert {p["metadata"]["name"] for p in pdbs} >= set(SERVICES)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_urls_point_at_existing_services(overlay: str) -> None:
    services = {s["metadata"]["name"]: s for s in _objects(overlay, "Service")}
    (config,) = [c for c in _objects(overlay, "ConfigMap")
                 if c["metadata"]["name"].startswith("berth-config")]
    for key, value in config["data"].items():
        if key.endswith("_URL") and key != "BERTH_PUBLIC_URL":
            url = urlsplit(value)
            assert url.hostname in services, key
            assert url.port in [p["port"] for p in services[url.hostname]["spec"]["ports"]]
    public = urlsplit(config["data"]["BERTH_PUBLIC_URL"])
    for ingress in _objects(overlay, "Ingress"):
        assert ingress["spec"]["rules"][0]["host"] == public.hostname
        assert bool(ingress["spec"].get("tls")) == (public.scheme == "https")
    assert config["data"]["BERTH_REGISTRY_HOSTNAME"] == public.netloc


def _env_names(container: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(config_maps[source["configMapRef"]["name"]])
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("svc", SERVICES)
def test_every_variable_set_is_read_and_every_required_one_set(overlay: str,
                                                               svc: str) -> None:
    known = installed_variables(svc)
    maps = {c["metadata"]["name"]: c.get("data", {}) for c in _objects(overlay, "ConfigMap")}
    for obj in _berth_workloads(overlay):
        if component(obj)[0] != svc:
            continue
        for c in containers(obj):
            names = _env_names(c, maps)
            unread = {n for n in names if not known.reads(n)}
            # berth-config is shared: a key some other service reads is fine.
            shared = set().union(*(maps[s["configMapRef"]["name"]]
                                   for s in c.get("envFrom", [])))
            own = {n for n in unread if n not in shared}
            assert not own, f"{obj['metadata']['name']} sets {sorted(own)}, unread"
            missing = known.required - {n.removesuffix("_FILE") for n in names}
            assert not missing, f"{obj['metadata']['name']} lacks {sorted(missing)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_shared_config_keys_are_each_read_by_some_service(overlay: str) -> None:
    readers = [installed_variables(svc) for svc in SERVICES]
    (config,) = [c for c in _objects(overlay, "ConfigMap")
                 if c["metadata"]["name"].startswith("berth-config")]
    for key in config["data"]:
        assert any(r.reads(key) for r in readers), f"no service reads {key}"


def _examples() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(EXAMPLES.read_text()) if d]


def _example(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _examples() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert found, f"{kind} {name} is not in {EXAMPLES.name}"
    return found[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_referenced_is_in_the_example(overlay: str) -> None:
    generated = {c["metadata"]["name"] for c in _objects(overlay, "ConfigMap")}
    for obj in _objects(overlay, "Deployment") + _objects(overlay, "Job"):
        for c in containers(obj):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in _example("Secret", ref["name"])["stringData"]
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    assert ref["name"] in generated
        for v in pod_spec(obj)["volumes"]:
            if "secret" in v:
                _example("Secret", v["secret"]["secretName"])
            if "configMap" in v and v["configMap"]["name"] not in generated:
                _example("ConfigMap", v["configMap"]["name"])


# ------------------------------------------------------------------ ingress


def _template_routes() -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
    """(path, pathType) -> upstream service, and the paths answered 404."""
    routes, blocked = {}, set()
    for m in re.finditer(r"location\s+(=\s*)?(\S+)\s*\{([^}]*)\}", NGINX_TEMPLATE.read_text()):
        key = (m.group(2), "Exact" if m.group(1) else "Prefix")
        upstream = re.search(r"proxy_pass\s+http://berth_(\w+);", m.group(3))
        if upstream:
            routes[key] = upstream.group(1)
        else:
            assert "return 404" in m.group(3), m.group(0)
            blocked.add(key)
    return routes, blocked


def _template_directive(name: str, location: str | None = None) -> str:
    text = NGINX_TEMPLATE.read_text()
    if location:
        text = re.search(r"location\s+" + re.escape(location) + r"\s*\{([^}]*)\}",
                         text).group(1)  # type: ignore[union-attr]
    return re.search(rf"\b{name}\s+(\S+);", text).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_are_the_nginx_template_routes(overlay: str) -> None:
    routes, blocked = _template_routes()
    assert routes and blocked
    services = {s["metadata"]["name"]: s for s in _objects(overlay, "Service")}
    found, denied = {}, set()
    for ingress in _objects(overlay, "Ingress"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        is_blocked = ingress["metadata"].get("annotations", {}).get(BLOCK) == "0.0.0.0/0,::/0"
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                key = (p["path"], p["pathType"])
                backend = p["backend"]["service"]
                assert backend["port"]["number"] in \
                    [x["port"] for x in services[backend["name"]]["spec"]["ports"]]
                if is_blocked:
                    denied.add(key)
                else:
                    assert key not in found, f"{key} routed twice"
                    found[key] = backend["name"]
    assert found == routes
    assert denied == blocked
    assert not any(path.startswith("/internal") for path, _ in found)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_registry_ingress_streams_like_the_template(overlay: str) -> None:
    by_path = {}
    for ingress in _objects(overlay, "Ingress"):
        for p in ingress["spec"]["rules"][0]["http"]["paths"]:
            by_path[p["path"]] = ingress["metadata"].get("annotations", {})
    v2 = by_path["/v2/"]
    assert v2[ANNOTATION + "proxy-body-size"] == \
        _template_directive("client_max_body_size", "/v2/") == "0"
    assert v2[ANNOTATION + "proxy-request-buffering"] == \
        _template_directive("proxy_request_buffering", "/v2/") == "off"
    assert v2[ANNOTATION + "proxy-buffering"] == "off"
    for which in ("read", "send"):
        expected = _template_directive(f"proxy_{which}_timeout", "/v2/").rstrip("s")
        assert v2[ANNOTATION + f"proxy-{which}-timeout"] == expected
    api = by_path["/api/"]
    assert api[ANNOTATION + "proxy-body-size"] == _template_directive("client_max_body_size")


# ------------------------------------------------------------------ upgrade order


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_can_be_applied_first_with_their_configuration(overlay: str) -> None:
    # docs/deploy.md: kubectl apply -k ... -l 'app.kubernetes.io/component in
    # (config,migrate)' must bring everything the Jobs need.
    first = [o for o in build(overlay)
             if o["metadata"].get("labels", {}).get("app.kubernetes.io/component")
             in {"config", "migrate"}]
    jobs = of_kind(first, "Job")
    assert {component(j)[0] for j in jobs} == set(MIGRATED)
    config_maps = {c["metadata"]["name"] for c in of_kind(first, "ConfigMap")}
    for job in jobs:
        for c in containers(job):
            for source in c.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
            for e in c.get("env", []):
                assert "configMapKeyRef" not in e.get("valueFrom", {})
    assert "app.kubernetes.io/component in (config,migrate)" in \
        (K8S.parent / "docs" / "deploy.md").read_text()
