"""gunicorn entry point."""

from berth.webui.app import create_app

app = create_app()
