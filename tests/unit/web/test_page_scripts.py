"""The page loads Dash's scripts without @babel/polyfill, and defines the one
global of it Dash's bundles read (``regeneratorRuntime``) from our assets."""

from __future__ import annotations

import html as html_module
import json
import re
from pathlib import Path

from dash import Dash, html

from dashapp.web import page_scripts

ASSETS = Path(page_scripts.__file__).resolve().parents[2] / "assets"
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"')


def page_scripts_of(install: bool) -> list[str]:
    app = Dash(__name__, assets_folder=str(ASSETS), serve_locally=True)
    app.layout = html.Div()
    if install:
        page_scripts.install(app)
    return SCRIPT_SRC.findall(app.server.test_client().get("/").get_data(as_text=True))


def test_dash_would_load_the_polyfill_and_the_page_does_not() -> None:
    # Dash's own page has it, in the form the pattern removes: a Dash that
    # writes it otherwise fails here rather than loading it again unnoticed.
    assert any("/deps/polyfill@" in src for src in page_scripts_of(install=False))
    scripts = page_scripts_of(install=True)
    assert not any("polyfill" in src for src in scripts)
    # Everything else Dash lists is still there, React first and the renderer after our assets.
    names = [src.split("?")[0].rsplit("/", 1)[-1] for src in scripts]
    assert names[0].startswith("react@") and any(name.startswith("dash_renderer.") for name in names)
    runtime = names.index("regenerator-runtime.js")
    assert runtime < next(i for i, name in enumerate(names) if name.startswith("dash_renderer."))


def test_the_regenerator_runtime_is_vendored_with_its_licence() -> None:
    runtime = (ASSETS / "vendor" / "regenerator-runtime.js").read_text(encoding="utf-8")
    # It sets the global Dash's lazily loaded components call (regeneratorRuntime.mark / .wrap).
    assert "regeneratorRuntime = runtime" in runtime
    assert "MIT License" in (ASSETS / "vendor" / "REGENERATOR-RUNTIME-LICENSE.txt").read_text(encoding="utf-8")


def test_the_page_head_carries_plotly_s_locale_in_the_page_s_language() -> None:
    from dashapp.i18n import negotiation as language
    from dashapp.ui.layout.shell import DOCUMENT

    app = Dash(__name__, assets_folder=str(ASSETS), serve_locally=True)
    app.index_string = DOCUMENT
    app.layout = html.Div()
    page_scripts.install(app)
    language.install(app)
    meta = re.compile(r'<meta name="dashapp-plotly-locale" content="([^"]*)">')

    def locale(path: str) -> str:
        found = meta.search(app.server.test_client().get(path).get_data(as_text=True))
        assert found, "no locale in the page's head (assets/js/language.js reads it there)"
        return html_module.unescape(found.group(1))

    assert locale("/?lang=en") == ""  # plotly.js's own English
    spanish = json.loads(locale("/?lang=es"))
    assert spanish["name"] == "es" and spanish["format"]["decimal"] == ","
