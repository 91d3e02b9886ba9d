"""A weights download under way, in the reader's language (the shared
progress file holds the numbers, ``analysis/models/weights.py``'s ``Progress``)."""

from __future__ import annotations

from dashapp.analysis.models.registry import WeightsStatus
from dashapp.analysis.models.weights import Progress

from ..i18n import _, integer


def download_label(model: str, progress: Progress) -> str:
    if progress.total:
        return _("Downloading weights for {model}: {done} of {total} MB").format(
            model=model, done=integer(progress.done >> 20), total=integer(progress.total >> 20))
    return _("Downloading weights for {model}…").format(model=model)


def weights_reason(weights: WeightsStatus) -> str:
    """Why the weights are untrained, in the reader's language (the reason's
    own English text where it has no template: an operator's message)."""
    if weights.reason_template:
        return _(weights.reason_template).format(**dict(weights.reason_values))
    return weights.reason or ""
