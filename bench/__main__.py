"""`python -m bench [--full] [--only NAME...]`: run, print the table, save JSON.

The embedded-mode stack (SQLite files, file-system bus) serves every
benchmark of the quick pass; a second stack on MariaDB + RabbitMQ serves
push → visible in both passes and, in the full pass, the catalog, web UI and
audit benchmarks at the full sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import (
    audit_bench,
    catalog_bench,
    footprint,
    plot,
    pull_bench,
    push_visible,
    reconcile_bench,
    token_bench,
    webui_bench,
)
from bench.report import Row, save, table
from bench.setup import bootstrap_admin
from tests.e2e.support.stack import RunningStack

QUICK: dict[str, Any] = {
    "token_seconds": 4, "pulls": 5, "pushes": 15, "pushes_mysql": 15,
    "reconcile": [50, 100, 200],
    "catalog": [500, 1000, 2000], "webui": [250, 500, 1000], "requests": 60,
    "audit_ingest": 1500, "audit": [5000, 10000, 20000], "audit_queries": 40}
FULL: dict[str, Any] = {
    "token_seconds": 20, "pulls": 20, "pushes": 200, "pushes_mysql": 200,
    "reconcile": [500, 2000, 5000],
    "catalog": [10_000, 30_000, 100_000], "webui": [1000, 3000, 10_000],
    "requests": 200,
    "audit_ingest": 50_000, "audit": [100_000, 300_000, 1_000_000], "audit_queries": 100}
TINY: dict[str, Any] = {
    "token_seconds": 1, "pulls": 1, "pushes": 2, "pushes_mysql": 2,
    "reconcile": [3, 6, 10], "catalog": [20, 40, 60], "webui": [20, 40, 60],
    "requests": 5, "audit_ingest": 50, "audit": [100, 200, 300], "audit_queries": 5}
NAMES = ("token", "pull", "push", "reconcile", "catalog", "audit", "footprint",
         "mysql", "webui")
SERVICES_WITH_DB = ("token", "catalog", "syncer", "audit")


def embedded_pass(scratch: Path, sizes: dict[str, Any], only: set[str], full: bool
                  ) -> list[Row]:
    """Everything measured on the embedded-mode stack."""
    rows: list[Row] = []
    stack = RunningStack(scratch / "home", env={"BERTH_LOG_LEVEL": "WARNING"})
    stack.start()
    try:
        app_token = app_token_of(stack)
        if "footprint" in only:
            rows += footprint.run(stack)  # idle: before any load
        if "token" in only:
            rows += token_bench.run(stack, app_token, sizes["token_seconds"])
        if "pull" in only:
            rows += pull_bench.run(stack, app_token, sizes["pulls"], scratch)
        if "push" in only:
            rows += push_visible.run(stack, app_token, sizes["pushes"], scratch,
                                     "embedded")
        if not full:
            rows += data_pass(stack, sizes, only, "SQLite", None,
                              {s: f"sqlite:///{stack.home / 'db' / f'{s}.sqlite'}"
                               for s in SERVICES_WITH_DB})
    finally:
        stack.stop()
    return rows


def data_pass(stack: RunningStack, sizes: dict[str, Any], only: set[str], label: str,
              amqp_url: str | None, databases: dict[str, str]) -> list[Row]:
    """Catalog, web UI and audit, grown in place on ``stack``'s databases."""
    rows: list[Row] = []
    if "push" not in only and {"catalog", "audit", "webui"} & only:
        push_visible.run(stack, app_token_of(stack), 1, stack.home, label)
    if "catalog" in only:
        rows += catalog_bench.run(stack, databases["catalog"],
                                  catalog_sizes=sizes["catalog"],
                                  webui_sizes=sizes["webui"],
                                  requests_per_case=sizes["requests"], label=label)
    if "webui" in only and "catalog" not in only:  # catalog_bench times the pages too
        rows += webui_bench.run(stack, databases["catalog"], sizes=sizes["webui"],
                                requests_per_case=sizes["requests"], label=label)
    if "audit" in only:
        rows += audit_bench.run(stack, databases["audit"], catalog_bench.api_token(stack),
                                ingest_count=sizes["audit_ingest"], sizes=sizes["audit"],
                                queries=sizes["audit_queries"], label=label,
                                amqp_url=amqp_url)
    return rows


