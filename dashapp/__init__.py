"""CNN Activation Analyzer: a multi-page Dash app over a shared activation store."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import dash
import diskcache
from dash import CeleryManager, Dash, DiskcacheManager

from dashapp.config.private_files import ensure_private_dir
from dashapp.config.settings import Settings, check_auth, ensure_data_dir, load_settings, secret_key_for

__all__ = ["create_app"]

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


def background_manager(settings: Settings, celery: Any = None) -> Any:
    """Where the pages' background callbacks run. Without Redis: processes
    forked by the web worker, with jobs and results on disk under the data
    directory, so whichever gunicorn worker answers a poll finds the job.
    With Redis: Celery workers (``celery -A dashapp.worker worker``), results
    in Redis, so any host answers."""
    if settings.redis_url:
        from dashapp.config.celery_app import make_celery

        return CeleryManager(celery if celery is not None else make_celery(settings), expire=3600)
    # Dash unpickles this store: this user's only (a 0700 folder, 0600 files).
    ensure_private_dir(settings.jobs_dir).chmod(0o700)  # an older version's 0755 folder too
    store = diskcache.Cache(str(settings.jobs_dir))
    for path in settings.jobs_dir.glob("cache.db*"):
        path.chmod(0o600)
    return DiskcacheManager(store, expire=3600)


def create_app(settings: Settings | None = None, analyzer: object | None = None, celery: Any = None) -> Dash:
    """Build the Dash app and its Flask server (the app factory)."""
    from dashapp import i18n, web
    from dashapp.figures import maps as figures
    from dashapp.i18n import negotiation as language
    from dashapp.ui import callbacks
    from dashapp.ui.layout.shell import DOCUMENT, shell
    from dashapp.web import heap_trim

    from .pages import PAGES
    from .service import Analyzer

    settings = settings or load_settings()
    if celery is None:
        # A Celery worker building the app to know its page jobs passes its
        # Celery app and leaves logging to Celery (its --logfile, its "ready.").
        logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_auth(settings)  # before any work: header mode must not start open to anyone
    ensure_data_dir(settings)
    service = analyzer if isinstance(analyzer, Analyzer) else Analyzer(settings)
    # Weights arrive only by the server's own decision: enabled models, a
    # policy that wants them, one download per file across workers.
    service.registry.start_downloads()

    manager = background_manager(settings, celery)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",  # pages are registered below, explicitly, by the factory
        assets_folder=str(ASSETS),
        external_stylesheets=[],  # bootstrap is served from assets/vendor: no CDN, no network
        serve_locally=True,
        suppress_callback_exceptions=True,
        background_callback_manager=manager,
        title="CNN Activation Analyzer",
        update_title="",  # the tab title stays while callbacks run (Dash: None or "")
    )
    app.index_string = DOCUMENT  # <html lang> per request: i18n/negotiation.py
    server = app.server
    server.config["SECRET_KEY"] = secret_key_for(settings)
    # Room for a base64 upload (4/3 of the file) in a callback request, and no more.
    server.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes * 4 // 3 + 1024 * 1024

    pages = []
    for order, page in enumerate(PAGES):
        dash.register_page(page.__name__, path=page.PATH, name=page.NAME, order=order,
                           layout=language.speaking_query(page.layout), title=_page_title(page.NAME),
                           description=_translated(page.DESCRIPTION))
        pages.append({"path": page.PATH, "name": page.NAME})

    examples = service.library.examples()
    # Describe every model now, before serving: tracing a graph is exclusive
    # (see analysis.graph.TRACING), and a worker should answer its first
    # request with its models ready.
    service.models.state_catalog()
    service.models.evidence_catalog()
    # A function: Dash calls it per page load, so the shell is in the reader's language.
    app.layout = functools.partial(shell, pages, list(service.models.names), examples, settings.max_upload_bytes,
                                   dash.page_container)
    callbacks.register(app, service, tuple(page["path"] for page in pages))
    for page in PAGES:
        page.register(app, service)
    web.install(app, service, settings)
    figures.warm_up()
    heap_trim.start()  # forward passes leave freed memory in glibc's arenas
    for code in i18n.LANGUAGES:  # read the catalogs before the first request
        i18n.translations(code)
    return app


def _page_title(name: str) -> Any:
    from .i18n import _, app_name

    return lambda **_path: f"{_(name)} · {app_name()}"


def _translated(text: str) -> Any:
    from .i18n import _

    return lambda **_path: _(text)
