"""gunicorn entry point."""

from berth.catalog.app import create_app

app = create_app()
