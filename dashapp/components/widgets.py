"""Small widgets the pages share."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from ..figures import TOOLBAR


def heatmap_slot(index: str, title: Any = None, height: int | None = None, figure: Any = None) -> html.Div:
    """A graph whose figure is drawn in the browser from a base figure the
    server sends once (``fig-base``), restyled and answered on hover there."""
    style = {"height": f"{height}px"} if height else None
    return html.Div(
        [
            html.Div(title, className="slot-title", id={"type": "fig-title", "index": index}) if title is not None
            else None,
            dcc.Store(id={"type": "fig-base", "index": index}, data=figure),
            dcc.Graph(id={"type": "fig", "index": index}, config=TOOLBAR, style=style, className="map-graph",
                      clear_on_unhover=True),
            html.Div(id={"type": "fig-hover", "index": index}, className="hover-info"),
        ],
        className="map-slot",
    )


def kernel_tile(src: str, alt: str, caption: str) -> html.Figure:
    """One kernel picture with its caption (detail and kernels pages)."""
    return html.Figure([html.Img(src=src, className="kernel-img", alt=alt), html.Figcaption(caption)],
                       className="kernel-tile")


def stat_card(label: str, value: str, help_text: str | None = None) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody([
            html.Div(label, className="stat-label"),
            html.Div(value, className="stat-value"),
            html.Div(help_text, className="stat-help") if help_text else None,
        ]),
        className="stat-card",
    )


def error_alert(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", className="mb-2 page-error")


def notice_alert(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="warning", className="mb-2 page-notice")


def fmt(value: float) -> str:
    return f"{value:.3g}"
