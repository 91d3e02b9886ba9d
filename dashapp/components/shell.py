"""The parts every page shares: navbar, sidebar with every control, banners."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from ..analysis.stats import CRITERIA
from ..state import COLORMAPS, FIELD, MAX_N, ViewState
from .widgets import heatmap_slot

CRITERION_HELP = {
    "balanced": "activation and selectivity",
    "mean": "average response",
    "max": "strongest single response",
    "std": "most varied response",
}


def navbar(pages: list[dict[str, Any]]) -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["path"], id={"type": "nav-link", "page": page["path"]},
                                active="exact"))
        for page in pages
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                html.A(
                    [html.Span("◧", className="brand-mark"), html.Span("CNN Activation Analyzer")],
                    href="/", className="navbar-brand d-flex align-items-center gap-2",
                ),
                dbc.Nav(links, className="flex-wrap", navbar=True),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-0 app-navbar",
    )


def _label(text: str, help_text: str | None = None) -> html.Div:
    children: list[Any] = [html.Span(text, className="control-label")]
    if help_text:
        children.append(html.Span(help_text, className="control-help"))
    return html.Div(children, className="d-flex justify-content-between align-items-baseline")


def _slider(id_: str, low: float, high: float, step: float, value: float, marks: dict[float, str]) -> dcc.Slider:
    return dcc.Slider(id=id_, min=low, max=high, step=step, value=value, marks=marks, updatemode="mouseup",
                      tooltip={"placement": "bottom", "always_visible": False})


def sidebar(model_names: list[str], examples: dict[str, str], max_upload_bytes: int) -> html.Div:
    defaults = ViewState()
    return html.Div(
        [
            html.Div("Image", className="sidebar-section"),
            html.Div(
                [
                    html.Img(id="image-thumb", className="image-thumb"),
                    html.Div(id="image-caption", className="image-caption"),
                ],
                className="d-flex gap-2 align-items-center mb-2",
            ),
            dcc.Upload(
                id="ctl-upload",
                children=html.Div(["Drop an image here or ", html.A("choose a file")]),
                className="upload-zone",
                # No `accept` or `max_size`: dcc.Upload drops such files
                # silently; our own check says why instead.
                multiple=False,
            ),
            dcc.Store(id="upload-limit", data=max_upload_bytes),
            dbc.InputGroup(
                [
                    dbc.Input(id="ctl-url", placeholder="https://… image address", type="url", debounce=True,
                              maxLength=2000),
                    dbc.Button("Load", id="ctl-url-go", color="secondary", n_clicks=0),
                ],
                size="sm",
                className="mt-2",
            ),
            dbc.Select(
                id="ctl-example",
                options=[{"label": "Example: " + name.rsplit(".", 1)[0], "value": name} for name in examples],
                placeholder="…or pick an example",
                size="sm",
                className="mt-2",
            ),
            dcc.Loading(html.Div(id="image-message", className="control-message"), type="dot",
                        delay_show=250),
            html.Div("Model and layer", className="sidebar-section"),
            dbc.Select(id="ctl-model", options=[{"label": m, "value": m} for m in model_names],
                       value=defaults.model if defaults.model in model_names else model_names[0], size="sm"),
            dcc.Dropdown(id="ctl-layer", clearable=False, searchable=True, className="mt-2 layer-dropdown",
                         optionHeight=30),
            html.Div("Ranking", className="sidebar-section"),
            _label("Filters to show"),
            _slider("ctl-n", 1, MAX_N, 1, defaults.n, {1: "1", 6: "6", 12: "12", 18: "18", 24: "24"}),
            _label("Criterion"),
            dbc.RadioItems(
                id="ctl-criterion",
                options=[{"label": f"{c} — {CRITERION_HELP[c]}", "value": c} for c in CRITERIA],
                value=defaults.criterion,
                className="criterion-radios",
            ),
            html.Div(
                [
                    _label("Minimum sparsity", "filters below are excluded"),
                    _slider("ctl-min-sparsity", 0, FIELD["min_sparsity"].high, 0.05, defaults.min_sparsity,
                            {0: "0", 0.2: "0.2", 0.4: "0.4", 0.6: "0.6", 0.8: "0.8"}),
                    _label("Activation weight", "vs. selectivity"),
                    _slider("ctl-weight", 0, 1, 0.05, defaults.weight, {0: "0", 0.5: "0.5", 1: "1"}),
                    html.Div("0 ranks by selectivity only, 1 by activation only.", className="control-help"),
                ],
                id="balanced-controls",
            ),
            html.Div("Display", className="sidebar-section"),
            _label("Heatmap opacity"),
            _slider("ctl-opacity", 0, 1, 0.05, defaults.opacity, {0: "0", 0.5: "0.5", 1: "1"}),
            dcc.Dropdown(id="ctl-colormap", options=list(COLORMAPS), value=defaults.colormap, clearable=False,
                         className="mt-2"),
            html.Div("Share", className="sidebar-section"),
            html.Div(
                [
                    dbc.Input(id="permalink", readonly=True, size="sm", className="permalink"),
                    dcc.Clipboard(target_id="permalink", title="Copy link", className="copy-link btn btn-sm "
                                  "btn-outline-primary", id="copy-link"),
                ],
                className="d-flex gap-1 align-items-center",
            ),
            html.Div("Copy this link to share exactly this view.", className="control-help mt-1"),
            html.Div(
                [
                    html.Span("Download: ", className="control-help"),
                    html.A("ranking CSV", id="export-csv", download="", className="export-link"),
                    html.A("ranking JSON", id="export-json", download="", className="export-link"),
                    html.A("regions JSON", id="export-regions", download="", className="export-link"),
                ],
                className="exports mt-1",
            ),
            html.Div("Every figure also saves as PNG from its camera button.", className="control-help"),
        ],
        className="sidebar",
    )


def shell(pages: list[dict[str, Any]], model_names: list[str], examples: dict[str, str],
          max_upload_bytes: int, page_container: Any) -> html.Div:
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Store(id="view-state"),
            dcc.Store(id="url-target"),
            dcc.Store(id="shared-picture"),
            dcc.Store(id="image-choice"),
            dcc.Store(id="upload-accepted"),
            dcc.Store(id="nav-request"),
            dcc.Store(id="load-request"),
            dcc.Store(id="ready-state"),
            navbar(pages),
            html.Div(
                [
                    html.Aside(sidebar(model_names, examples, max_upload_bytes), className="app-sidebar"),
                    html.Main(
                        [
                            html.Div(id="weights-banner"),
                            html.Div(
                                [html.Div("Preparing the model…", id="load-label", className="small"),
                                 dbc.Progress(id="load-progress", value=0, striped=True, animated=True)],
                                id="load-progress-wrap", style={"display": "none"}, className="mb-2",
                            ),
                            html.Div(id="state-messages"),
                            page_container,
                        ],
                        className="app-main",
                    ),
                ],
                className="app-body",
            ),
        ]
    )


__all__ = ["heatmap_slot", "navbar", "shell", "sidebar"]
