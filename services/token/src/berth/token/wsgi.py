"""gunicorn entry point: ``berth.token.wsgi:app``."""

from berth.token.app import create_app

app = create_app()
