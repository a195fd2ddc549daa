"""gunicorn entry point: ``berth.syncer.wsgi:app``."""

from berth.syncer.app import create_app

app = create_app()
