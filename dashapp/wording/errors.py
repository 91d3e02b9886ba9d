"""An analysis error a user reads (``analysis/messages.py``), in the reader's language."""

from __future__ import annotations

from ..analysis.messages import Explained
from ..i18n import _


def error_text(exc: BaseException) -> str:
    """The error's message in the current language; an error without a
    template (or one the catalog does not hold) is shown as it is."""
    if isinstance(exc, Explained):
        said = _(exc.template)
        return said.format(**exc.params) if exc.params else said
    return str(exc)
