"""Callback inputs no page of the app sends: refused with a 400, never a 500.

A click, a row or a picked class arrives from the browser and may be forged
(any client can POST to ``/_dash-update-component``). Callbacks that turn
such a value into a navigation read it through these helpers: a value of the
wrong shape is answered ``400 Bad Request`` with a message, instead of
failing deep inside the callback.
"""

from __future__ import annotations

from typing import Any, NoReturn

from werkzeug.exceptions import BadRequest

from dashapp.i18n import _

__all__ = ["count", "forged", "mapping", "sequence"]


def forged() -> NoReturn:
    raise BadRequest(_("This request was not sent by the app's own page: reload the page."))


def count(value: Any, below: int | None = None) -> int:
    """A whole number >= 0 (a row, a filter, a class), under ``below`` when given."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (below is not None and value >= below):
        forged()
    return value


def mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        forged()
    return value


def sequence(value: Any) -> list[Any]:
    if not isinstance(value, list):
        forged()
    return value
