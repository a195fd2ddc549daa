"""gunicorn entry point: ``berth.audit.wsgi:app``."""

from berth.audit.app import create_app

app = create_app()
