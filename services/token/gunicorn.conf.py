"""gunicorn settings of the token service (env BERTH_TOKEN_BIND etc. override)."""

from berth.common.gunicorn_defaults import child_exit, post_fork, settings

globals().update(settings("token", 5001))

__all__ = ["child_exit", "post_fork"]
