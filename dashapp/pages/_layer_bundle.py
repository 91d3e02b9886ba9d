"""The heatmaps page's layer bundle: everything the browser needs to rank a
layer's filters and draw any of their maps, sent once per (image, model,
weights, layer, language) and kept there (assets/js/ranking.js).

The browser ranks with the same rule as ``analysis/maps/stats.py`` on the
same numbers (the statistics travel as their own bytes), and builds each map's
figure from ``template`` (the figure ``figures/maps.heatmap_figure`` draws for
filter 0) with that filter's quantized map, scale, name and words, so a figure
drawn in the browser is the figure the server would draw
(tests/browser/test_ranking_js.py holds both to that).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import plotly.utils
from dash import html

from dashapp.analysis.maps.stats import CRITERIA, MIN_RELATIVE_PEAK, FilterStats
from dashapp.figures.maps import quantize
from dashapp.state.schema import FIELD, RANKING_KEYS
from dashapp.ui.layout.widgets import heatmap_slot
from dashapp.wording.maps import describe_map

from .. import i18n
from ..i18n import _
from ..service import LayerView
from ._common import heatmap_of

# The slot the browser copies for a rank it lacks: this id's "heat-0" becomes "heat-<rank>".
SLOT_TEMPLATE_ID = "heat-0"


def bundle_key(view: LayerView) -> str:
    """What the bundle depends on: the image, the model and its weights, the layer, the language."""
    loaded = view.loaded
    return "|".join((view.subject.sha, loaded.name, loaded.weights.tag, view.info.name, i18n.current()))


def _bytes(array: np.ndarray, dtype: type) -> str:
    """An array's little-endian bytes in base64 (what the browser reads into a typed array)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def stats_bytes(stats: FilterStats) -> dict[str, str]:
    """The statistics the ranking reads, bit for bit in their own types (float32; sparsity float64)."""
    return {"mean": _bytes(stats.mean, np.float32), "max": _bytes(stats.max, np.float32),
            "std": _bytes(stats.std, np.float32), "sparsity": _bytes(stats.sparsity, np.float64)}


def number_marks() -> dict[str, str]:
    """How numbers are written in the current language (``i18n.number``/``percent``:
    Babel's decimal and group marks, and the percent pattern's affixes)."""
    separators = i18n.plotly_separators()
    decimal, group = separators[0], separators[1]
    pattern = i18n.percent_pattern(i18n.current())
    digits = [i for i, ch in enumerate(pattern) if ch in "#0,."]
    return {"decimal": decimal, "group": group, "percentPrefix": pattern[:digits[0]],
            "percentSuffix": pattern[digits[-1] + 1:]}


def rules() -> dict[str, Any]:
    """The ranking's rule constants and the controls' accepted ranges (declared in state/schema.py)."""
    bounds = {key: [FIELD[key].low, FIELD[key].high] for key in RANKING_KEYS if key != "criterion"}
    return {"criteria": list(CRITERIA), "minRelativePeak": MIN_RELATIVE_PEAK, "bounds": bounds}


def words() -> dict[str, Any]:
    return {
        "title": _("#{rank} · filter {index} · score {score} · sparsity {sparsity}"),
        "option": _("#{rank} · filter {index}"),
        "name": _("Filter {index}"),
        "marks": number_marks(),
    }


def slot_template() -> dict[str, Any]:
    """A map slot and its hidden "open" button (pages/heatmaps.py), as the JSON the renderer mounts."""
    slot = [heatmap_slot(SLOT_TEMPLATE_ID, title=""),
            html.Button(id={"type": "heat-open", "index": SLOT_TEMPLATE_ID}, n_clicks=0, hidden=True,
                        tabIndex="-1", className="heat-open")]
    return json.loads(json.dumps(slot, cls=plotly.utils.PlotlyJSONEncoder))


def layer_bundle(view: LayerView) -> dict[str, Any]:
    """The bundle of the view's layer (see the module's docstring)."""
    maps = view.maps
    count, rows, cols = maps.shape
    template = json.loads(json.dumps(heatmap_of(view, maps[0], 0), cls=plotly.utils.PlotlyJSONEncoder))
    z = template["data"][0].pop("z")
    bits = 16 if z["dtype"] == "u2" else 8
    quantized, scales, descriptions = [], [], []
    for index in range(count):
        q, scale = quantize(maps[index], bits)
        quantized.append(base64.b64encode(q.astype(q.dtype.newbyteorder("<"), copy=False).tobytes()).decode())
        scales.append(scale)
        descriptions.append(describe_map(maps[index], _("Filter {index}").format(index=index)))
    return {
        "key": bundle_key(view), "count": int(count), "stats": stats_bytes(view.stats),
        "maps": quantized, "dtype": z["dtype"], "shape": z["shape"], "levels": (1 << bits) - 1,
        "scales": scales, "descriptions": descriptions, "template": template,
        "words": words(), "rules": rules(), "slot": slot_template(), "slotId": SLOT_TEMPLATE_ID,
        "size": [int(rows), int(cols)],
    }
