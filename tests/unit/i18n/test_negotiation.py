"""Which language a request is answered in, and the navbar's switch."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash, html

from dashapp import i18n
from dashapp.i18n import negotiation as language
from dashapp.ui.layout.shell import DOCUMENT


@pytest.fixture()
def app() -> Dash:
    app = Dash(__name__, serve_locally=True)
    app.index_string = DOCUMENT
    app.layout = html.Div("page")
    language.install(app)

    @app.server.route("/said")
    def said() -> str:
        return i18n.current()

    return app


def ask(app: Dash, path: str = "/said", **headers: str) -> Any:
    client = app.server.test_client()
    if "Cookie" in headers:  # the test client keeps its own jar
        name, _, value = headers.pop("Cookie").partition("=")
        client.set_cookie(name, value)
    return client.get(path, headers=headers)


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/said", {}, "en"),
        ("/said", {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}, "es"),
        ("/said", {"Accept-Language": "de, fr;q=0.8"}, "en"),  # neither: English
        ("/said?lang=en", {"Accept-Language": "es"}, "en"),  # the link beats the browser
        ("/said?lang=xx", {"Accept-Language": "es"}, "es"),  # an unknown lang= is ignored
        ("/said", {"Referer": "http://localhost/heatmaps?lang=es&n=6"}, "es"),  # the page that asks
        ("/said", {"Referer": "http://elsewhere.example/?lang=es"}, "en"),  # not our page
        ("/said", {"Cookie": f"{language.COOKIE}=es"}, "es"),
        ("/said", {"Cookie": f"{language.COOKIE}=es", "Referer": "http://localhost/?lang=en"}, "en"),
    ],
)
def test_the_language_of_a_request(app: Dash, path: str, headers: dict[str, str], expected: str) -> None:
    assert ask(app, path, **headers).get_data(as_text=True) == expected


def test_a_page_opened_with_lang_speaks_it_on_html_and_remembers_it(app: Dash) -> None:
    answer = ask(app, "/?lang=es")
    assert '<html lang="es">' in answer.get_data(as_text=True)
    cookie = answer.headers.get("Set-Cookie", "")
    assert cookie.startswith(f"{language.COOKIE}=es") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Accept-Language" in answer.headers.get("Vary", "")
    forged = ask(app, '/?lang=es" onload="x')  # only a language the interface speaks reaches the page
    assert '<html lang="en">' in forged.get_data(as_text=True) and "Set-Cookie" not in forged.headers
    plain = ask(app, "/")
    assert '<html lang="en">' in plain.get_data(as_text=True)
    assert "Set-Cookie" not in plain.headers


def test_the_switch_links_every_other_language_in_its_own_language() -> None:
    with i18n.speaking("es"):
        nav = language.switch()
    links = [c for c in nav.children if isinstance(c, html.A)]
    current = [c for c in nav.children if isinstance(c, html.Span)]
    assert [(a.href, a.lang) for a in links] == [("?lang=en", "en")]
    assert links[0].children == "English"
    assert current[0].children == "Español" and current[0].lang == "es"
    assert getattr(nav, "aria-label") == "Idioma"


def test_a_page_layout_speaks_the_lang_of_its_query() -> None:
    seen: list[str] = []
    layout = language.speaking_query(lambda **_query: seen.append(i18n.current()) or "laid out")
    with i18n.speaking("en"):
        assert layout(lang="es", n="6") == "laid out"
        layout(lang="nope")
    assert seen == ["es", "es"]  # an unknown lang= leaves the language as it was
