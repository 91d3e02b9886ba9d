"""The one kind of error a user is shown: a message written for them and the
HTTP status the API answers with.

Everything the app refuses or cannot do right now for a reason the user can
act on (a bad image, an unknown layer, a store that is down) is a
``UserError``; the API turns it into ``{"error": message}`` with ``status``,
pages into an inline message. Anything else is a bug: logged, answered 500.
"""

from __future__ import annotations


class UserError(Exception):
    """``message`` is shown as is; ``status`` is a 4xx, or 503 while a store or
    a model is unavailable."""

    status: int = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message
