"""Kernels and patches: what the top filters look for, and what they found."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashapp.figures.maps import array_uri, picture_uri
from dashapp.ui.layout.widgets import fmt, kernel_note, kernel_tile, notice_alert, page_header

from ..i18n import N_, _
from ..service import Analyzer
from ._common import guarded, view_of

PATH = "/kernels"
NAME = N_("Kernels & patches")
DESCRIPTION = N_("RGB patterns of first-layer kernels and the image patches that excite each top filter.")


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("Patterns the top filters look for (first layer only), and the three image "
                                   "patches that excite each filter most: receptive-field crops around its peaks.")),
            html.Div(id="kernels-error"),
            html.Div(id="kernels-notice"),
            html.H2(_("RGB patterns"), className="section-title"),
            dcc.Loading(html.Div(id="kernels-patterns"), type="default", delay_show=300),
            html.H2(_("Top patches"), className="section-title"),
            dcc.Loading(html.Div(id="kernels-patches"), type="default", delay_show=300),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("kernels-error", "children"),
        "patterns": Output("kernels-patterns", "children"),
        "patches": Output("kernels-patches", "children"),
        "notice": Output("kernels-notice", "children"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        view = view_of(service, ready)
        ranking = view.ranking
        indices = [f.index for f in ranking.filters]
        pictures = view.kernels(indices)
        if pictures.applies and pictures.rgb is not None:
            k = pictures.rgb.shape[1]
            patterns: Any = html.Div(
                [
                    kernel_tile(array_uri(pictures.rgb[rank], max(1, 84 // k)),
                                _("RGB pattern of filter {index}").format(index=index),
                                _("#{rank} · filter {index}").format(rank=rank + 1, index=index))
                    for rank, index in enumerate(indices)
                ],
                className="kernel-row",
            )
        else:
            patterns = kernel_note(view.info.name, view.info.in_channels)

        image = view.image
        rows = []
        for ranked in ranking.filters:
            detail = view.filter(ranked.index)
            tiles: list[Any] = [
                html.Figure(
                    [html.Img(src=picture_uri(image.crop((p.x0, p.y0, p.x1, p.y1)), 160), className="patch-img",
                              alt=_("patch {number} of filter {index}").format(number=p.number, index=ranked.index)),
                     html.Figcaption(_("response {value} · x {x0}–{x1}, y {y0}–{y1}").format(
                         value=fmt(p.value), x0=p.x0, x1=p.x1, y0=p.y0, y1=p.y1))],
                    className="patch-tile",
                )
                for p in detail.patches
            ] or [html.Div(_("This filter does not respond anywhere on the image."), className="control-help")]
            label = _("#{rank} · filter {index}").format(rank=ranked.rank, index=ranked.index)
            rows.append(html.Div([html.Div(label, className="patch-label"),
                                  html.Div(tiles, className="patch-row")], className="patch-filter"))
        notice = notice_alert(ranking.notice) if ranking.notice else None
        return {"error": None, "patterns": patterns, "patches": html.Div(rows), "notice": notice}
