"""What every page does with the ready state: turn it into a query and
render failures as messages instead of broken figures."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from dash import Output, no_update

from dashapp.analysis.models.graph import ReceptiveField
from dashapp.figures.maps import heatmap_figure
from dashapp.state.schema import ViewState
from dashapp.state.url import strict_state
from dashapp.ui.layout.widgets import error_alert

from .. import i18n
from ..errors import UserError
from ..i18n import _
from ..service import Analyzer, LayerView

log = logging.getLogger(__name__)


def state_of(service: Analyzer, ready: dict[str, Any]) -> ViewState:
    """The ready state a page received, read strictly: a forged or stale
    value is refused with a message, never computed with."""
    if not isinstance(ready, dict):
        raise UserError(_("The view state could not be read; reload the page."))
    i18n.use(ready.get("lang"))  # before anything is worded (a background job has no request)
    return strict_state(ready, service.models.state_catalog(), classes=service.models.class_counts(),
                        evidence=service.models.evidence_catalog())


def view_of(service: Analyzer, ready: dict[str, Any]) -> LayerView:
    return service.open(state_of(service, ready))


def guarded(outputs: Mapping[str, Output] | None = None,
            error: str = "error") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a page callback; on a known failure show its message and leave
    everything else alone, so the page keeps working.

    ``outputs`` is the callback's dict of named outputs (the one given to
    ``app.callback``, whose function returns a dict with the same keys): the
    message goes to the output named ``error`` and every other one is left
    as it is. Without ``outputs`` the callback has one output, the message."""
    if outputs is not None and error not in outputs:
        raise ValueError(f"guarded: no output named {error!r} among {sorted(outputs)}")

    def unchanged() -> Any:
        return no_update if outputs is None else dict.fromkeys(outputs, no_update)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any) -> Any:
            if not args or not args[0]:
                return unchanged()
            try:
                return func(*args)
            except UserError as exc:
                message = exc.message
            except Exception:  # an unexpected failure must not break the page
                log.exception("page callback %s failed", func.__name__)
                message = _("Something went wrong while computing this view; the error was logged.")
            if outputs is None:
                return error_alert(message)
            return {**unchanged(), error: error_alert(message)}

        return wrapper

    return decorate


def heatmap_of(view: LayerView, fmap: np.ndarray, label: int, height: int = 260, subject: str | None = None,
               quantity: str = "response", receptive_field: ReceptiveField | None = None) -> Any:
    """A map of the view's layer (a filter's response), or of another layer
    given its ``receptive_field`` (class evidence at a block), over the view's
    image, placed by the one geometry rule (``analysis/maps/geometry.py``);
    ``subject`` names it in the hover and, with ``quantity``, words its
    description for screen readers."""
    image = view.image
    field = receptive_field or view.info.receptive_field
    return heatmap_figure(fmap, None, image.width, image.height, field, view.input_size, label,
                          height=height, subject=subject, quantity=quantity)
