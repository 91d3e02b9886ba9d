"""The layout as served to a page: its address's state and the page itself already in it.

Dash fetches the layout (``/_dash-layout``) once the page's scripts have run.
Left to itself, it would then wait for the two ``dcc.Location`` components to
mount and say the address, ask the URL callback for the state and Dash's
router for the page (one round trip), render the page, and only then let the
page ask for its data (a second): every first visit paid a chain of round
trips and two renders of the layout before the page's own callback could fire.

The layout request comes from the page, whose address is its ``Referer``
(``Referrer-Policy: same-origin``, web/headers.py; i18n/negotiation.py reads
the language from it the same way). From it the served layout holds what those
answers would have been: the URL callback's answer to that address
(``url_sync.loaded``: the state, ready-state, the controls, the messages) and
the router's page, with both Locations' ``pathname`` and ``search`` set, so
neither reports a change on mount. The page's callbacks then fire with the
layout's first batch. Without a usable Referer (another origin, an unknown
page, stripped by the browser) the layout is the plain shell and the
callbacks run as before. Should the address the page really has differ from
the one served (a Referer cut to its origin), the browser corrects it at once:
``served-address`` (clientside.register_served) sets the Locations to the real
address, which runs the URL callback and the router as on any load.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import dash
from dash import Dash, no_update
from dash._pages import PAGE_REGISTRY, _parse_query_string, _path_to_page
from flask import has_request_context, request

__all__ = ["FIRST_DATA", "LAYOUT_PATH", "SERVED_ADDRESS", "install", "served_address"]

LAYOUT_PATH = "_dash-layout"
SERVED_ADDRESS = "served-address"  # a store with the address the layout was served for (None: none)
# Dash's page container (dash.page_container): its Location, content and title store.
PAGES_LOCATION, PAGES_CONTENT, PAGES_STORE = "_pages_location", "_pages_content", "_pages_store"


# A page's own first data, by its path: ready-state -> {component id: {property: value}} to set in
# the served page (pages/heatmaps.py registers its layer), so the page's first callback needs no request.
FIRST_DATA: dict[str, Callable[[dict[str, Any]], dict[str, dict[str, Any]]]] = {}


def served_address(app: Dash) -> tuple[str, str] | None:
    """(pathname, search) of the page asking for the layout, when it is one of this app's pages."""
    if not has_request_context() or not request.path.endswith("/" + LAYOUT_PATH) or not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    page, _variables = _path_to_page(app.strip_relative_path(parts.path) or "")
    if not page:
        return None
    return parts.path, f"?{parts.query}" if parts.query else ""


def _components(tree: Any) -> dict[str, Any]:
    found = {tree.id: tree} if isinstance(getattr(tree, "id", None), str) else {}
    for _path, component in tree._traverse_with_paths():
        if isinstance(getattr(component, "id", None), str):
            found[component.id] = component
    return found


def _fill(components: dict[str, Any], outputs: dict[str, Any], answer: dict[str, Any]) -> None:
    """Set each output's property to the answer's value (``no_update``: leave the layout's)."""
    for key, output in outputs.items():
        if isinstance(output, dict):
            _fill(components, output, answer[key])
        elif answer[key] is not no_update:
            setattr(components[output.component_id], output.component_property, answer[key])


def _with_page(tree: Any, container: Any, pathname: str, search: str, app: Dash) -> dict[str, Any]:
    """The page container in ``tree`` replaced by a copy holding the router's answer for the address
    (its components by id, returned)."""
    page, variables = _path_to_page(app.strip_relative_path(pathname) or "")
    own = copy.deepcopy(container)  # dash.page_container is one object for every request
    parts = _components(own)
    layout, title = page["layout"], page["title"]
    parts[PAGES_CONTENT].children = layout(**(variables or {}), **_parse_query_string(search)) \
        if callable(layout) else layout
    parts[PAGES_STORE].data = {"title": title(**(variables or {})) if callable(title) else title}
    parts[PAGES_LOCATION].pathname, parts[PAGES_LOCATION].search = pathname, search
    for _path, component in tree._traverse_with_paths():
        children = getattr(component, "children", None)
        if isinstance(children, list) and any(child is container for child in children):
            component.children = [own if child is container else child for child in children]
            return _components(own)
    raise LookupError("the shell holds no page container")


def install(app: Dash, loaded: Callable[[str], dict[str, Any]], outputs: dict[str, Any],
            stores: dict[str, str]) -> None:
    """Serve ``app``'s layout (the shell's function) with the answer ``loaded(search)`` in the
    components ``outputs`` names, each of ``stores`` holding the answer's part it names, and
    the page, for a layout request from one of its pages."""
    shell = app.layout

    def layout() -> Any:
        tree = shell()
        address = served_address(app)
        if address is None or not PAGE_REGISTRY:
            return tree
        pathname, search = address
        components = _components(tree)
        answer = loaded(search)
        _fill(components, outputs, answer)
        for store, key in stores.items():
            if answer[key] is not no_update:
                components[store].data = answer[key]
        components["url"].pathname, components["url"].search = pathname, search
        components[SERVED_ADDRESS].data = pathname + search
        page = _with_page(tree, dash.page_container, pathname, search, app)
        first = FIRST_DATA.get(_path_to_page(app.strip_relative_path(pathname) or "")[0]["path"])
        if first is not None and isinstance(answer.get("ready"), dict):
            for component_id, props in first(answer["ready"]).items():
                for name, value in props.items():
                    setattr(page[component_id], name, value)
        return tree

    app.layout = layout
