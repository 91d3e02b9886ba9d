"""Filter detail: regions as clickable boxes, the RGB pattern, a large
heatmap, statistics and a plain-language reading. The URL (model, layer,
filter, image) is a stable per-unit link."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, Patch, State, ctx, dcc, html, no_update

from dashapp.analysis.maps.patches import crop_box
from dashapp.figures.maps import (
    SIZE_COLOURS,
    SIZE_LETTERS,
    TOOLBAR,
    array_uri,
    channel_pictures,
    ink,
    picture_uri,
    regions_figure,
)
from dashapp.ui.attributes import attrs
from dashapp.ui.callbacks.jobs import job_controls, register_job
from dashapp.ui.layout.collection_section import collection_section
from dashapp.ui.layout.widgets import (
    fmt,
    heatmap_slot,
    kernel_note,
    kernel_tile,
    notice_alert,
    page_header,
    region_buttons,
    stat_card,
)

from .. import i18n
from ..errors import UserError
from ..i18n import N_, _, ngettext
from ..service import Analyzer, FilterView, LayerView
from ..wording.regions import size_label
from . import _circuit_io
from ._common import guarded, heatmap_of, state_of, view_of
from .featurevis import untrained_note

PATH = "/detail"
NAME = N_("Filter detail")
DESCRIPTION = N_("One filter in depth: regions, RGB pattern, heatmap and a reading.")


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("One filter in depth. Click a box to see that region's numbers and crop.")),
            html.Div(id="detail-error"),
            html.Div(id="detail-notice"),
            html.Div(
                [
                    html.Fieldset([
                        html.Legend(_("Top filters"), className="visually-hidden"),
                        dbc.RadioItems(id="detail-pick", inline=True, className="detail-pick btn-group flex-wrap",
                                       inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm",
                                       labelCheckedClassName="active"),
                    ]),
                    dbc.InputGroup(
                        [html.Label(_("Any filter"), htmlFor="detail-index", className="input-group-text mb-0"),
                         dbc.Input(id="detail-index", type="number", min=0, step=1, debounce=True,
                                   placeholder=_("index")),
                         dbc.Button(_("Open"), id="detail-open", n_clicks=0, color="secondary")],
                        size="sm", className="detail-any",
                    ),
                ],
                className="d-flex flex-wrap gap-2 align-items-center mb-2",
            ),
            dcc.Store(id="detail-regions-data"),
            dcc.Store(id="detail-current"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2(id="detail-title", className="section-title mt-0"),
                            # The server's figure (detail-regions-base), drawn at the image's aspect on a
                            # narrow screen (assets/js/dashapp.js fit).
                            dcc.Loading([dcc.Store(id="detail-regions-base"),
                                         dcc.Graph(id="detail-regions", config=TOOLBAR, className="regions-graph")],
                                        type="default", delay_show=300),
                            html.Div(_legend(), className="size-legend"),
                            html.Div(id="detail-region-list"),
                            html.H2(_("Heatmap"), className="section-title"),
                            heatmap_slot("detail-heat", height=420),
                        ],
                        lg=7,
                    ),
                    dbc.Col(
                        [
                            html.Div(id="detail-side"),
                            html.Div(id="detail-region-info", className="mt-2", **attrs(aria_live="polite")),
                            html.H2(_("RGB pattern of the kernel"), className="section-title"),
                            html.Div(id="detail-kernel"),
                            html.H2(_("Feature visualization"), className="section-title"),
                            html.Div(id="detail-fv"),
                            html.Div(job_controls("dfv", _("Compute visualization")), id="detail-fv-controls"),
                            dcc.Store(id="dfv-targets"),
                            dcc.Store(id="dfv-done"),
                        ],
                        lg=5,
                    ),
                ],
                className="g-3",
            ),
            _circuit_io.slot(),
            html.H2(_("Across the collection"), className="section-title"),
            dcc.Loading(html.Div(id="detail-collection"), type="default", delay_show=300),
        ]
    )


SIZE_RANGES = {"small": N_("< 5 %"), "medium": N_("5–15 %"), "large": N_("15–30 %"),
               "very large": N_("> 30 %, likely background")}


def _legend() -> list[Any]:
    """Each size class by its letter (as on the boxes), colour and name."""
    return [
        html.Span([html.Span(SIZE_LETTERS[name], className="legend-swatch",
                             style={"background": colour, "color": ink(colour)}),
                   f"{size_label(name)} ({_(SIZE_RANGES[name])})"], className="me-3 text-nowrap")
        for name, colour in SIZE_COLOURS.items()
    ]


def _kernel_panel(view: LayerView, index: int) -> Any:
    pictures = view.kernels([index])
    if not pictures.applies or pictures.channels is None:
        return kernel_note(view.info.name, view.info.in_channels) if not pictures.applies else None
    views = channel_pictures(pictures.channels[0])
    k = pictures.channels.shape[-1]
    upscale = max(1, 96 // k)
    tiles = [
        kernel_tile(array_uri(views[name], upscale), _("{channel} weights").format(channel=name), _(caption))
        for name, caption in (("RGB", N_("combined")), ("R", N_("red")), ("G", N_("green")), ("B", N_("blue")))
    ]
    note = html.Div(_("Grey/dark means a zero or negative weight; bright means the filter adds that colour. "
                      "One scale for the whole layer, so filters compare."), className="control-help")
    return html.Div([html.Div(tiles, className="kernel-row"), note])


def _side_panel(view: FilterView) -> html.Div:
    """The filter's statistics as cards, and its reading in words."""
    reading = view.reading
    return html.Div([
        dbc.Row(
            [
                dbc.Col(stat_card(_("Mean"), fmt(view.stats["mean"])), xs=6),
                dbc.Col(stat_card(_("Std"), fmt(view.stats["std"])), xs=6),
                dbc.Col(stat_card(_("Max"), fmt(view.stats["max"])), xs=6),
                dbc.Col(stat_card(_("Sparsity"), i18n.percent(view.stats["sparsity"]), reading.band_label),
                        xs=6),
            ],
            className="g-2 mb-2",
        ),
        html.Div([html.Strong(_("Reading.") + " "), reading.summary], className="reading-summary"),
        html.Ul([html.Li(text) for text in reading.details], className="reading-details"),
        *[dbc.Alert(text, color="warning", className="py-2 mb-1 small reading-warning")
          for text in reading.warnings],
    ], className="detail-side")


