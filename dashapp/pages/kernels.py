"""Kernels and patches: what the top filters look for, and what they found."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from ..components.widgets import kernel_tile, notice_alert, page_header
from ..figures import array_uri, picture_uri
from ..service import Analyzer
from ._common import guarded, view_of

PATH = "/kernels"
NAME = "Kernels & patches"
DESCRIPTION = "RGB patterns of first-layer kernels and the image patches that excite each top filter."


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header("Kernels & patches", "Patterns the top filters look for (first layer only), and the three "
                        "image patches that excite each filter most: receptive-field crops around its peaks."),
            html.Div(id="kernels-error"),
            html.Div(id="kernels-notice"),
            html.H2("RGB patterns", className="section-title"),
            dcc.Loading(html.Div(id="kernels-patterns"), type="default", delay_show=300),
            html.H2("Top patches", className="section-title"),
            dcc.Loading(html.Div(id="kernels-patches"), type="default", delay_show=300),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("kernels-error", "children"),
        Output("kernels-patterns", "children"),
        Output("kernels-patches", "children"),
        Output("kernels-notice", "children"),
        Input("ready-state", "data"),
    )
    @guarded(outputs=4)
    def render(ready: dict[str, Any]) -> tuple[Any, ...]:
        view = view_of(service, ready)
        ranking = view.ranking
        indices = [f.index for f in ranking.filters]
        pictures = view.kernels(indices)
        if pictures.applies and pictures.rgb is not None:
            k = pictures.rgb.shape[1]
            patterns: Any = html.Div(
                [
                    kernel_tile(array_uri(pictures.rgb[rank], max(1, 84 // k)), f"RGB pattern of filter {index}",
                                f"#{rank + 1} · filter {index}")
                    for rank, index in enumerate(indices)
                ],
                className="kernel-row",
            )
        else:
            patterns = dbc.Alert(pictures.reason, color="secondary", className="kernel-note")

        image = view.image
        rows = []
        for ranked in ranking.filters:
            detail = view.filter(ranked.index)
            tiles = [
                html.Figure(
                    [html.Img(src=picture_uri(image.crop((p.x0, p.y0, p.x1, p.y1)), 160), className="patch-img",
                              alt=f"patch {p.number} of filter {ranked.index}"),
                     html.Figcaption(f"response {p.value:.3g} · x {p.x0}–{p.x1}, y {p.y0}–{p.y1}")],
                    className="patch-tile",
                )
                for p in detail.patches
            ] or [html.Div("This filter does not respond anywhere on the image.", className="control-help")]
            rows.append(html.Div([html.Div(f"#{ranked.rank} · filter {ranked.index}", className="patch-label"),
                                  html.Div(tiles, className="patch-row")], className="patch-filter"))
        notice = notice_alert(ranking.notice) if ranking.notice else None
        return None, patterns, html.Div(rows), notice
