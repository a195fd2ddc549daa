"""Settings every service's ``gunicorn.conf.py`` starts from."""

from __future__ import annotations

import os
from typing import Any

from berth.common.metrics import mark_process_dead


def settings(service: str, default_port: int) -> dict[str, Any]:
    """gunicorn settings for ``service``; env ``BERTH_<SERVICE>_BIND`` etc. win."""
    prefix = f"BERTH_{service.upper()}_"
    return {
        "bind": os.environ.get(prefix + "BIND", f"127.0.0.1:{default_port}"),
        "workers": int(os.environ.get(prefix + "WORKERS", "2")),
        "threads": int(os.environ.get(prefix + "THREADS", "4")),
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,
        "proc_name": f"berth-{service}",
        # gunicorn's control socket defaults to one fixed path per user, which
        # several services on one machine would fight over; Berth does not use it.
        "control_socket_disable": True,
    }


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's metrics files (prometheus multiprocess mode)."""
    mark_process_dead(worker.pid)


def post_fork(_server: Any, _worker: Any) -> None:
    """Connections must not be shared across a fork: engines are created lazily."""
