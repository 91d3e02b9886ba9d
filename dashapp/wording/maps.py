"""Heatmaps told in words (``analysis/maps/describe.py``'s facts): the sentence a
screen reader reads instead of a colour map, in the reader's language."""

from __future__ import annotations

import numpy as np

from dashapp.analysis.maps.describe import MapFacts, map_facts

from ..i18n import _, integer, percent, significant

QUANTITIES = ("response", "evidence")  # what a map measures: a filter's response, or class evidence


def place(key: str) -> str:
    """One of ``analysis/maps/describe.py``'s nine places, with its article ("the
    upper left"), to follow "in" in a sentence."""
    places = {
        "upper left": _("the upper left"), "upper centre": _("the upper centre"), "upper right": _("the upper right"),
        "middle left": _("the middle left"), "centre": _("the centre"), "middle right": _("the middle right"),
        "lower left": _("the lower left"), "lower centre": _("the lower centre"), "lower right": _("the lower right"),
    }
    return places[key]


def _silent_sentence(subject: str, quantity: str) -> str:
    if quantity == "evidence":
        return _("{subject}: no evidence anywhere on the image.").format(subject=subject)
    return _("{subject}: no response anywhere on the image.").format(subject=subject)


def _peak_sentence(quantity: str, spread: bool) -> str:
    """The sentence's pattern: one whole sentence per quantity and spread."""
    if quantity == "evidence":
        if spread:
            return _("{subject}: peak evidence {peak} in {place} of the image; at least half the peak in {areas} of "
                     "9 areas; silent on {silent} of it.")
        return _("{subject}: peak evidence {peak} in {place} of the image; silent on {silent} of it.")
    if spread:
        return _("{subject}: peak response {peak} in {place} of the image; at least half the peak in {areas} of "
                 "9 areas; silent on {silent} of it.")
    return _("{subject}: peak response {peak} in {place} of the image; silent on {silent} of it.")


def silent_share(fraction: float) -> str:
    """The silent share as a percentage that keeps "some" apart from "all"
    and "none": as few decimals as that takes (up to 3), so a map with one
    responding cell of 256 is "silent on 99.6 %", never "100 %" beside its peak."""
    for digits in range(4):
        if fraction in (0.0, 1.0) or 0 < round(100 * fraction, digits) < 100:
            break
    return percent(fraction, digits)


def describe_facts(facts: MapFacts, subject: str, quantity: str = "response") -> str:
    if facts.place is None:
        return _silent_sentence(subject, quantity)
    return _peak_sentence(quantity, facts.areas > 1).format(
        subject=subject, peak=significant(facts.peak), place=place(facts.place), areas=integer(facts.areas),
        silent=silent_share(facts.silent))


def describe_map(fmap: np.ndarray, subject: str, quantity: str = "response") -> str:
    """One sentence for a non-negative 2-D map: the peak value and where it
    lies, the share of silent (exactly zero) positions, and, when several
    ninths of the image reach half the peak, that the response is spread.

    ``subject`` names the map ("Filter 38", "Grad-CAM for goldfish");
    ``quantity`` (QUANTITIES) is what it measures.
    """
    return describe_facts(map_facts(fmap), subject, quantity)
