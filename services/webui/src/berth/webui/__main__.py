"""`python -m berth.webui migrate|worker`: the web UI has neither a database nor
bus consumers, so both commands succeed at once (the same CLI as every service)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Run one command."""
    if len(argv) != 1 or argv[0] not in {"migrate", "worker"}:
        print("usage: python -m berth.webui migrate|worker", file=sys.stderr)
        return 2
    print(f"berth-webui: nothing to {argv[0]} (the web UI owns no data)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