def app_token_of(stack: RunningStack) -> str:
    """The admin's application token (bootstrapping it if needed)."""
    token = getattr(stack, "bench_app_token", None)
    if token is None:
        token = bootstrap_admin(stack)
        stack.bench_app_token = token  # type: ignore[attr-defined]
    return str(token)


def mysql_pass(scratch: Path, sizes: dict[str, Any], only: set[str], full: bool
               ) -> list[Row]:
    """push → visible (and in the full pass the data benchmarks) on MariaDB + RabbitMQ."""
    from berth.common.testing import mysql_database, rabbitmq_vhost

    rows: list[Row] = []
    with ExitStack() as cleanup:
        amqp = cleanup.enter_context(rabbitmq_vhost())
        databases = {svc: cleanup.enter_context(mysql_database(f"berth_bench_{svc}"))
                     for svc in SERVICES_WITH_DB}
        env = {"BERTH_LOG_LEVEL": "WARNING", "BERTH_AMQP_URL": amqp,
               **{f"BERTH_{svc.upper()}_DATABASE_URL": url
                  for svc, url in databases.items()}}
        stack = RunningStack(scratch / "home-mysql", env=env)
        stack.start()
        try:
            app_token = app_token_of(stack)
            rows += push_visible.run(stack, app_token, sizes["pushes_mysql"], scratch,
                                     "MariaDB + RabbitMQ")
            if full:
                rows += data_pass(stack, sizes, only | {"push"}, "MariaDB", amqp,
                                  databases)
        finally:
            stack.stop()
    return rows


def run(sizes: dict[str, Any], only: set[str], full: bool, scratch: Path) -> list[Row]:
    """Every selected benchmark, in an order that keeps each one's load apart."""
    rows: list[Row] = []
    if only & {"token", "pull", "push", "footprint"} or (
            not full and only & {"catalog", "audit", "webui"}):
        rows += _timed("embedded stack", embedded_pass, scratch, sizes, only, full)
    if "reconcile" in only:
        rows += _timed("reconcile", reconcile_bench.run, sizes["reconcile"], scratch)
    # In the full pass the catalog and audit sizes are measured on MariaDB.
    if "mysql" in only or (full and only & {"catalog", "audit"}):
        rows += _timed("MariaDB + RabbitMQ stack", mysql_pass, scratch, sizes, only,
                       full)
    elif full and "webui" in only:
        rows += _timed("web UI on MariaDB + RabbitMQ", webui_bench.mysql_pass, scratch,
                       sizes)
    return rows


def _timed(what: str, func: Any, *args: Any) -> list[Row]:
    started = time.monotonic()
    rows: list[Row] = func(*args)
    print(f"bench: {what} took {time.monotonic() - started:.0f} s", file=sys.stderr,
          flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks and report them."""
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--full", action="store_true", help="the full sizes (long)")
    parser.add_argument("--tiny", action="store_true",
                        help="seconds-long sizes that only prove the harness works")
    parser.add_argument("--only", nargs="*", choices=NAMES, default=list(NAMES))
    parser.add_argument("--results", type=Path, default=None,
                        help="directory for the JSON and the plots")
    args = parser.parse_args(argv)
    sizes = TINY if args.tiny else FULL if args.full else QUICK
    plot.OUTPUT = args.results
    plot.SUFFIX = "-full" if args.full else ""
    with tempfile.TemporaryDirectory(prefix="berth-bench-") as tmp:
        rows = run(sizes, set(args.only), args.full, Path(tmp))
    if not rows:
        print(f"bench: --only {' '.join(args.only)} measured nothing", file=sys.stderr)
        return 1
    path = save(rows, args.full, args.results)
    print(table(rows))
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
