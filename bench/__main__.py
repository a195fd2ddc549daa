"""`python -m bench [--full] [--only NAME...]`: run, print the table, save JSON."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import pull_bench, push_visible, token_bench
from bench.report import Row, save, table
from bench.setup import bootstrap_admin
from tests.e2e.support.stack import RunningStack

QUICK = {"token_seconds": 5, "pulls": 5, "pushes": 20}
FULL = {"token_seconds": 20, "pulls": 20, "pushes": 200}
NAMES = ("token", "pull", "push")


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks against a fresh embedded-mode stack."""
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--full", action="store_true", help="the issue's sizes")
    parser.add_argument("--only", nargs="*", choices=NAMES, default=list(NAMES))
    args = parser.parse_args(argv)
    sizes = FULL if args.full else QUICK
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="berth-bench-") as tmp:
        scratch = Path(tmp)
        stack = RunningStack(scratch / "home", env={"BERTH_LOG_LEVEL": "WARNING"})
        stack.start()
        try:
            app_token = bootstrap_admin(stack)
            if "token" in args.only:
                rows += token_bench.run(stack, app_token, sizes["token_seconds"])
            if "pull" in args.only:
                rows += pull_bench.run(stack, app_token, sizes["pulls"], scratch)
            if "push" in args.only:
                rows += push_visible.run(stack, app_token, sizes["pushes"], scratch,
                                         "embedded")
        finally:
            stack.stop()
    path = save(rows, args.full)
    print(table(rows))
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
