"""The navbar: the pages in a few named groups, the language switch, and on a
narrow screen the buttons that open the menu and the controls.

Fourteen links do not fit one line at 1440 px, and on a phone they filled the
first screen, so the pages are grouped by what a reader looks at (a filter, a
class, the network, images). Each group is a disclosure button with its list
of links (the pattern WAI-ARIA recommends for site navigation: links, not a
``menu``); a page is one click from its open group. assets/js/navigation.js
opens and closes the groups, the collapsed menu and the controls panel (the
sidebar, ``shell.py``), and keeps ``aria-expanded`` in step; style.css lays the
groups out as drop-downs on a wide screen and as lists in the opened menu on
a narrow one. The current page's link is ``active`` (dbc ``NavLink``, with
``aria-current="page"``), and so is its group's button.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashapp.i18n import N_, _, app_name
from dashapp.i18n.negotiation import switch
from dashapp.ui.attributes import attrs

# Group name -> the paths of its pages, in the menu's order. A page in no
# group is a link of its own on the bar (Overview, and any new page).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Filters"), ("/heatmaps", "/grid", "/detail", "/kernels", "/featurevis")),
    (N_("Classes"), ("/prediction", "/evidence", "/concepts")),
    (N_("Network"), ("/profile", "/blocks", "/circuit")),
    (N_("Images"), ("/compare", "/dataset")),
)
MENU_ID = "nav-menu"
SIDEBAR_ID = "app-sidebar"  # the controls panel a narrow screen opens (shell.py)


def _link(page: dict[str, Any], grouped: bool) -> html.Li:
    link = dbc.NavLink(_(page["name"]), href=page["path"], id={"type": "nav-link", "page": page["path"]},
                       active="exact", className="nav-group-link" if grouped else None)
    return html.Li(link, className="nav-item")


def _group(index: int, name: str, pages: list[dict[str, Any]]) -> html.Li:
    menu = f"nav-group-{index}"
    return html.Li(
        [
            html.Button([_(name), html.Span(className="nav-group-caret", **attrs(aria_hidden="true"))],
                        type="button", className="nav-link nav-group-toggle", id=f"nav-group-{index}-toggle",
                        **attrs(aria_expanded="false", aria_controls=menu)),
            html.Ul([_link(page, grouped=True) for page in pages], id=menu, className="nav-group-menu"),
        ],
        className="nav-item nav-group",
    )


def nav_entries(pages: list[dict[str, Any]]) -> list[html.Li]:
    """The bar's entries: the pages in no group (Overview first), then the groups in their order."""
    by_path = {page["path"]: page for page in pages}
    grouped = {path for _name, paths in GROUPS for path in paths}
    entries: list[html.Li] = [_link(page, grouped=False) for page in pages if page["path"] not in grouped]
    for index, (name, paths) in enumerate(GROUPS):
        members = [by_path[path] for path in paths if path in by_path]
        if members:
            entries.append(_group(index, name, members))
    return entries


def _toggler(id_: str, controls: str, children: Any, class_name: str) -> html.Button:
    """A button that opens and closes ``controls`` (its words are its name)."""
    return html.Button(children, id=id_, type="button", className=class_name,
                       **attrs(aria_controls=controls, aria_expanded="false"))


def navbar(pages: list[dict[str, Any]]) -> html.Nav:
    brand = html.A(
        [html.Span("◧", className="brand-mark"), html.Span(app_name(), className="brand-name")],
        href="/", className="navbar-brand d-flex align-items-center gap-2", title=app_name(),
    )
    controls = _toggler("sidebar-toggle", SIDEBAR_ID,
                        _("Controls"),
                        "btn btn-sm btn-outline-light sidebar-toggle")
    menu = _toggler("nav-toggle", MENU_ID,
                    [html.Span(_("Menu"), className="toggle-text"), html.Span(className="navbar-toggler-icon")],
                    "navbar-toggler")
    return html.Nav(
        dbc.Container(
            [
                brand,
                html.Div([controls, menu], className="navbar-buttons"),
                html.Div(
                    [html.Ul(nav_entries(pages), className="navbar-nav app-nav"), switch()],
                    id=MENU_ID, className="collapse navbar-collapse",
                ),
            ],
            fluid=True,
        ),
        className="navbar navbar-expand-lg navbar-dark bg-dark mb-0 app-navbar",
        **attrs(aria_label=_("Pages"), data_bs_theme="dark"),
    )


__all__ = ["GROUPS", "nav_entries", "navbar"]
