"""Every ``ClientsideFunction(namespace, function_name)`` the app names
exists in the browser scripts (assets/js/*.js): a misspelt or removed
function would otherwise surface only as a browser error on the page that
uses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.clientside import SCRIPTS, JsShapeError, js_functions, named_functions, unmatched


def test_every_clientside_function_named_in_dashapp_exists_in_the_scripts() -> None:
    named = named_functions()
    # The reader found the app's uses (the browser answers the address bar,
    # the hovers, the restyles and the heatmaps page's spread).
    assert {("cnn", "render"), ("cnn", "restyleMaps"), ("cnn", "spread"), ("cnn", "replaceSearch")} <= set(named)
    missing = unmatched()
    assert not missing, "ClientsideFunction names no script defines:\n" + "\n".join(
        f"  {namespace}.{function} ({', '.join(where)})" for (namespace, function), where in sorted(missing.items()))


def test_a_missing_or_renamed_function_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "dashapp"
    package.mkdir()
    (package / "page.py").write_text(
        "from dash import ClientsideFunction\n"
        "import dash\n"
        "A = ClientsideFunction('cnn', 'noSuchFunction')\n"
        "B = dash.ClientsideFunction(namespace='cnn', function_name='render')\n"
        "C = ClientsideFunction(function_name='restyleMaps', namespace='cnn')\n"
        "D = ClientsideFunction('elsewhere', 'render')\n"
    )
    scripts = tmp_path / "js"
    shutil.copytree(SCRIPTS, scripts)
    assert unmatched(package, scripts) == {("cnn", "noSuchFunction"): ["dashapp/page.py:3"],
                                           ("elsewhere", "render"): ["dashapp/page.py:6"]}
    app_script = scripts / "dashapp.js"
    text = app_script.read_text()
    assert text.count("restyleMaps: function") == 1
    app_script.write_text(text.replace("restyleMaps: function", "restyleMapz: function"))
    assert ("cnn", "restyleMaps") in unmatched(package, scripts)


def test_a_name_that_is_not_a_literal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "page.py").write_text(
        "from dash import ClientsideFunction\nNAME = 'x'\nF = ClientsideFunction('cnn', NAME)\n")
    with pytest.raises(JsShapeError, match="function_name is not a string literal"):
        unmatched(tmp_path, SCRIPTS)


SHAPES = r"""
// window.dash_clientside = {commented: {out: function () {}}};
/* window.dash_clientside.block = {out: function () {}}; */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  first: {
    plain: function (a) { return a.split("}").join('{') + `${a}}{`; },
    arrow: (a, b) => a / b,
    short: x => x,
    method(a) { return /[}"'{]\/x/g.test(a) ? {a: [1, 2]} : a; },
    async later() { return 1; },
    "quoted": function () {},
    notAFunction: 3,
  },
  second: {alone: function () { return window.dash_clientside.no_update === undefined; }},
});
window.dash_clientside.third = {one: function () {}, two: () => 2};
window.dash_clientside.first.added = function () {};
if (window.dash_clientside.callback_context) { window.dash_clientside.no_update; }
"""


def test_the_reader_understands_the_shapes_a_script_uses() -> None:
    assert js_functions(SHAPES) == {
        "first": {"plain", "arrow", "short", "method", "later", "quoted", "added"},
        "second": {"alone"},
        "third": {"one", "two"},
    }


@pytest.mark.parametrize("script", [
    "window.dash_clientside = makeNamespaces();",
    "window.dash_clientside = {cnn: functions};",
    "window.dash_clientside.cnn = functions;",
    "window.dash_clientside = Object.assign({}, {...spread});",
])
def test_a_shape_the_reader_does_not_know_fails_loudly(script: str) -> None:
    with pytest.raises(JsShapeError):
        js_functions(script)
