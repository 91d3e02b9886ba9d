"""Figures of the Compare page (pure: numbers in, figures out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from dashapp.figures.maps import PROFILE_MARGIN
from dashapp.i18n import plotly_separators

SIDE_COLOURS = ("#0d6efd", "#fd7e14")  # first subject blue, second orange, everywhere on the page


def profile_overlay_figure(profiles: Sequence[Sequence[Mapping[str, object]]], names: Sequence[str], measure: str,
                           title: str, tags: Sequence[str] | None = None, height: int = 340) -> go.Figure:
    """Both subjects' layer profiles overlaid: one box per layer and subject
    (``measure``: "mean" or "sparsity" of every filter), side by side.

    With ``tags`` (two architectures: no layer in common) each subject's
    layers are its own categories, named "<tag> <layer>", one after the other."""
    fig = go.Figure()
    for side, (rows, name, colour) in enumerate(zip(profiles, names, SIDE_COLOURS, strict=False)):
        prefix = f"{tags[side]} " if tags else ""
        xs = np.concatenate([np.repeat(prefix + str(row["layer"]), len(row[measure]))  # type: ignore[arg-type]
                             for row in rows])
        ys = np.concatenate([np.asarray(row[measure], dtype=np.float32) for row in rows])
        fig.add_trace(go.Box(x=xs, y=ys, name=name, marker_color=colour, boxpoints=False, offsetgroup=name))
    # The title on top, the legend on its own line under it, left-aligned: on a
    # phone the two no longer overlap.
    fig.update_layout(template="none", height=height, margin={**PROFILE_MARGIN, "t": 80},
                      boxmode="overlay" if tags else "group",
                      title={"text": title, "font": {"size": 14}, "y": 0.98, "yanchor": "top"}, showlegend=True,
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
                      separators=plotly_separators())
    return fig