def register(app: Dash, service: Analyzer) -> None:
    _circuit_io.register(app, service)  # "Inputs and outputs"
    outputs = {
        "error": Output("detail-error", "children"),
        "title": Output("detail-title", "children"),
        "figure": Output("detail-regions-base", "data"),
        "side": Output("detail-side", "children"),
        "heat": Output({"type": "fig-base", "index": "detail-heat"}, "data"),
        "kernel": Output("detail-kernel", "children"),
        "options": Output("detail-pick", "options"),
        "picked": Output("detail-pick", "value"),
        "regions": Output("detail-regions-data", "data"),
        "notice": Output("detail-notice", "children"),
        "hint": Output("detail-region-info", "children"),
        "current": Output("detail-current", "data"),
        "buttons": Output("detail-region-list", "children"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        layer_view = view_of(service, ready)
        ranking = layer_view.ranking
        index = layer_view.state.filter
        if index is None:
            if not ranking.filters:
                empty = notice_alert(ranking.notice or _("No filter to show."))
                return {**dict.fromkeys(outputs), "title": _("No filter selected"), "figure": {}, "side": empty,
                        "options": []}
            index = ranking.filters[0].index
        view = layer_view.filter(index)
        image = layer_view.image
        # The same picture for every filter of an image; a 512 px WebP costs tens of ms to encode.
        picture = service.memo.get_or_compute(("regions-picture", layer_view.subject.sha),
                                              lambda: picture_uri(image, 512))
        regions = view.regions.regions
        figure = regions_figure(picture, image.width, image.height, regions)
        heat = heatmap_of(layer_view, view.maps, view.index, height=420)
        rank_text = (_("rank {rank} of {eligible}").format(rank=view.rank, eligible=ranking.eligible) if view.rank
                     else _("not in the current top list"))
        options = [{"label": f"#{f.rank} · {f.index}", "value": f.index} for f in ranking.filters]
        title = ngettext("Filter {index} of {layer} · {rank} · {n} region",
                         "Filter {index} of {layer} · {rank} · {n} regions", len(regions)).format(
            index=view.index, layer=layer_view.info.name, rank=rank_text, n=len(regions))
        # Only the filter and how many boxes there are: a click names a box by
        # its number, and the server looks its geometry up in its own numbers.
        regions_data = {"filter": view.index, "count": len(regions)}
        hint = html.Div(_("Click a box on the image, or press its button below the picture, to inspect that region."),
                        className="control-help")
        return {"error": None, "title": title, "figure": figure, "side": _side_panel(view), "heat": heat,
                "kernel": _kernel_panel(layer_view, view.index), "options": options, "picked": view.index,
                "regions": regions_data, "notice": None, "hint": hint, "current": view.index,
                "buttons": region_buttons([r.as_dict() for r in regions])}

    @app.callback(Output("detail-collection", "children"), Input("detail-current", "data"),
                  State("ready-state", "data"))
    def across_collection(index: int | None, ready: dict[str, Any] | None) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(ready, dict):
            return None
        try:
            return collection_section(service, state_of(service, ready), index)
        except UserError as exc:
            return notice_alert(exc.message)

    _register_choices(app, service)
    _register_featurevis(app, service)


def _register_featurevis(app: Dash, service: Analyzer) -> None:
    """The filter's optimized image beside its kernel, or a button to compute it."""

    @app.callback(
        {"panel": Output("detail-fv", "children"), "controls": Output("detail-fv-controls", "style"),
         "targets": Output("dfv-targets", "data")},
        Input("detail-current", "data"),
        Input("dfv-done", "data"),
        State("ready-state", "data"),
    )
    def render_fv(index: int | None, done: dict[str, Any] | None, ready: dict[str, Any] | None) -> dict[str, Any]:
        hidden = {"display": "none"}
        if not isinstance(index, int) or isinstance(index, bool) or not ready:
            return {"panel": None, "controls": hidden, "targets": None}
        try:
            view = view_of(service, ready)
            request = service.featurevis.request(view.loaded.name, view.info.name, str(index))
        except UserError as exc:
            return {"panel": notice_alert(exc.message), "controls": hidden, "targets": None}
        meta = service.featurevis.meta(request)
        note = untrained_note(view)
        targets = {"model": view.loaded.name, "layer": view.info.name, "objective": "channel", "filters": [index]}
        if meta is None:
            error = notice_alert(done["error"]) if done and done.get("error") else None
            settings = request.settings
            text = html.Div(_("Not computed yet: an image optimized from noise to excite this filter ({steps} steps "
                              "at {size} px).").format(steps=settings.steps, size=settings.size),
                            className="control-help")
            return {"panel": [error, text, note], "controls": {"display": "block"}, "targets": targets}
        picture = html.Img(src=f"/api/featurevis.png?{request.query}", className="fv-detail-img",
                           alt=_("feature visualization of filter {index}").format(index=index))
        caption = html.Div(_("Mean response reached: {reached} (on this photo {photo}).").format(
            reached=fmt(meta["mean_response"]), photo=fmt(float(view.stats.mean[index]))), className="control-help")
        return {"panel": [picture, caption, note], "controls": hidden, "targets": targets}

    register_job(app, service, "dfv", max_filters=1)  # the one filter shown


def _register_choices(app: Dash, service: Analyzer) -> None:
    """Picking another filter, and clicking a region box."""

    # In the browser: the render callback sets the picker too, and a server
    # round trip only to answer "same filter, nothing to do" delayed every pick.
    app.clientside_callback(
        ClientsideFunction("cnn", "chooseFilter"),
        Output("nav-request", "data", allow_duplicate=True),
        Input("detail-pick", "value"),
        Input("detail-open", "n_clicks"),
        Input("detail-index", "value"),
        State("detail-current", "data"),
        prevent_initial_call=True,
    )

    app.clientside_callback(ClientsideFunction("cnn", "fit"), Output("detail-regions", "figure"),
                            Input("detail-regions-base", "data"), State("detail-regions", "id"))

    @app.callback(
        Output("detail-region-info", "children", allow_duplicate=True),
        # The highlight patches the server's figure (fit draws it again): the graph's own figure
        # may not be drawn yet when a region's button is pressed (a Patch of it failed then).
        Output("detail-regions-base", "data", allow_duplicate=True),
        Input("detail-regions", "clickData"),
        Input({"type": "region-button", "index": ALL}, "n_clicks"),
        State("detail-regions-data", "data"),
        State("ready-state", "data"),
        prevent_initial_call=True,
    )
    def select_region(click: dict[str, Any] | None, presses: list[int | None], data: dict[str, Any] | None,
                      ready: dict[str, Any] | None) -> tuple[Any, Any]:
        index = (data or {}).get("filter")
        curve = _chosen_region(click, presses)
        if curve is None or not ready or not isinstance(index, int) or isinstance(index, bool):
            return no_update, no_update
        try:
            view = view_of(service, ready)
            regions = [r.as_dict() for r in view.regions(view.check_filter(index)).regions]
        except UserError as exc:
            return notice_alert(exc.message), no_update
        # Trace i of the figure is region i + 1; anything else the client
        # claims is ignored. The crop uses the server's own box.
        if not isinstance(curve, int) or isinstance(curve, bool) or not 0 <= curve < len(regions):
            return no_update, no_update
        highlight = Patch()
        for i in range(len(regions)):
            highlight["data"][i]["line"]["width"] = 5 if i == curve else 2
        return _region_card(view, regions[curve], index), highlight


def _chosen_region(click: dict[str, Any] | None, presses: list[int | None]) -> int | None:
    """Which region (trace index) the user chose: a region button pressed
    (Enter or click; buttons are re-created unpressed on every render, so only
    a real press counts), or a box clicked on the picture."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == "region-button":
        pressed = trigger.get("index")
        clicks = presses[pressed] if isinstance(pressed, int) and 0 <= pressed < len(presses) else None
        return pressed if clicks else None
    points = (click or {}).get("points") or []
    curve = points[0].get("curveNumber") if points else None
    return curve if isinstance(curve, int) and not isinstance(curve, bool) else None


def _region_card(view: LayerView, region: dict[str, Any], region_filter: int) -> dbc.Card:
    # At least the peak cell's receptive field: a sliver of a region is not a few blurred pixels.
    box = (region["x0"], region["y0"], region["x1"], region["y1"])
    crop = view.image.crop(crop_box(view.maps[region_filter], view.geometry, box, view.image.width,
                                    view.image.height))
    return dbc.Card(
        dbc.CardBody([
            html.Div(_("Region {number} · {size}").format(
                number=region["number"], size=size_label(region["size_class"])),
                     className="fw-semibold"),
            html.Img(src=picture_uri(crop, 220), className="region-crop",
                     alt=_("crop of region {number}").format(number=region["number"])),
            html.Table([
                html.Tr([html.Td(_("Box (px)")), html.Td(f"x {region['x0']}–{region['x1']}, y {region['y0']}–"
                                                         f"{region['y1']}")]),
                html.Tr([html.Td(_("Area")), html.Td(_("{area} of the image").format(
                    area=i18n.percent(region["area_fraction"], 1)))]),
                html.Tr([html.Td(_("Peak response")), html.Td(fmt(region["peak"]))]),
                html.Tr([html.Td(_("Mean response")), html.Td(fmt(region["mean"]))]),
                html.Tr([html.Td(_("Interest")), html.Td(i18n.number(region["interest"], 3))]),
            ], className="region-table"),
        ]),
        className="region-card", id="region-card",
    )
