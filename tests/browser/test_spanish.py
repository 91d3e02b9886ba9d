"""The interface in Spanish: every page opened with lang=es (every page of
PAGES but those tests/browser/walked.py excludes with a reason) shows none of
the English strings of the catalog; the navbar switch keeps the view; plotly
speaks the page's language.

"English on screen" is read from the Spanish catalog itself: every source
string whose translation differs is looked for in the page's visible text
(``innerText``), whole where it is short (a label on its own line) and by its
literal parts where it is long (the words between placeholders). The same
check finds plenty on the English page, so it can fail.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from dashapp import i18n

from .helpers import SELECTED, snap
from .walked import WALKED, drawn

pytestmark = pytest.mark.browser

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TRIM = " \t.,:;·—–-()…?!¿¡\"'"
LONG = 12  # a fragment this long, with a space, is a phrase, not a word both languages share


def english_strings() -> tuple[set[str], set[str]]:
    """(short strings matched as a whole line, phrases matched anywhere)."""
    with i18n.catalog_path("es").open("rb") as handle:
        catalog = read_po(handle, locale="es")
    short: set[str] = set()
    phrases: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in sources:
            if source in strings:  # the same in both languages ("Zoom", "Grad-CAM")
                continue
            parts = [part.strip(TRIM) for part in PLACEHOLDER.split(source)]
            for part in parts:
                if len(part) >= LONG and " " in part:
                    phrases.add(part)
                elif len(parts) == 1 and len(part) >= 3:
                    short.add(part)
    return short, phrases


SHORT, PHRASES = english_strings()


def english_on_screen(page: Page) -> list[str]:
    text = page.evaluate("() => document.body.innerText")
    lines = {line.strip(TRIM) for line in text.splitlines()}
    return sorted(SHORT & lines) + sorted(phrase for phrase in PHRASES if phrase in text)


def open_settled(page: Page, path: str, lang: str) -> None:
    page.goto(f"{path}?lang={lang}")
    page.wait_for_url(SHA)
    page.goto(path + "?" + page.url.split("?", 1)[1] + SELECTED)
    page.wait_for_url(lambda url: "filter=5" in url and f"lang={lang}" in url)
    expect(page.locator(drawn(path)).first).to_be_attached()
    page.wait_for_load_state("networkidle")


def test_the_catalog_gives_the_check_something_to_find() -> None:
    assert len(SHORT) >= 20 and len(PHRASES) >= 40, (len(SHORT), len(PHRASES))


@pytest.mark.parametrize("path", WALKED)
def test_a_spanish_page_shows_no_english_catalog_string(page: Page, path: str) -> None:
    open_settled(page, path, "es")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    snap(page, "es-" + (path.strip("/") or "overview"))
    leaked = english_on_screen(page)
    assert not leaked, f"English on {path}?lang=es: {leaked}"


def test_the_same_check_finds_english_on_an_english_page(page: Page) -> None:
    open_settled(page, "/heatmaps", "en")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert len(english_on_screen(page)) >= 5


def test_the_switch_opens_the_same_view_in_the_other_language(page: Page) -> None:
    page.goto("/heatmaps?n=4&lang=en")
    page.wait_for_url(SHA)
    page.get_by_role("link", name="Español").click()
    page.wait_for_url(lambda url: "lang=es" in url and "n=4" in url and SHA.search(url) is not None)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(".app-navbar")).to_contain_text("Mapas de calor")
    expect(page).to_have_title(re.compile(r"^Mapas de calor · Analizador de Activaciones de CNN$"))
    expect(page.locator("#heat-grid .js-plotly-plot")).to_have_count(4)
    page.get_by_role("link", name="English").click()
    page.wait_for_url(lambda url: "lang=en" in url and "n=4" in url)
    expect(page.locator(".app-navbar")).to_contain_text("Heatmaps")


def test_plotly_speaks_the_page_language(page: Page) -> None:
    open_settled(page, "/prediction", "es")
    titles = page.locator("#prediction-chart .modebar-btn").evaluate_all(
        "buttons => buttons.map(b => b.getAttribute('data-title'))")
    assert "Descargar gráfico como PNG" in titles, titles
    assert not {"Download plot as a PNG", "Autoscale", "Reset axes"} & set(titles), titles
