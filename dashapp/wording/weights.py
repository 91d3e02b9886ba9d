"""A weights download under way, in the reader's language (the shared
progress file holds the numbers, ``analysis/models/weights.py``'s ``Progress``)."""

from __future__ import annotations

from dashapp.analysis.models.weights import Progress

from ..i18n import _, integer


def download_label(model: str, progress: Progress) -> str:
    if progress.total:
        return _("Downloading weights for {model}: {done} of {total} MB").format(
            model=model, done=integer(progress.done >> 20), total=integer(progress.total >> 20))
    return _("Downloading weights for {model}…").format(model=model)
