"""A region's size class in words (``analysis/maps/regions.py``'s keys)."""

from __future__ import annotations

from ..i18n import pgettext


def size_label(size_class: str) -> str:
    """"small", "medium", "large" or "very large", in the current language
    (agreeing with "region"); an unknown key is shown as it is."""
    labels = {
        "small": pgettext("region size", "small"),
        "medium": pgettext("region size", "medium"),
        "large": pgettext("region size", "large"),
        "very large": pgettext("region size", "very large"),
    }
    return labels.get(size_class, size_class)
