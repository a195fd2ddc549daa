"""One reconcile in a process of its own, so its peak RSS is its own.

``python -m bench.reconcile_run berth|script REGISTRY_URL HOME [DATABASE_URL]``
prints one JSON line: wall and CPU seconds (CPU is steadier on a busy machine),
peak RSS, what changed and how many events
went out on the bus. ``berth`` runs the syncer's Reconciler in-process against
its own database; ``script`` makes the same registry calls (catalog pages, tag
list pages, a HEAD per tag) with the same parallelism and stores nothing.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from berth.common.bus import Bus

PUBLISHED = [0]


def _count_published() -> None:
    # Counted where every message leaves the process: the bus's one send path
    # (publish, publish_raw and dead_letter all end there).
    original = Bus._send

    def send(self: Bus, messages: list[Any]) -> None:
        original(self, messages)
        PUBLISHED[0] += len(messages)

    Bus._send = send  # type: ignore[method-assign]


def run_berth(registry_url: str, home: Path, database_url: str) -> dict[str, Any]:
    """The syncer's own reconcile, wired as its worker wires it."""
    from berth.common.runtime import build_runtime
    from berth.syncer.config import load_config
    from berth.syncer.models import OUTBOX
    from berth.syncer.wiring import ClientPool, build_directory, build_reconciler

    _count_published()
    config = load_config({"BERTH_HOME": str(home), "BERTH_REGISTRY_URL": registry_url,
                          "BERTH_SYNCER_DATABASE_URL": database_url,
                          "BERTH_LOG_LEVEL": "WARNING",
                          "BERTH_AMQP_URL": ""})
    runtime = build_runtime(config, service="syncer", database_url=config.database_url,
                            outbox_table=OUTBOX)
    reconciler = build_reconciler(config, runtime, build_directory(config, False),
                                  ClientPool(config))
    started, cpu = time.perf_counter(), time.process_time()
    run = reconciler.run_now("system:bench")
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "cpu_seconds": time.process_time() - cpu,
            "status": run.status, "repositories": run.repositories,
            "tags": run.tags, "added": run.added, "removed": run.removed,
            "changed": run.changed, "errors": run.errors,
            "parallelism": config.sync_parallelism, "page_size": config.sync_page_size}


def run_script(registry_url: str, parallelism: int = 8, page: int = 100
               ) -> dict[str, Any]:
    """The same calls, nothing else: what listing the registry costs."""
    import requests
    from requests.adapters import HTTPAdapter

    http = requests.Session()
    http.mount("http://", HTTPAdapter(pool_connections=parallelism * 2,
                                      pool_maxsize=parallelism * 2))
    accept = ("application/vnd.oci.image.manifest.v1+json, "
              "application/vnd.docker.distribution.manifest.v2+json")

    def pages(url: str | None, key: str) -> Iterable[list[str]]:
        while url:
            resp = http.get(url, timeout=30)
            resp.raise_for_status()
            yield resp.json().get(key) or []
            nxt = resp.links.get("next", {}).get("url")
            url = urljoin(registry_url + "/", nxt) if nxt else None

    def listing(name: str) -> int:
        tags: dict[str, str] = {}
        try:
            for batch in pages(f"{registry_url}/v2/{name}/tags/list?n={page}", "tags"):
                for tag in batch:
                    resp = http.head(f"{registry_url}/v2/{name}/manifests/{tag}",
                                     headers={"Accept": accept}, timeout=30)
                    tags[tag] = resp.headers.get("Docker-Content-Digest", "")
        except requests.HTTPError:
            pass
        return len(tags)

    started, cpu = time.perf_counter(), time.process_time()
    repos = tags = 0
    with ThreadPoolExecutor(parallelism) as pool:
        futures = []
        for batch in pages(f"{registry_url}/v2/_catalog?n={page}", "repositories"):
            futures += [pool.submit(listing, name) for name in batch]
        for f in futures:
            tags += f.result()
            repos += 1
    return {"seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu, "repositories": repos,
            "tags": tags}


def main(argv: list[str]) -> int:
    mode, registry_url, home = argv[0], argv[1], Path(argv[2])
    if mode == "berth":
        out = run_berth(registry_url, home, argv[3])
    else:
        out = run_script(registry_url)
    out["published"] = PUBLISHED[0]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
