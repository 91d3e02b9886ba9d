"""gunicorn entry point: ``gunicorn dashapp.wsgi:server``."""

from . import create_app

app = create_app()
server = app.server
