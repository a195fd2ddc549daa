"""gunicorn settings of the audit service (env BERTH_AUDIT_BIND etc. win)."""

from berth.common.gunicorn_defaults import child_exit, post_fork, settings

globals().update(settings("audit", 5004))

__all__ = ["child_exit", "post_fork"]
