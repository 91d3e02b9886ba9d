"""What every page does with the ready state: turn it into a query and
render failures as messages instead of broken figures."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from dash import html, no_update

from ..components.widgets import error_alert
from ..figures import heatmap_figure
from ..intake import IntakeError
from ..service import AnalysisError, AnalysisQuery, Analyzer

log = logging.getLogger(__name__)


def query_of(ready: dict[str, Any]) -> AnalysisQuery:
    return AnalysisQuery(
        image=ready["image"],
        model=ready["model"],
        layer=ready["layer"],
        criterion=ready["criterion"],
        n=int(ready["n"]),
        min_sparsity=float(ready["min_sparsity"]),
        weight=float(ready["weight"]),
    )


def guarded(outputs: int, error_slot: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a page callback; on a known failure put its message in output
    ``error_slot`` and leave the rest alone, so the page keeps working."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any) -> Any:
            if not args or not args[0]:
                return (no_update,) * outputs if outputs > 1 else no_update
            try:
                return func(*args)
            except (AnalysisError, IntakeError) as exc:
                message = exc.message if isinstance(exc, AnalysisError) else str(exc)
            except Exception:  # an unexpected failure must not break the page
                log.exception("page callback %s failed", func.__name__)
                message = "Something went wrong while computing this view; the error was logged."
            result: list[Any] = [no_update] * outputs
            result[error_slot] = error_alert(message)
            return tuple(result) if outputs > 1 else result[0]

        return wrapper

    return decorate


def page_header(title: str, subtitle: str) -> html.Div:
    return html.Div([html.H2(title, className="page-title"), html.P(subtitle, className="page-subtitle")],
                    className="page-header")


def heatmap_of(service: Analyzer, query: AnalysisQuery, fmap: np.ndarray, label: int, height: int = 260) -> Any:
    """A map of the query's layer (a filter's response, or class evidence) over
    the query's image, with that layer's receptive field for the hover."""
    image = service.image(query.image)
    info = service.layer_info(query.model, query.layer)
    return heatmap_figure(fmap, None, image.width, image.height, info.receptive_field,
                          service.model(query.model).input_size, label, height=height)
