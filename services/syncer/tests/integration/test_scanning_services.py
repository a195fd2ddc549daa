"""The scanner's HTTP neighbours: the catalog (tag → image, with the caller's
credentials) and OSV's export bucket (``osv-refresh``)."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from berth.common.errors import Unauthorized, Unavailable
from berth.common.testing import free_port
from berth.syncer.registries import Registry, RegistryDirectory
from berth.syncer.scanning.errors import TagUnknown
from berth.syncer.scanning.osv import AdvisoryDatabase
from berth.syncer.scanning.refresh import RefreshFailed, refresh
from berth.syncer.scanning.tags import CatalogTags
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "scanning"))
from scan_fixtures import osv_doc

ALICE = "Bearer alice-token"


class Stub:
    """A tiny HTTP server answering from a routing function."""

    def __init__(self, route: Any) -> None:
        self.route = route
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Request] = []
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        self.requests.append(req)
        return self.route(req)(environ, start_response)


def catalog_route(req: Request) -> Response:
    if req.headers.get("Authorization") == "Bearer broken":
        return Response('{"message": "no"}', 401, content_type="application/json")
    visible = req.headers.get("Authorization") == ALICE
    if req.path == "/api/v1/tags/5" and visible:
        return Response(json.dumps({"id": 5, "name": "1.0", "repository_id": 9,
                                    "digest": "sha256:" + "d" * 64}),
                        content_type="application/json")
    if req.path == "/api/v1/repositories/9" and visible:
        return Response(json.dumps({"id": 9, "full_name": "alice/app",
                                    "registry_hostname": "other.test:5000"}),
                        content_type="application/json")
    if req.path == "/api/v1/tags/6":
        return Response("oops", 500)
    return Response('{"message": "not found"}', 404, content_type="application/json")


@pytest.fixture
def catalog() -> Iterator[Stub]:
    stub = Stub(catalog_route)
    yield stub
    stub.server.shutdown()


def directory() -> RegistryDirectory:
    default = Registry("registry", "registry.test:5000", "http://127.0.0.1:9",
                       "registry.test:5000", "s")
    other = {"name": "other", "service": "other-service", "hostname": "other.test:5000",
             "url": "http://127.0.0.1:9"}
    return RegistryDirectory(default, lambda: [other])


def test_the_catalog_maps_a_tag_with_the_callers_credentials(catalog):
    tags = CatalogTags(catalog.url, directory())
    ref = tags.resolve(5, {"Authorization": ALICE, "Cookie": "never forwarded"})
    assert (ref.repository, ref.digest[:9], ref.registry) == (
        "alice/app", "sha256:dd", "other-service")
    assert all(r.headers.get("Authorization") == ALICE for r in catalog.requests)
    assert all("Cookie" not in r.headers for r in catalog.requests)


@pytest.mark.parametrize(("tag_id", "headers", "error"), [
    (5, {}, TagUnknown),                                   # private to anonymous
    (5, {"Authorization": "Bearer mallory"}, TagUnknown),  # private to someone else
    (404, {"Authorization": ALICE}, TagUnknown),
    (5, {"Authorization": "Bearer broken"}, Unauthorized),
    (6, {"Authorization": ALICE}, Unavailable),
])
def test_catalog_answers_map_to_errors(catalog, tag_id, headers, error):
    with pytest.raises(error):
        CatalogTags(catalog.url, directory()).resolve(tag_id, headers)


def test_an_unreachable_catalog_is_unavailable():
    with pytest.raises(Unavailable):
        CatalogTags(f"http://127.0.0.1:{free_port()}", directory()).resolve(5, {})


def export_zip(*docs: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for doc in docs:
            zf.writestr(f"{doc['id']}.json", json.dumps(doc))
        zf.writestr("../escape.json", "{}")  # a hostile name stays inside
    return buf.getvalue()


def test_osv_refresh_replaces_each_ecosystem_from_its_export(config, tmp_path):
    archives = {"/PyPI/all.zip": export_zip(osv_doc("PYSEC-1", "PyPI", "a", fixed="2")),
                "/Alpine/all.zip": export_zip(osv_doc("ALPINE-1", "Alpine:v3.18", "b",
                                                      fixed="2-r0"))}
    bucket = Stub(lambda req: Response(archives[req.path]) if req.path in archives
                  else Response("", 404))
    cfg = dataclasses.replace(config, osv_dir=tmp_path / "osv", osv_url=bucket.url,
                              osv_ecosystems=("PyPI", "Alpine"))
    (tmp_path / "osv" / "PyPI").mkdir(parents=True)
    (tmp_path / "osv" / "PyPI" / "STALE-1.json").write_text("{}")
    try:
        assert refresh(cfg) == {"PyPI": 2, "Alpine": 2}
        assert not (tmp_path / "osv" / "PyPI" / "STALE-1.json").exists()
        assert not (tmp_path / "escape.json").exists()
        db = AdvisoryDatabase(tmp_path / "osv")
        db.refresh()
        assert db.count == 2 and db.peek()["age_seconds"] is not None
        cfg_missing = dataclasses.replace(cfg, osv_ecosystems=("Debian",))
        with pytest.raises(RefreshFailed, match="404"):
            refresh(cfg_missing)
        assert AdvisoryDatabase(tmp_path / "osv").peek()["documents"] == 4  # kept
    finally:
        bucket.server.shutdown()


def test_osv_refresh_command_fails_clearly_without_network(tmp_path):
    env = {"BERTH_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "BERTH_OSV_URL": f"http://127.0.0.1:{free_port()}",
           "BERTH_OSV_ECOSYSTEMS": "PyPI"}
    done = subprocess.run([sys.executable, "-m", "berth.syncer", "osv-refresh"],
                          env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "osv-refresh failed" in err and "left as they were" in err
