"""Axes whose numbers plotly would write in its own way, written by the app
instead, in the reader's locale: a percent axis reads "0,5 %" in Spanish as
the text around it does (i18n.percent), where plotly's ``tickformat: ".1%"``
writes "0,5%" (its percent sign takes no locale)."""

from __future__ import annotations

import math
from typing import Any

from dashapp.i18n import percent

NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    raw = max(span, 1e-12) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in NICE_STEPS if m * magnitude >= raw * (1 - 1e-9))


def percent_axis(top: float, pad: float = 1.15, ticks: int = 5) -> dict[str, Any]:
    """A linear axis from 0 to ``top`` × ``pad`` (fractions: 0.5 is 50 %) with
    its tick labels written by ``i18n.percent``."""
    end = max(1e-6, top) * pad
    step = nice_step(end, ticks)
    shown = f"{step * 100:.10g}"
    digits = len(shown.split(".")[1]) if "." in shown else 0
    values = [round(i * step, 12) for i in range(int(end / step + 1e-9) + 1)]
    return {"range": [0, end], "tickmode": "array", "tickvals": values,
            "ticktext": [percent(v, digits if v else 0) for v in values]}
