"""The URL is the state. One callback owns ``url.search``: it turns the event
that fired (a loaded URL, a control, a chosen image, a page's navigation
request) into a new state with ``state.apply`` and shows it in the controls.
Pages listen to ``ready-state``: the analysis part of the state, set in the
same answer once the model can answer, so restyling controls never reach
the server."""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, no_update

from dashapp import i18n
from dashapp.service import Analyzer
from dashapp.state.schema import RANKING_KEYS, SCHEMA, StateError, ViewState
from dashapp.state.transitions import ControlChanged, Event, ImageChosen, Navigated, UrlLoaded, World, apply
from dashapp.state.url import encode_state, strict_state
from dashapp.ui.callbacks.clientside import LOADED_STORES
from dashapp.ui.callbacks.model_loading import readiness
from dashapp.ui.layout import served

# state field -> the sidebar control that shows it (each field declares its own: state/schema.py)
CONTROLS = SCHEMA.controls
DISPLAY_KEYS = SCHEMA.display_keys
FIELD_OF_CONTROL = {control: key for key, control in CONTROLS.items()}
# The controls this callback shows the state in; the ranking's are shown by the browser (register):
# were they this callback's outputs, the browser's ranking (assets/js/ranking.js), which listens to
# them, would wait for this callback's answer before drawing.
SHOWN_HERE = {key: control for key, control in CONTROLS.items() if key not in RANKING_KEYS}


def layer_options(service: Analyzer, model: str) -> list[dict[str, str]]:
    options = []
    for info in service.models.layers(model).values():
        h, w = info.map_size
        label = i18n.ngettext("{layer} · {n} filter · {height}×{width}", "{layer} · {n} filters · {height}×{width}",
                              info.out_channels).format(layer=info.name, n=info.out_channels, height=h, width=w)
        options.append({"label": label, "value": info.name})
    return options


def _messages(texts: list[str]) -> list[Any]:
    return [dbc.Alert(text, color="warning", dismissable=True, className="mb-2 state-message") for text in texts]


def event_of(trigger: Any, search: str | None, controls: dict[str, Any], image_choice: Any,
             nav: Any) -> Event | None:
    """What happened, from the callback's trigger; None when nothing did."""
    if trigger in (None, "url"):
        return UrlLoaded(search)
    if trigger in FIELD_OF_CONTROL:
        key = FIELD_OF_CONTROL[trigger]
        return ControlChanged(key, controls.get(key))
    if trigger == "image-choice" and isinstance(image_choice, dict) and isinstance(image_choice.get("sha"), str):
        return ImageChosen(image_choice["sha"])
    if trigger == "nav-request" and isinstance(nav, dict):
        return Navigated(nav, nav.get("page"))
    return None


# Where each part of the URL callback's answer lands (the served layout holds the same: ui/layout/served.py).
OUTPUTS: dict[str, Any] = {
    "search": Output("url-target", "data"),
    "href": Output("url", "href"),
    "view": Output("view-state", "data"),
    "ready": Output("ready-state", "data"),
    "poll_off": Output("load-poll", "disabled"),
    "messages": Output("state-messages", "children"),
    "layer_options": Output("ctl-layer", "options"),
    "controls": {key: Output(control, "value") for key, control in SHOWN_HERE.items()},
}


def world_of(service: Analyzer, pages: tuple[str, ...]) -> World:
    models = service.models
    return World(models.state_catalog(), service.library.default_image(), service.library.has, pages=pages,
                 classes=models.class_counts(), evidence=models.evidence_catalog())


def answer(service: Analyzer, world: World, before: ViewState, event: Event | None, current: dict[str, Any] | None,
           controls: dict[str, Any], from_url: bool) -> dict[str, Any]:
    """The URL callback's answer (keys of ``OUTPUTS``) to ``event`` from the state ``before``."""
    # No event (a page's empty request): the state stays as it was.
    state, messages, path = apply(before, event, world) if event else (before, [], None)
    new_search = encode_state(state)
    analysis = state.analysis_part()
    changed = analysis != current
    # Pages (and their jobs in other processes) speak the language this
    # request negotiated when the link names none.
    ready, poll_off = (readiness(service, {**analysis, "lang": state.lang or i18n.current()}) if changed
                       else (no_update, no_update))
    # Moving to another page is a real navigation (the router renders it);
    # anything else rewrites the address in place (history.replaceState in
    # the browser), so the page is not rebuilt and nothing is computed twice.
    return {
        "search": no_update if path else new_search,
        # The whole address: after replaceState the Location's own
        # pathname/search props are stale, so set href in one piece.
        "href": path + new_search if path else no_update,
        "view": analysis if changed else no_update,
        "ready": ready,
        "poll_off": poll_off,
        "messages": _messages(messages) if (messages or from_url or isinstance(event, Navigated)) else no_update,
        "layer_options": layer_options(service, state.model)
        if from_url or state.model != before.model else no_update,
        # A control already showing its value is left alone: setting it
        # again re-renders it and fires everything that listens to it.
        "controls": {key: getattr(state, key) if from_url or getattr(state, key) != controls.get(key)
                     else no_update for key in SHOWN_HERE},
    }


