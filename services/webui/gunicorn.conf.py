"""gunicorn settings of the web UI (env BERTH_WEBUI_BIND etc. override)."""

from berth.common.gunicorn_defaults import child_exit, post_fork, settings

globals().update(settings("webui", 5005))

__all__ = ["child_exit", "post_fork"]
