"""Widgets of the dataset views: receptive-field crops of top examples
(served lazily by ``/api/crops``), filter cards, the scan progress text."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.analysis.scan.scanner import TopExample
from dashapp.collections.demo import DEMO_NAME
from dashapp.i18n import _, integer, ngettext, number, percent
from dashapp.service.dataset import FilterSummary
from dashapp.state.schema import ViewState
from dashapp.state.url import encode_state
from dashapp.ui.layout.widgets import fmt


def crop_src(example: TopExample) -> str:
    box = ",".join(f"{v:.1f}" for v in example.box)
    return f"/api/crops/{example.image}.jpg?box={quote(box)}"


def crop_tile(example: TopExample, href: str | None = None, size: int = 72) -> Any:
    """One top example: the receptive field of the filter's peak in that image."""
    picture = html.Img(src=crop_src(example), className="crop-img", width=size, height=size,
                       alt=_("peak {value} in image {image}").format(value=fmt(example.value),
                                                                     image=example.image[:8]),
                       title=_("peak {value} at map cell ({row}, {col})").format(value=fmt(example.value),
                                                                                 row=example.row, col=example.col))
    return dcc.Link(picture, href=href, className="crop-link") if href else picture


def collection_title(collection: Any) -> str:
    """A collection's name; the bundled demo's in the reader's language."""
    return _(DEMO_NAME) if collection.name == DEMO_NAME else collection.name


def summary_line(row: FilterSummary) -> str:
    parts = [_("fires on {rate}").format(rate=percent(row.firing_rate)), _("peak {value}").format(value=fmt(row.peak))]
    if row.selectivity is not None and row.preferred is None:  # silent on every image: no class preferred
        parts.append(_("silent on every image: no preferred class"))
    elif row.selectivity is not None:
        parts.append(_("selectivity {value} ({cls})").format(value=number(row.selectivity, 2), cls=row.preferred))
    return " · ".join(parts)


def filter_card(row: FilterSummary, examples: list[TopExample], state: ViewState) -> dbc.Card:
    """A filter's top examples, Microscope style; the title opens its detail page."""
    href = "/detail" + encode_state(state.with_(filter=row.index))
    return dbc.Card(
        dbc.CardBody([
            html.Div([dcc.Link(_("Filter {index}").format(index=row.index), href=href,
                               className="dataset-filter-link fw-semibold"),
                      html.Span(summary_line(row), className="dataset-filter-stats")],
                     className="d-flex flex-wrap justify-content-between gap-2 mb-1"),
            html.Div([crop_tile(example, href) for example in examples], className="crop-row"),
        ]),
        className="dataset-card",
    )


def progress_text(status: dict[str, Any]) -> str:
    state, done, total = status.get("state"), int(status.get("done") or 0), int(status.get("total") or 0)
    counts = {"done": integer(done), "total": integer(total)}
    if state == "done":
        return ngettext("Scanned: {total} image.", "Scanned: {total} images.", total).format(**counts)
    if state in ("queued", "running"):
        rate, eta = status.get("rate"), status.get("eta_s")
        text = ngettext("Scanning: {done} of {total} image", "Scanning: {done} of {total} images",
                        total).format(**counts)
        if rate:
            text = _("{progress} · {rate} images/s").format(progress=text, rate=number(rate, 1))
        if status.get("waiting") or state == "queued":  # no estimate that would only grow while it waits
            text = _("{progress} · waiting for a free worker").format(progress=text)
        elif eta is not None:
            text = _("{progress} · about {seconds} s left").format(progress=text, seconds=number(eta, 0))
        return text + "."
    if state == "cancelled":
        return ngettext("Cancelled at {done} of {total} image. Scan again to resume.",
                        "Cancelled at {done} of {total} images. Scan again to resume.", total).format(**counts)
    if state == "interrupted":
        return ngettext("Interrupted at {done} of {total} image (the server restarted). Scan again to resume.",
                        "Interrupted at {done} of {total} images (the server restarted). Scan again to resume.",
                        total).format(**counts)
    if state == "failed":
        return _("The scan failed: {error}.").format(error=status.get("error") or _("unknown error"))
    return ngettext("Not scanned yet with this model ({total} image).",
                    "Not scanned yet with this model ({total} images).", total).format(**counts)


def progress_bar(status: dict[str, Any]) -> dict[str, Any]:
    """The bar's props: its share done (never below what was shown before
    within a scan: the scanner's counts only grow), striped and moving only
    while the scan is queued or running, full when done."""
    state, done, total = status.get("state"), int(status.get("done") or 0), int(status.get("total") or 0)
    running = state in ("queued", "running")
    value = 100.0 if state == "done" else (100.0 * min(done, total) / total if total else 0.0)
    return {"value": value, "striped": running, "animated": running}
