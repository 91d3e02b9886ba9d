"""Which language a request is answered in, and the navbar's switch.

Per request, the first of: the address's own ``lang=`` (a page load, an API
call); the ``lang=`` of the page that sent it (Dash's layout and callback
requests come from the page, whose current address is their ``Referer``),
so two tabs in two languages each keep theirs; the preference cookie set when
a page was opened with ``lang=``; the browser's ``Accept-Language``; English.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dash import Dash, html
from flask import Flask, Response, request

from dashapp import i18n
from dashapp.i18n import N_, _

COOKIE = "dashapp_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Files whose bytes never depend on the language (and are cached for long).
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")

# What plotly.js itself says (toolbar buttons, hints, notices), by its own
# English keys: translated through our catalog and registered with plotly as
# a locale by assets/js/language.js.
PLOTLY_STRINGS = (
    N_("Autoscale"), N_("Box Select"), N_("Compare data on hover"), N_("Double-click on legend to isolate one trace"),
    N_("Double-click to zoom back out"), N_("Download plot"), N_("Download plot as a PNG"),
    N_("Image download succeeded"), N_("Preparing image - this may take a few seconds"), N_("Share chart..."),
    N_("Lasso Select"), N_("Pan"), N_("Produced with Plotly.js"), N_("Reset axes"),
    N_("Reset view"), N_("Show closest data on hover"), N_("Snapshot succeeded"),
    N_("Sorry, there was a problem downloading your image!"),
    N_("Sorry, there was a problem downloading your snapshot!"), N_("Taking snapshot - this may take a few seconds"),
    N_("Toggle Spike Lines"), N_("Toggle show closest data on hover"), N_("Zoom"), N_("Zoom in"), N_("Zoom out"),
    # The hover labels of box plots (the profile page's distributions).
    N_("lower fence:"), N_("max:"), N_("mean:"), N_("mean ± σ:"), N_("median:"), N_("min:"), N_("q1:"), N_("q3:"),
    N_("upper fence:"),
)


def _lang_of_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host:  # only our own pages speak for a request
        return None
    values = parse_qs(parts.query).get("lang")
    return i18n.known(values[0]) if values else None


def language_of_request() -> str:
    for candidate in (request.args.get("lang"), _lang_of_referrer(), request.cookies.get(COOKIE)):
        if i18n.known(candidate):
            return candidate  # type: ignore[return-value]
    return request.accept_languages.best_match(i18n.LANGUAGES) or i18n.DEFAULT_LANGUAGE


def install(app: Dash) -> None:
    """Set each request's language; remember an explicit choice in a cookie;
    put the language on ``<html lang>``."""
    server: Flask = app.server

    @server.before_request
    def _speak() -> None:
        i18n.use(language_of_request())

    @server.after_request
    def _remember(response: Response) -> Response:
        if request.path.startswith(STATIC_PREFIXES):
            return response
        # What we send depends on these; a shared cache must keep them apart.
        response.vary.update(("Accept-Language", "Cookie"))
        chosen = i18n.known(request.args.get("lang"))
        if chosen and request.method == "GET" and response.mimetype == "text/html":
            response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                                secure=request.is_secure)
        return response

    original = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        # The page template carries "{%lang%}" (ui/layout/shell.DOCUMENT); Dash
        # fills its own placeholders and leaves ours.
        return original(**kwargs).replace("{%lang%}", i18n.current())

    # Dash calls it with keywords only; its declared signature is positional.
    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]


def switch() -> html.Nav:
    """Links to this same view in each language: a full reload, since the
    shell is rendered in the language (assets/js/language.js keeps the rest of
    the address; the plain ``?lang=`` is for a browser without scripts)."""
    here = i18n.current()
    links: list[Any] = []
    for code in i18n.LANGUAGES:
        name = i18n.LANGUAGE_NAMES[code]
        if code == here:
            current: dict[str, Any] = {"aria-current": "true"}  # Any: Dash takes these as keywords only
            links.append(html.Span(name, className="lang-current", lang=code, **current))
        else:
            link: dict[str, Any] = {"data-lang": code}
            links.append(html.A(name, href=f"?lang={code}", lang=code, hrefLang=code, className="lang-link", **link))
    nav: dict[str, Any] = {"aria-label": _("Language"), "data-plotly-locale": plotly_locale()}
    return html.Nav(links, className="lang-switch", **nav)


def plotly_locale() -> str:
    """plotly.js's locale for the current language, as JSON: its strings and
    number marks (English needs none: it is plotly's own)."""
    if i18n.current() == i18n.DEFAULT_LANGUAGE:
        return ""
    separators = i18n.plotly_separators()
    return json.dumps({"name": i18n.current(), "dictionary": {text: _(text) for text in PLOTLY_STRINGS},
                       "format": {"decimal": separators[0], "thousands": separators[1]}}, ensure_ascii=False)


def speaking_query(layout: Any) -> Any:
    """A page's layout function that first speaks the link's ``lang=``
    (Dash passes the query to it)."""

    def speaking_layout(**query: Any) -> Any:
        i18n.use(query.get("lang"))
        return layout(**query)

    return speaking_layout
