"""Dataset: what each filter of the current layer responds to across a whole
image collection. Choose or create a collection, scan it (a background job
with progress and cancel, still there when the page is re-opened), then
read every filter's top examples as receptive-field crops."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashapp.ui.attributes import attrs
from dashapp.ui.layout.dataset_widgets import collection_title, filter_card, progress_bar, progress_text
from dashapp.ui.layout.widgets import job_bar, notice_alert, page_header

from .. import i18n
from ..errors import UserError
from ..i18n import N_, _, ngettext, percent
from ..service import Analyzer
from ..service.dataset import MIN_FIRING_RATE
from ._common import guarded, state_of

PATH = "/dataset"
NAME = N_("Dataset")
DESCRIPTION = N_("Every filter's top examples across an image collection.")
SHOWN_FILTERS = 48
CROPS_PER_FILTER = 8
SORT_OPTIONS = [{"label": N_("Peak"), "value": "peak"}, {"label": N_("Firing rate"), "value": "firing"},
                {"label": N_("Class selectivity"), "value": "selectivity"}]


def layout(**_query: Any) -> html.Div:
    return html.Div([
        page_header(_("Dataset"), _("One image says little about a filter. Scan a collection once, then read each "
                    "filter from the images that excite it most (the receptive field of its peak in each).")),
        html.Div(id="dataset-error"),
        dbc.Row([
            dbc.Col([html.Label(_("Collection"), className="form-label", id="dataset-collection-label",
                                htmlFor="dataset-collection"),
                     dcc.Dropdown(id="dataset-collection", clearable=False, placeholder=_("Choose a collection"))],
                    md=5),
            dbc.Col([html.Span(_("Upload images or one zip as a new collection"), id="dataset-upload-label",
                               className="visually-hidden", **attrs(data_labels="dataset-upload")),
                     dcc.Upload(html.Div([_("Drop images or one zip here, or "),
                                          html.Span(_("choose files"), className="link-like")]),
                                id="dataset-upload", multiple=True, className="dataset-upload")], md=4),
            dbc.Col(dbc.Button(_("Demo collection"), id="dataset-demo", color="secondary", outline=True, n_clicks=0),
                    md=3, className="d-flex align-items-end"),
        ], className="g-2 mb-2"),
        # With DASHAPP_AUTH on: the chosen collection (when it is the user's) and the next upload.
        html.Div(dbc.Checkbox(id="dataset-shared", value=False, label=_(
            "Shared with the other users (the chosen collection, if it is yours, and the next upload)")),
            id="dataset-shared-row", hidden=True, className="mb-2 small"),
        dcc.Loading(html.Div(id="dataset-upload-message"), type="dot", delay_show=300),
        job_bar("dataset", "dataset-scan", _("Scan")),
        dcc.Interval(id="dataset-poll", interval=1000, disabled=True),
        dcc.Store(id="dataset-scanned"),
        html.Div([html.Span(_("Sort filters by"), className="me-2"),
                  dbc.RadioItems(id="dataset-sort", value="peak", inline=True,
                                 options=[{**o, "label": _(o["label"])} for o in SORT_OPTIONS]),
                  html.Label(_("Selectivity sort: minimum firing rate (%)"), htmlFor="dataset-min-firing",
                             className="ms-3 me-2 mb-0"),
                  dbc.Input(id="dataset-min-firing", type="number", min=0, max=100, step=1, size="sm",
                            value=round(100 * MIN_FIRING_RATE), style={"width": "6em"})],
                 className="d-flex flex-wrap align-items-center mb-2"),
        dcc.Loading(html.Div(id="dataset-grid"), type="default", delay_show=300),
    ])


def _decode_uploads(contents: list[str], names: list[str]) -> list[tuple[str, bytes]]:
    files = []
    for content, name in zip(contents or [], names or [], strict=False):
        payload = str(content).partition(",")[2]
        try:
            files.append((str(name), base64.b64decode(payload, validate=True)))
        except (binascii.Error, ValueError):
            files.append((str(name), b""))  # listed as rejected by intake ("empty")
    return files


def _rejected_note(collection: Any) -> Any:
    name, images, skipped = collection_title(collection), len(collection.images), len(collection.rejected)
    if not skipped:
        text = ngettext("{name}: {n} image.", "{name}: {n} images.", images).format(name=name, n=images)
        return dbc.Alert(text, color="success", className="mb-2")
    items = [html.Li(f"{r.name}: {r.reason}") for r in collection.rejected[:50]]
    more = skipped - len(items)
    head = ngettext("{name}: {n} images; {skipped} file skipped:", "{name}: {n} images; {skipped} files skipped:",
                    skipped).format(name=name, n=images, skipped=skipped)
    tail = [html.Li(_("… and {n} more").format(n=more))] if more > 0 else []
    return dbc.Alert([html.Div(head), html.Ul(items + tail, className="mb-0")],
                     color="warning", className="mb-2 dataset-rejected")


def register(app: Dash, service: Analyzer) -> None:
    _register_collections(app, service)
    _register_sharing(app, service)
    _register_scan(app, service)


def _register_sharing(app: Dash, service: Analyzer) -> None:
    """The shared box: shown only with access control on; it says whether the
    chosen collection is shared, and its owner (only) may change it."""

    @app.callback(Output("dataset-shared", "value"), Output("dataset-shared", "disabled"),
                  Output("dataset-shared-row", "hidden"), Input("ready-state", "data"))
    def show(ready: dict[str, Any]) -> tuple[Any, Any, Any]:
        viewer = service.collections.viewer()
        if not isinstance(ready, dict) or not viewer.separated:
            return no_update, no_update, True
        try:
            chosen = service.collections.get(str(ready.get("collection") or ""))
        except UserError:
            return no_update, False, False  # nothing chosen: the box is for the next upload
        return chosen.shared, chosen.owner != viewer.name, False

    @app.callback(Output("dataset-upload-message", "children", allow_duplicate=True),
                  Input("dataset-shared", "value"), State("ready-state", "data"), prevent_initial_call=True)
    def share(shared: Any, ready: dict[str, Any]) -> Any:
        chosen = ready.get("collection") if isinstance(ready, dict) else None
        if not service.collections.viewer().separated or not chosen:
            return no_update
        try:
            collection = service.collections.get(str(chosen))
            if collection.owner != service.collections.viewer().name or collection.shared == bool(shared):
                return no_update
            service.collections.set_shared(collection.id, bool(shared))
        except UserError as exc:
            return notice_alert(exc.message)
        words = _("{name} is now shared with the other users.") if shared else _("{name} is now yours alone.")
        return dbc.Alert(words.format(name=collection_title(collection)), color="info", className="mb-2")


def _register_collections(app: Dash, service: Analyzer) -> None:
    """Listing, choosing and creating collections."""

    @app.callback(
        Output("dataset-collection", "options"),
        Output("dataset-collection", "value"),
        Input("ready-state", "data"),
    )
    def list_collections(ready: dict[str, Any]) -> tuple[Any, Any]:
        if not isinstance(ready, dict):
            return no_update, no_update
        i18n.use(ready.get("lang"))
        options = [{"label": ngettext("{name} · {n} image", "{name} · {n} images", len(c.images)).format(
                        name=collection_title(c), n=len(c.images)), "value": c.id}
                   for c in service.collections.stored()]
        return options, ready.get("collection")

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input("dataset-collection", "value"),
        State("ready-state", "data"),
        prevent_initial_call=True,
    )
    def choose(collection: str | None, ready: dict[str, Any]) -> Any:
        if not collection or not isinstance(ready, dict) or ready.get("collection") == collection:
            return no_update
        return {"collection": collection}

    @app.callback(
        Output("dataset-upload-message", "children"),
        Output("nav-request", "data", allow_duplicate=True),
        Input("dataset-upload", "contents"),
        Input("dataset-demo", "n_clicks"),
        State("dataset-upload", "filename"),
        State("dataset-shared", "value"),
        prevent_initial_call=True,
    )
    def create(contents: list[str] | None, _demo: int, names: list[str] | None, shared: Any) -> tuple[Any, Any]:
        try:
            if ctx.triggered_id == "dataset-demo":
                collection = service.collections.add_demo()
            elif contents:
                collection = service.collections.add_upload("", _decode_uploads(contents, names or []), bool(shared))
            else:
                return no_update, no_update
        except UserError as exc:
            return notice_alert(exc.message), no_update
        return _rejected_note(collection), {"collection": collection.id}


def _register_scan(app: Dash, service: Analyzer) -> None:
    """The scan job (start, cancel, progress) and the filter cards."""

    outputs = {
        "status": Output("dataset-status", "children"),
        "percent": Output("dataset-progress", "value"),
        "running": Output("dataset-progress", "animated"),
        "striped": Output("dataset-progress", "striped"),
        "poll_off": Output("dataset-poll", "disabled"),
        "scanned": Output("dataset-scanned", "data"),
        "error": Output("dataset-error", "children"),
    }

    @app.callback(outputs, Input("ready-state", "data"), Input("dataset-scan", "n_clicks"),
                  Input("dataset-cancel", "n_clicks"), Input("dataset-poll", "n_intervals"))
    @guarded(outputs)
    def job(ready: dict[str, Any], *_triggers: Any) -> dict[str, Any]:
        state = state_of(service, ready)
        if not state.collection:
            return {"status": _("Choose or create a collection first."), "percent": 0, "running": False,
                    "striped": False, "poll_off": True, "scanned": None, "error": None}
        scans = service.collections
        if ctx.triggered_id == "dataset-scan":
            status = scans.start(state.collection, state.model)
        elif ctx.triggered_id == "dataset-cancel":
            status = scans.cancel(state.collection, state.model)
        else:
            status = scans.status(state.collection, state.model)
        bar = progress_bar(status)
        done_token = f"{state.collection}:{state.model}:{state.layer}" if status["state"] == "done" else None
        return {"status": progress_text(status), "percent": bar["value"], "running": bar["animated"],
                "striped": bar["striped"], "poll_off": not bar["animated"], "scanned": done_token, "error": None}

    @app.callback(
        Output("dataset-grid", "children"),
        Input("ready-state", "data"),
        Input("dataset-scanned", "data"),
        Input("dataset-sort", "value"),
        Input("dataset-min-firing", "value"),
    )
    @guarded()
    def grid(ready: dict[str, Any], scanned: str | None, sort: str, min_percent: Any) -> Any:
        state = state_of(service, ready)
        if not scanned or not state.collection:
            return html.P(_("Scan the collection to see each filter's top examples."), className="text-muted")
        view = service.collections.layer(state.collection, state.model, state.layer)
        # An empty or out-of-range box (Dash sends None) means the default.
        asked = float(min_percent) / 100 if isinstance(min_percent, int | float) else MIN_FIRING_RATE
        min_firing = min(1.0, max(0.0, asked))
        rows, left_out = view.ranked(sort or "peak", min_firing)
        notice = None
        if sort == "selectivity" and rows and rows[0].selectivity is None:
            notice = notice_alert(_("This collection has no class labels (sub-folders), so there is no class "
                                    "selectivity; sorted by peak instead."))
        shown = rows[:SHOWN_FILTERS]
        cards = [filter_card(row, view.responding(row.index, CROPS_PER_FILTER), state) for row in shown]
        counts = {"layer": state.layer, "shown": len(shown), "n": len(rows) + left_out, "images": view.result.images}
        caption = html.P(ngettext("{layer}: {shown} of {n} filters over {images} image. Each crop is the receptive "
                                  "field of the filter's peak in one image; click one to open the filter.",
                                  "{layer}: {shown} of {n} filters over {images} images. Each crop is the "
                                  "receptive field of the filter's peak in one image; click one to open the filter.",
                                  view.result.images).format(**counts), className="text-muted small")
        omitted = html.P(ngettext(
            "{n} filter fires on fewer than {rate} of the images and is left out of the selectivity sort.",
            "{n} filters fire on fewer than {rate} of the images and are left out of the selectivity sort.",
            left_out).format(n=left_out, rate=percent(min_firing)), className="text-muted small dataset-left-out",
        ) if left_out else None
        return [notice, caption, omitted, html.Div(cards, className="dataset-grid")]
