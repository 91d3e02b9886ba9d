"""What decoding a whole collection may cost: CPU seconds and decoded pixels.

One collection is one request, however many images it holds; a small upload
must not buy hours of decoding. Each image's decode is charged (its time,
whatever the outcome, and its pixels when it succeeds), and once either
allowance is spent the next decode is refused with ``DecodeBudgetSpent`` and
the collection with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..i18n import _
from .decode import AcceptedImage, accept_bytes
from .errors import IntakeError
from .limits import DEFAULT_LIMITS, Limits, human_pixels


class DecodeBudgetSpent(IntakeError):
    """The collection as a whole costs more decoding than one request may."""

    status = 413
    code = "decode_budget_spent"


@dataclass
class DecodeBudget:
    max_seconds: float
    max_pixels: int
    seconds: float = 0.0
    pixels: int = 0

    def check(self) -> None:
        """Raise ``DecodeBudgetSpent`` once either allowance is used up."""
        if self.seconds >= self.max_seconds:
            raise DecodeBudgetSpent(_("Decoding this collection's images took longer than the {n} seconds one "
                                      "collection may use; it was refused. Please send fewer or smaller images.")
                                    .format(n=f"{self.max_seconds:g}"))
        if self.pixels >= self.max_pixels:
            raise DecodeBudgetSpent(_("This collection's images hold more than {pixels} in all, the most one "
                                      "collection may decode; it was refused. Please send fewer or smaller images.")
                                    .format(pixels=human_pixels(self.max_pixels)))

    def accept(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> AcceptedImage:
        """``accept_bytes`` once the budget allows it; its time and pixels are charged."""
        self.check()
        started = time.thread_time()
        try:
            accepted = accept_bytes(data, limits)
        finally:
            self.seconds += time.thread_time() - started
        self.pixels += accepted.width * accepted.height
        return accepted
