"""Callbacks of the shell: URL state, image intake, model readiness, banners.

The URL query string is the state. One callback owns ``url.search``: it
parses a URL into controls, or turns a control change into a new URL. Pages
listen to ``ready-state``, which carries the analysis part of the state once
the model can answer, so restyling controls never reach the server.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from .. import intake
from ..analysis.models import ModelError, ensure_weights_file
from ..figures import picture_uri
from ..service import AnalysisError, Analyzer
from ..state import ViewState, default_layer, encode_state, parse_state

log = logging.getLogger(__name__)

CONTROL_KEYS = {
    "ctl-model": "model",
    "ctl-layer": "layer",
    "ctl-n": "n",
    "ctl-criterion": "criterion",
    "ctl-min-sparsity": "min_sparsity",
    "ctl-weight": "weight",
    "ctl-opacity": "opacity",
    "ctl-colormap": "colormap",
}

# What a page may ask to change when it requests a navigation.
NAV_KEYS = ("filter", "layer", "cls", "cam")


def layer_options(service: Analyzer, model: str) -> list[dict[str, str]]:
    options = []
    for info in service.layers(model).values():
        h, w = info.map_size
        options.append({"label": f"{info.name} · {info.out_channels} filters · {h}×{w}", "value": info.name})
    return options


def _messages(texts: list[str]) -> list[Any]:
    return [dbc.Alert(text, color="warning", dismissable=True, className="mb-2 state-message") for text in texts]


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("url-target", "data"),
        Output("url", "href"),
        Output("view-state", "data"),
        Output("state-messages", "children"),
        Output("ctl-model", "value"),
        Output("ctl-layer", "options"),
        Output("ctl-layer", "value"),
        Output("ctl-n", "value"),
        Output("ctl-criterion", "value"),
        Output("ctl-min-sparsity", "value"),
        Output("ctl-weight", "value"),
        Output("ctl-opacity", "value"),
        Output("ctl-colormap", "value"),
        Input("url", "search"),
        *(Input(control, "value") for control in CONTROL_KEYS),
        Input("image-choice", "data"),
        Input("nav-request", "data"),
        State("view-state", "data"),
    )
    def sync_state(search: str | None, *args: Any) -> tuple[Any, ...]:
        controls = dict(zip(CONTROL_KEYS.values(), args[: len(CONTROL_KEYS)], strict=True))
        image_choice, nav_request, current = args[len(CONTROL_KEYS):]
        trigger = ctx.triggered_id
        catalog = service.layer_catalog()
        messages: list[str] = []
        new_path: Any = no_update
        from_url = trigger in (None, "url") or not current
        if from_url:
            state, messages = parse_state(search, catalog)
        else:
            # view-state holds the analysis keys; the display keys live in
            # their controls.
            display = {k: controls[k] for k in ("opacity", "colormap") if controls[k] is not None}
            state = ViewState.from_dict(current).with_(**display)
            if trigger in CONTROL_KEYS:
                key = CONTROL_KEYS[trigger]
                value = controls[key]
                if value is None:
                    return (no_update,) * 13
                changes: dict[str, Any] = {key: value}
                if key == "model" and state.layer not in catalog.get(value, []):
                    changes["layer"] = default_layer(value, catalog.get(value, []))
                if key in ("model", "layer"):
                    changes["filter"] = None
                state = state.with_(**changes)
                # Controls only offer valid values, but a hand-edited request
                # may not: run the result through the URL parser once more.
                state, messages = parse_state(encode_state(state), catalog)
            elif trigger == "image-choice" and image_choice:
                state = state.with_(image=image_choice.get("sha"))
            elif trigger == "nav-request" and nav_request:
                changes = {key: nav_request[key] for key in NAV_KEYS if key in nav_request}
                if "layer" in changes and "filter" not in changes:
                    changes["filter"] = None
                state = state.with_(**changes)
                state, messages = parse_state(encode_state(state), catalog)
                new_path = nav_request.get("page") or no_update

        try:
            known = state.image is not None and service.has_image(state.image)
        except AnalysisError as exc:  # the store is down: keep the link's image, say why
            known = True
            messages.append(exc.message)
        if not known:
            if state.image is not None:
                messages.append("The image of this link is not stored on this server; showing an example instead.")
            state = state.with_(image=service.default_image())
        if state.filter is not None:
            count = service.layer_info(state.model, state.layer).out_channels
            if state.filter >= count:
                messages.append(f"Filter {state.filter} does not exist in {state.layer} (0–{count - 1}); "
                                "showing the top-ranked filter instead.")
                state = state.with_(filter=None)

        new_search = encode_state(state)
        analysis = state.analysis_part()
        view = analysis if analysis != current else no_update
        shown = (
            state.model, layer_options(service, state.model), state.layer, state.n, state.criterion,
            state.min_sparsity, state.weight, state.opacity, state.colormap,
        )
        # Moving to another page is a real navigation (the router renders it);
        # anything else rewrites the address in place (history.replaceState in
        # the browser), so the page is not rebuilt and nothing is computed twice.
        navigate = new_path is not no_update
        return (
            no_update if navigate else new_search,
            # The whole address: after replaceState the Location's own
            # pathname/search props are stale, so set href in one piece.
            new_path + new_search if navigate else no_update,
            view,
            _messages(messages) if (messages or from_url) else no_update,
            *shown,
        )

    # -- model readiness: pages listen to ready-state

    @app.callback(
        Output("ready-state", "data"),
        Output("load-request", "data"),
        Input("view-state", "data"),
    )
    def ensure_model(view: dict[str, Any] | None) -> tuple[Any, Any]:
        if not view:
            return no_update, no_update
        model = view["model"]
        if service.registry.needs_download(model):
            return no_update, {"model": model, "view": view}
        with contextlib.suppress(AnalysisError):  # the pages and the banner say why
            service.model(model)
        return view, no_update

    @app.callback(
        Output("ready-state", "data", allow_duplicate=True),
        Input("load-request", "data"),
        background=True,
        progress=[Output("load-progress", "value"), Output("load-label", "children")],
        running=[(Output("load-progress-wrap", "style"), {"display": "block"}, {"display": "none"})],
        prevent_initial_call=True,
    )
    def download_weights(set_progress: Any, request: dict[str, Any] | None) -> Any:
        """Runs as a background job: the only long work, fetching weights into
        the shared hub cache; the worker then loads them from disk."""
        if not request:
            return no_update
        model = request["model"]
        set_progress((0, f"Fetching ImageNet weights for {model}…"))
        try:
            ensure_weights_file(model, lambda fraction, text: set_progress((int(fraction * 100), text)),
                                service.registry.mirror)
        except ModelError as exc:
            log.warning("weights download failed: %s", exc)
        set_progress((100, f"Loading {model}…"))
        return request["view"]

    @app.callback(Output("weights-banner", "children"), Input("ready-state", "data"))
    def weights_banner(ready: dict[str, Any] | None) -> Any:
        if not ready:
            return no_update
        try:
            weights = service.model(ready["model"]).weights
        except AnalysisError as exc:
            return dbc.Alert(str(exc.message), color="danger", className="weights-banner")
        if weights.pretrained:
            return None
        return dbc.Alert(
            [
                html.Strong("Untrained weights. "),
                f"{ready['model']} is running on seeded random weights, not its ImageNet training, so filters, "
                "rankings and predictions show no learned features. ",
                html.Span(f"Why: {weights.reason}", className="banner-reason"),
            ],
            color="danger",
            className="weights-banner",
            id="untrained-banner",
        )

    # -- image intake

    app.clientside_callback(
        ClientsideFunction("cnn", "checkUpload"),
        Output("upload-accepted", "data"),
        Output("image-message", "children", allow_duplicate=True),
        Input("ctl-upload", "contents"),
        State("ctl-upload", "filename"),
        State("upload-limit", "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("image-choice", "data"),
        Output("image-message", "children"),
        Input("upload-accepted", "data"),
        Input("ctl-url-go", "n_clicks"),
        Input("ctl-url", "n_submit"),
        Input("ctl-example", "value"),
        State("ctl-url", "value"),
        prevent_initial_call=True,
    )
    def choose_image(upload: dict[str, Any] | None, _clicks: int, _submit: int, example: str | None,
                     url: str | None) -> tuple[Any, Any]:
        trigger = ctx.triggered_id
        try:
            if trigger == "upload-accepted" and upload:
                contents = str(upload.get("contents") or "")
                _, _, payload = contents.partition(",")
                try:
                    data = base64.b64decode(payload, validate=False)
                except ValueError:
                    raise intake.CorruptImage("The upload could not be read.") from None
                accepted = service.ingest_bytes(data)
                name = str(upload.get("filename") or "upload")[:80]
            elif trigger in ("ctl-url-go", "ctl-url"):
                if not url:
                    return no_update, _image_error("Type an image address (https://…) first.")
                accepted = service.ingest_url(url.strip())
                name = url.strip()[:80]
            elif trigger == "ctl-example" and example:
                sha = service.examples().get(example)
                if sha is None:
                    return no_update, _image_error("Unknown example.")
                return {"sha": sha}, None
            else:
                return no_update, no_update
        except intake.IntakeError as exc:
            return no_update, _image_error(str(exc))
        return {"sha": accepted.sha256}, dbc.Alert(
            f"Loaded {name} ({accepted.width}×{accepted.height}).", color="success", className="py-1 px-2 mb-0 small",
            duration=4000)

    @app.callback(
        Output("image-thumb", "src"),
        Output("image-caption", "children"),
        Output("shared-picture", "data"),
        Input("view-state", "data"),
        State("shared-picture", "data"),
    )
    def image_caption(view: dict[str, Any] | None, shared: dict[str, str] | None) -> tuple[Any, Any, Any]:
        if not view or not view.get("image"):
            return no_update, no_update, no_update
        sha = view["image"]
        try:
            image = service.image(sha)
        except AnalysisError as exc:
            return None, exc.message, no_update
        name = next((n for n, s in service.examples().items() if s == sha), "your image")
        # The picture under every heatmap, sent once per image.
        picture = no_update if shared and shared.get("image") == sha else {"image": sha, "uri": picture_uri(image)}
        return picture_uri(image, 96), [html.Div(name, className="fw-semibold"),
                                        html.Div(f"{image.width}×{image.height} px"),
                                        html.Code(sha[:12], title=sha)], picture

    # -- small browser-side helpers

    app.clientside_callback(
        ClientsideFunction("cnn", "replaceSearch"),
        Output("url-target", "modified_timestamp"),
        Input("url-target", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "navHrefs"),
        Output({"type": "nav-link", "page": ALL}, "href"),
        Input("url-target", "data"),
        Input("url", "search"),
        State({"type": "nav-link", "page": ALL}, "href"),
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "permalink"),
        Output("permalink", "value"),
        Input("url-target", "data"),
        Input("url", "search"),
        Input("url", "pathname"),
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "exportLinks"),
        Output("export-csv", "href"),
        Output("export-json", "href"),
        Output("export-regions", "href"),
        Input("url-target", "data"),
    )
    app.clientside_callback(
        "function (criterion) { return criterion === 'balanced' ? {} : {display: 'none'}; }",
        Output("balanced-controls", "style"),
        Input("ctl-criterion", "value"),
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "render"),
        Output({"type": "fig", "index": MATCH}, "figure"),
        Output({"type": "fig-hover", "index": MATCH}, "children"),
        Input({"type": "fig-base", "index": MATCH}, "data"),
        Input("ctl-opacity", "value"),
        Input("ctl-colormap", "value"),
        Input({"type": "fig", "index": MATCH}, "hoverData"),
        Input("shared-picture", "data"),
    )


def _image_error(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", className="py-1 px-2 mb-0 small image-error")
