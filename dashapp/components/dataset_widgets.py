"""Widgets of the dataset views: receptive-field crops of top examples
(served lazily by ``/api/crops``), filter cards, the scan progress text."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from ..analysis.scan import TopExample
from ..service.dataset import FilterSummary
from ..state import ViewState, encode_state


def crop_src(example: TopExample) -> str:
    box = ",".join(f"{v:.1f}" for v in example.box)
    return f"/api/crops/{example.image}.jpg?box={quote(box)}"


def crop_tile(example: TopExample, href: str | None = None, size: int = 72) -> Any:
    """One top example: the receptive field of the filter's peak in that image."""
    picture = html.Img(src=crop_src(example), className="crop-img", width=size, height=size,
                       alt=f"peak {example.value:.3g} in image {example.image[:8]}",
                       title=f"peak {example.value:.3g} at map cell ({example.row}, {example.col})")
    return dcc.Link(picture, href=href, className="crop-link") if href else picture


def summary_line(row: FilterSummary) -> str:
    parts = [f"fires on {row.firing_rate:.0%}", f"peak {row.peak:.3g}"]
    if row.selectivity is not None:
        parts.append(f"selectivity {row.selectivity:.2f} ({row.preferred})")
    return " · ".join(parts)


def filter_card(row: FilterSummary, examples: list[TopExample], state: ViewState) -> dbc.Card:
    """A filter's top examples, Microscope style; the title opens its detail page."""
    href = "/detail" + encode_state(state.with_(filter=row.index))
    return dbc.Card(
        dbc.CardBody([
            html.Div([dcc.Link(f"Filter {row.index}", href=href, className="dataset-filter-link fw-semibold"),
                      html.Span(summary_line(row), className="dataset-filter-stats")],
                     className="d-flex flex-wrap justify-content-between gap-2 mb-1"),
            html.Div([crop_tile(example, href) for example in examples], className="crop-row"),
        ]),
        className="dataset-card",
    )


def progress_text(status: dict[str, Any]) -> str:
    state, done, total = status.get("state"), int(status.get("done") or 0), int(status.get("total") or 0)
    if state == "done":
        return f"Scanned: {total} images."
    if state in ("queued", "running"):
        rate, eta = status.get("rate"), status.get("eta_s")
        speed = f" · {rate:.1f} images/s" if rate else ""
        left = f" · about {eta:.0f} s left" if eta is not None else ""
        return f"Scanning: {done} of {total} images{speed}{left}."
    if state == "cancelled":
        return f"Cancelled at {done} of {total} images. Scan again to resume."
    if state == "interrupted":
        return f"Interrupted at {done} of {total} images (the server restarted). Scan again to resume."
    if state == "failed":
        return f"The scan failed: {status.get('error') or 'unknown error'}."
    return f"Not scanned yet with this model ({total} images)."
