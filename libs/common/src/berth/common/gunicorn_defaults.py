"""Settings every service's ``gunicorn.conf.py`` starts from."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

from berth.common.metrics import mark_process_dead

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


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


def post_fork(server: Any, _worker: Any) -> None:
    """A worker ends with its master (engines are created lazily after the
    fork, so no connection is shared).

    A master killed outright (SIGKILL, the OOM killer) leaves its workers
    holding the listening socket: the master started in its place cannot bind,
    and the orphans keep answering with a log pipe nobody reads any more."""
    die_with_parent(server.pid)


def die_with_parent(parent: int) -> None:
    """Have the kernel send SIGTERM (a graceful stop) to this process when its
    parent ``parent`` exits; at once if it already has. Linux only."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        return
    if os.getppid() != parent:  # died between the fork and the prctl
        os.kill(os.getpid(), signal.SIGTERM)
