"""The URL is the state. One callback owns ``url.search``: it turns the event
that fired (a loaded URL, a control, a chosen image, a page's navigation
request) into a new state with ``state.apply`` and shows it in the controls.
Pages listen to ``ready-state``: the analysis part of the state, set in the
same answer once the model can answer, so restyling controls never reach
the server."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, no_update

from dashapp import i18n
from dashapp.service import Analyzer
from dashapp.state.schema import SCHEMA, StateError, ViewState
from dashapp.state.transitions import ControlChanged, Event, ImageChosen, Navigated, UrlLoaded, World, apply
from dashapp.state.url import encode_state, strict_state
from dashapp.ui.callbacks.model_loading import readiness

# state field -> the sidebar control that shows it (each field declares its own: state/schema.py)
CONTROLS = SCHEMA.controls
DISPLAY_KEYS = SCHEMA.display_keys
FIELD_OF_CONTROL = {control: key for key, control in CONTROLS.items()}


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


def register(app: Dash, service: Analyzer, pages: tuple[str, ...] = ()) -> None:
    analysis_controls = {key: control for key, control in CONTROLS.items() if key not in DISPLAY_KEYS}
    display_controls = SCHEMA.display_controls

    # One callback from an event to the pages' ready state: view-state and
    # ready-state are set in the same answer (a separate readiness callback
    # was one more round trip, ~100-200 ms, on every control change). The
    # display controls are read, not listened to: restyling is the browser's
    # job, URL included (assets/js/dashapp.js displaySearch).
    @app.callback(
        output={
            "search": Output("url-target", "data"),
            "href": Output("url", "href"),
            "view": Output("view-state", "data"),
            "ready": Output("ready-state", "data"),
            "poll_off": Output("load-poll", "disabled"),
            "messages": Output("state-messages", "children"),
            "layer_options": Output("ctl-layer", "options"),
            "controls": {key: Output(control, "value") for key, control in CONTROLS.items()},
        },
        inputs={
            "search": Input("url", "search"),
            "controls": {key: Input(control, "value") for key, control in analysis_controls.items()},
            "image_choice": Input("image-choice", "data"),
            "nav": Input("nav-request", "data"),
        },
        state={"current": State("view-state", "data"),
               "display": {key: State(control, "value") for key, control in display_controls.items()}},
    )
    def sync_state(search: str | None, controls: dict[str, Any], image_choice: Any, nav: Any,
                   current: dict[str, Any] | None, display: dict[str, Any] | None = None) -> dict[str, Any]:
        controls = {**(display or {}), **controls}
        trigger = ctx.triggered_id
        catalog = service.models.state_catalog()
        classes = service.models.class_counts()
        evidence = service.models.evidence_catalog()
        try:  # view-state travels through the client: read it like any request
            known = strict_state(current, catalog, classes=classes, evidence=evidence) if current else None
        except StateError:
            known = None  # forged or stale: start again from the address
        from_url = trigger in (None, "url") or known is None
        event = UrlLoaded(search) if from_url else event_of(trigger, search, controls, image_choice, nav)
        if isinstance(event, ControlChanged) and event.value is None:
            return {"search": no_update, "href": no_update, "view": no_update, "ready": no_update,
                    "poll_off": no_update, "messages": no_update, "layer_options": no_update,
                    "controls": dict.fromkeys(CONTROLS, no_update)}
        # view-state holds the analysis keys; the display keys live in their controls.
        shown = {k: controls[k] for k in DISPLAY_KEYS if controls.get(k) is not None}
        before = (known or ViewState()).with_(**shown)
        world = World(catalog, service.library.default_image(), service.library.has,
                      pages=pages, classes=classes, evidence=evidence)
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
                         else no_update for key in CONTROLS},
        }
