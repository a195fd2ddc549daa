"""gunicorn settings of the syncer (BERTH_SYNCER_BIND, _WORKERS, _THREADS win)."""

from berth.common.gunicorn_defaults import child_exit, post_fork, settings

globals().update(settings("syncer", 5003))

__all__ = ["child_exit", "post_fork"]
