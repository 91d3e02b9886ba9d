"""The filter detail page's "Across the collection": the filter's top
examples over the URL's collection (click one: that image opens with this
filter), its firing rate, and its mean peak per class with the class
selectivity index when the collection has labels."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.errors import UserError
from dashapp.figures.maps import TOOLBAR, class_means_figure
from dashapp.i18n import _, integer, ngettext
from dashapp.state.schema import ViewState
from dashapp.state.url import encode_state
from dashapp.ui.layout.dataset_widgets import collection_title, crop_tile, summary_line
from dashapp.ui.layout.widgets import worded

TOP_SHOWN = 16


def collection_section(service: Any, state: ViewState, index: int) -> Any:
    if not state.collection:
        link = dcc.Link(_("Dataset page"), href="/dataset" + encode_state(state))
        return html.P(worded(_("Choose a collection on the {link} to see this filter's top examples across many "
                               "images."), link=link), className="text-muted small")
    try:
        view = service.collections.layer(state.collection, state.model, state.layer)
    except UserError as exc:
        link = dcc.Link(_("Dataset page"), href="/dataset" + encode_state(state))
        return html.P([exc.message, " ", *worded(_("Open the {link}."), link=link)], className="text-muted small")
    row = next(r for r in view.summaries() if r.index == view.check_filter(index))
    tiles = [crop_tile(example, "/detail" + encode_state(state.with_(image=example.image, filter=index)), size=84)
             for example in view.responding(index, TOP_SHOWN)]
    if not tiles:
        tiles = [html.Span(_("This filter responds on no image of the collection."), className="text-muted small")]
    parts: list[Any] = [
        html.Div(ngettext("{name} · {count} image · {summary}", "{name} · {count} images · {summary}",
                          view.result.images).format(name=collection_title(view.collection),
                                                     count=integer(view.result.images), summary=summary_line(row)),
                 className="small mb-2 collection-summary"),
        html.Div(tiles, className="crop-row collection-top"),
        html.Div(_("Each crop is the receptive field of this filter's peak in one image, strongest first; "
                   "click one to open that image with this filter."), className="control-help mt-1"),
    ]
    labels, means = view.class_means(index)
    if len(labels) >= 2:
        parts.append(dcc.Graph(figure=class_means_figure(labels, means, row.selectivity), config=TOOLBAR,
                               id="detail-class-means"))
    return dbc.Card(dbc.CardBody(parts), className="mt-2")
