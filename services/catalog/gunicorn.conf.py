"""gunicorn settings of the catalog (env BERTH_CATALOG_BIND, _WORKERS, _THREADS)."""

from berth.common.gunicorn_defaults import child_exit, post_fork, settings

globals().update(settings("catalog", 5002))

__all__ = ["child_exit", "post_fork"]
