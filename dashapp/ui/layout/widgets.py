"""Small widgets the pages share."""

from __future__ import annotations

import re
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import i18n
from dashapp.figures.maps import SIZE_LETTERS, TOOLBAR
from dashapp.i18n import _, ngettext, significant
from dashapp.ui.attributes import attrs
from dashapp.wording.regions import size_label


# The region size classes (analysis/maps/regions.py) by the names a reader sees.
def heatmap_slot(index: str, title: Any = None, height: int | None = None, figure: Any = None) -> html.Div:
    """A graph whose figure is drawn in the browser from a base figure the
    server sends once (``fig-base``), restyled and answered on hover there.

    Under it, the map in words (``fig-desc``, from the base figure's
    ``meta.description``): what a screen reader reads instead of the colours."""
    style = {"height": f"{height}px"} if height else None
    return html.Div(
        [
            html.Div(title, className="slot-title", id={"type": "fig-title", "index": index}) if title is not None
            else None,
            dcc.Store(id={"type": "fig-base", "index": index}, data=figure),
            dcc.Graph(id={"type": "fig", "index": index}, config=TOOLBAR, style=style, className="map-graph",
                      clear_on_unhover=True),
            html.P(map_description(figure), id={"type": "fig-desc", "index": index}, className="map-description"),
            html.Div(id={"type": "fig-hover", "index": index}, className="hover-info"),
        ],
        className="map-slot",
    )


def map_description(figure: Any) -> str:
    """The words a heatmap figure carries for screen readers ("" for none)."""
    layout = figure.get("layout") if isinstance(figure, dict) else getattr(figure, "layout", None)
    meta = (layout.get("meta") if isinstance(layout, dict) else getattr(layout, "meta", None)) or {}
    return str(meta.get("description") or "") if isinstance(meta, dict) else ""


def page_header(title: str, subtitle: str | list[Any]) -> html.Div:
    """The page's one level-1 heading; sections below it are level 2."""
    return html.Div([html.H1(title, className="page-title"), html.P(subtitle, className="page-subtitle")],
                    className="page-header")


def hidden_label(text: str, for_id: str) -> html.Label:
    """A label only assistive technology reads; for a Dash composite its id
    ``<control>-label`` names the focusable part (assets/js/a11y.js)."""
    return html.Label(text, htmlFor=for_id, id=f"{for_id}-label", className="visually-hidden")


def region_buttons(regions: list[dict[str, Any]]) -> html.Div:
    """One button per region box, in trace order: the keyboard's and the
    screen reader's way to what a click on a box opens. Each tells the size
    class by letter and name, as the box's label does."""
    if not regions:
        return html.Div(_("No region: the map stays below half its peak everywhere."), className="control-help")
    buttons = [
        # The name read aloud starts with the visible text (WCAG 2.5.3) and goes on with the numbers.
        html.Button(
            [_("Region {number} · {letter} {size} · {area}").format(
                number=r["number"], letter=SIZE_LETTERS[r["size_class"]], size=size_label(r["size_class"]),
                area=i18n.percent(r["area_fraction"], 1)),
             html.Span(" " + _("of the image, peak {peak}").format(peak=fmt(r["peak"])), className="visually-hidden")],
            id={"type": "region-button", "index": i}, n_clicks=0, type="button",
            className="btn btn-outline-secondary btn-sm region-button",
        )
        for i, r in enumerate(regions)
    ]
    return html.Div([html.Span(_("Regions:"), className="control-help me-1"), *buttons],
                    className="region-buttons d-flex flex-wrap gap-1 align-items-center", role="group",
                    **attrs(aria_label=_("Regions of this filter")))


def tile_links(tiles: list[tuple[str, str]]) -> html.Ul:
    """The grid's tiles as links (text, href): what a click on a tile opens,
    for the keyboard, with each map told in words for screen readers."""
    return html.Ul([html.Li(dcc.Link(text, href=href, className="tile-link")) for text, href in tiles],
                   className="tile-links")


def kernel_tile(src: str, alt: str, caption: str) -> html.Figure:
    """One kernel picture with its caption (detail and kernels pages)."""
    return html.Figure([html.Img(src=src, className="kernel-img", alt=alt), html.Figcaption(caption)],
                       className="kernel-tile")


def kernel_note(layer: str, in_channels: int) -> dbc.Alert:
    """Why a layer's kernels have no RGB picture (kernels and detail pages):
    the wording of ``analysis/kernels.not_applicable_reason``, in the reader's language."""
    text = ngettext("{layer} takes {n} feature map from earlier layers, not the image's red, green and blue; "
                    "its kernels have no colour to show. Choose the first conv layer to see RGB patterns.",
                    "{layer} takes {n} feature maps from earlier layers, not the image's red, green and blue; "
                    "its kernels have no colour to show. Choose the first conv layer to see RGB patterns.",
                    in_channels).format(layer=layer, n=in_channels)
    return dbc.Alert(text, color="secondary", className="kernel-note")


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
    """Three significant digits, with the locale's decimal mark."""
    return significant(value)


def worded(template: str, **parts: Any) -> list[Any]:
    """A translated sentence whose ``{name}`` placeholders are components (a
    link): each language puts them where its word order wants them."""
    pieces = re.split(r"\{(\w+)\}", template)
    return [parts[piece] if odd else piece for odd, piece in ((i % 2 == 1, p) for i, p in enumerate(pieces))
            if odd or piece]


def job_bar(prefix: str, start_id: str, start_label: str) -> dbc.Card:
    """A background job's controls: start and cancel, the status line (it names
    the progress bar, assets/js/a11y.js, and is announced as it changes), the bar.
    Ids: ``start_id`` and ``{prefix}-{cancel|status|progress}``."""
    return dbc.Card(dbc.CardBody([
        html.Div([
            dbc.Button(start_label, id=start_id, color="primary", n_clicks=0, className="me-2"),
            dbc.Button(_("Cancel"), id=f"{prefix}-cancel", color="secondary", outline=True, n_clicks=0),
            html.Span(id=f"{prefix}-status", className=f"ms-3 {prefix}-status", role="status",
                      **attrs(aria_live="polite", data_labels=f"{prefix}-progress")),
        ], className="d-flex align-items-center mb-2"),
        dbc.Progress(id=f"{prefix}-progress", value=0, striped=True, className=f"{prefix}-progress"),
    ]), className="mb-3")

