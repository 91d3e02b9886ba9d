"""Cards for the Circuit and Building blocks pages: one neighbour of a unit
(its name as a link that moves the page to it, its numbers as text and as a
bar, its kernel slice, its map over the image and its top dataset examples
when the view's collection is scanned)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import dcc, html

from dashapp.analysis.circuits.circuit import Link
from dashapp.analysis.scan.scanner import TopExample
from dashapp.ui.attributes import attrs
from dashapp.ui.layout.dataset_widgets import crop_tile
from dashapp.ui.layout.widgets import fmt

from ...i18n import N_, _, percent

RGB_NAMES = (N_("red"), N_("green"), N_("blue"))
RANK_LABELS = {"peak": N_("at its peak cell"), "map": N_("over the whole map"), "weight": N_("by weight alone")}


def input_title(link: Link) -> str:
    if link.kind == "image":
        colour = _(RGB_NAMES[link.channel]) if link.channel < len(RGB_NAMES) else str(link.channel)
        return _("input image, {colour} channel").format(colour=colour)
    if link.kind == "response":
        return _("{source} response, channel {channel}").format(source=link.source, channel=link.channel)
    return _("{source} output, channel {channel}").format(source=link.source, channel=link.channel)


def output_title(link: Link) -> str:
    if link.kind == "identity":
        return _("identity path of {block}, channel {channel}").format(block=link.layer, channel=link.channel)
    return _("{layer} filter {channel}").format(layer=link.layer, channel=link.channel)


def bar(share: float, positive: bool) -> html.Div:
    """A share of the largest magnitude as a bar (the number is in the card's text)."""
    width = f"{max(0.0, min(1.0, share)) * 100:.1f}%"
    return html.Div(html.Div(className="circuit-bar-fill " + ("positive" if positive else "negative"),
                             style={"width": width}), className="circuit-bar", **attrs(aria_hidden="true"))


def picture(src: str | None, alt: str, caption: str) -> html.Figure | None:
    if src is None:
        return None
    return html.Figure([html.Img(src=src, alt=alt, className="circuit-img"),
                        html.Figcaption(caption, className="circuit-caption")], className="circuit-figure")


def examples_figure(examples: list[TopExample] | None, href: Callable[[TopExample], str]) -> html.Figure | None:
    """A unit's top dataset examples as the Dataset page shows them (receptive-field crops), each a link."""
    if not examples:
        return None
    return html.Figure([html.Div([crop_tile(example, href(example), size=56) for example in examples],
                                 className="crop-row circuit-examples"),
                        html.Figcaption(_("top dataset examples"), className="circuit-caption")],
                       className="circuit-figure")


def examples_hint(collection: str | None, scanned: bool) -> html.P | None:
    """One line where the view has a collection that is not scanned with this model."""
    if not collection or scanned:
        return None
    return html.P(_("Scan the collection on the Dataset page to see each unit's top dataset examples here."),
                  className="text-muted small circuit-examples-hint")


def card(title: str, href: str | None, lines: list[str], fill: tuple[float, bool] | None,
         pictures: list[html.Figure | None], class_name: str) -> html.Li:
    """One neighbour: a link when the walk can go there, else its name."""
    name: Any = (dcc.Link(title, href=href, className=f"{class_name}-link circuit-link") if href
                 else html.Span(title, className="circuit-name"))
    return html.Li(
        [html.H3(name, className="circuit-card-title"),
         *(html.Div(line, className="circuit-number") for line in lines),
         bar(*fill) if fill is not None else None,
         html.Div([p for p in pictures if p is not None], className="circuit-pictures")],
        className=f"circuit-card {class_name}",
    )


def link_lines(link: Link, total: float, rank_by: str) -> list[str]:
    """The neighbour's numbers in words: contribution and its share, map total, weight norm."""
    lines = []
    if link.contribution is not None:
        share = link.contribution / total if total > 0 else 0.0
        lines.append(_("contribution {value} ({share} of all contributions' size)").format(
            value=fmt(link.contribution), share=percent(share, 1)))
    else:
        lines.append(_("added unchanged to the block's output"))
    if link.map_total is not None and rank_by == "map":
        lines.append(_("over the whole map {value}").format(value=fmt(link.map_total)))
    lines.append(_("kernel norm {value}").format(value=fmt(link.weight_norm)))
    return lines


def fill_of(link: Link, rank_by: str, largest: float) -> tuple[float, bool] | None:
    value = {"peak": link.contribution, "map": link.map_total, "weight": link.weight_norm}[rank_by]
    if value is None or largest <= 0:
        return None
    return abs(value) / largest, value >= 0