# The served layout shows the state in every control, the ranking's included (the browser's own
# showing of those, SHOWN_HERE, then finds them right and sets nothing that would call this callback).
LAYOUT_OUTPUTS = {**OUTPUTS, "controls": {key: Output(control, "value") for key, control in CONTROLS.items()}}


def loaded(service: Analyzer, pages: tuple[str, ...], search: str | None) -> dict[str, Any]:
    """The answer to an address loaded afresh (the sidebar's controls at their defaults, no state known),
    with every control (``LAYOUT_OUTPUTS``): what the served layout holds, so the first page needs no URL
    callback."""
    defaults = ViewState()
    controls = {key: getattr(defaults, key) for key in CONTROLS}
    shown = answer(service, world_of(service, pages), defaults, UrlLoaded(search), None, controls, True)
    state = {**shown["view"], **shown["controls"]}  # view-state: from a fresh load, always set
    return {**shown, "controls": {key: state[key] for key in CONTROLS}}


def register(app: Dash, service: Analyzer, pages: tuple[str, ...] = ()) -> None:
    analysis_controls = {key: control for key, control in CONTROLS.items() if key not in DISPLAY_KEYS}
    display_controls = SCHEMA.display_controls
    # The first page's layout holds the answer to its address (ui/layout/served.py); this callback
    # answers what happens after, and the address itself when the layout could not (no Referer).
    served.install(app, lambda search: loaded(service, pages, search), LAYOUT_OUTPUTS, LOADED_STORES)
    # The ranking's controls show the state's values (SHOWN_HERE says why the browser sets them).
    app.clientside_callback(
        "function (view) {"
        "  const skip = window.dash_clientside.no_update, current = Array.prototype.slice.call(arguments, 1);"
        f"  return {json.dumps(RANKING_KEYS)}.map(function (key, i) {{"
        "    return view && view[key] !== undefined && view[key] !== current[i] ? view[key] : skip;"
        "  });"
        "}",
        *(Output(CONTROLS[key], "value") for key in RANKING_KEYS),
        Input("view-state", "data"),
        *(State(CONTROLS[key], "value") for key in RANKING_KEYS),
        # The served layout shows them already (LAYOUT_OUTPUTS). Run on load, this callback's
        # no_update would also cancel the first run of everything listening to those controls
        # (Dash drops a first call that waits on an answer that changes nothing).
        prevent_initial_call=True,
    )

    # One callback from an event to the pages' ready state: view-state and
    # ready-state are set in the same answer (a separate readiness callback
    # was one more round trip, ~100-200 ms, on every control change). The
    # display controls are read, not listened to: restyling is the browser's
    # job, URL included (assets/js/dashapp.js displaySearch).
    @app.callback(
        output=OUTPUTS,
        inputs={
            "search": Input("url", "search"),
            "controls": {key: Input(control, "value") for key, control in analysis_controls.items()},
            "image_choice": Input("image-choice", "data"),
            "nav": Input("nav-request", "data"),
        },
        state={"current": State("view-state", "data"),
               "display": {key: State(control, "value") for key, control in display_controls.items()}},
        prevent_initial_call=True,
    )
    def sync_state(search: str | None, controls: dict[str, Any], image_choice: Any, nav: Any,
                   current: dict[str, Any] | None, display: dict[str, Any] | None = None) -> dict[str, Any]:
        controls = {**(display or {}), **controls}
        trigger = ctx.triggered_id
        world = world_of(service, pages)
        try:  # view-state travels through the client: read it like any request
            known = strict_state(current, world.catalog, classes=world.classes,
                                 evidence=world.evidence) if current else None
        except StateError:
            known = None  # forged or stale: start again from the address
        from_url = trigger in (None, "url") or known is None
        event = UrlLoaded(search) if from_url else event_of(trigger, search, controls, image_choice, nav)
        if isinstance(event, ControlChanged) and event.value is None:
            return {key: dict.fromkeys(SHOWN_HERE, no_update) if key == "controls" else no_update for key in OUTPUTS}
        # view-state holds the analysis keys; the display keys live in their controls.
        shown = {k: controls[k] for k in DISPLAY_KEYS if controls.get(k) is not None}
        before = (known or ViewState()).with_(**shown)
        return answer(service, world, before, event, current, controls, from_url)
