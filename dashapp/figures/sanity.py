"""The sanity check's figure: a pure function from ``SanityResult.as_dict()``
(``analysis/attribution/sanity.py``) to a plotly figure."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashapp.i18n import _, number, plotly_separators
from dashapp.wording.sanity import verdict_label

VERDICT_COLOURS = {"passed": "#198754", "failed": "#dc3545", "undecided": "#6c757d"}


def sanity_figure(result: dict[str, Any], height: int = 300) -> go.Figure:
    """Spearman rank correlation and SSIM of each cascade step's map against
    the original (``analysis/attribution/sanity.py``'s ``SanityResult.as_dict()``), with
    the pass threshold. An undefined correlation (constant map) is a gap, not 0."""
    steps = result["steps"]
    names = [f"{i}. {s['randomized']}" for i, s in enumerate(steps, start=1)]
    spearman = [s["spearman"] for s in steps]
    ssim_values = [s["ssim"] for s in steps]
    fig = go.Figure([
        go.Scatter(x=names, y=spearman, mode="lines+markers", name="|Spearman ρ|", line={"color": "#0d6efd"},
                   hovertemplate=_("after randomizing %{x}: |ρ| %{y:.2f}") + "<extra></extra>"),
        go.Scatter(x=names, y=ssim_values, mode="lines+markers", name="SSIM", line={"color": "#fd7e14", "dash": "dot"},
                   hovertemplate=_("after randomizing %{x}: SSIM %{y:.2f}") + "<extra></extra>"),
    ])
    fig.add_hline(y=result["threshold"], line={"color": "#6c757d", "dash": "dash", "width": 1},
                  annotation_text=_("pass below {threshold}").format(threshold=number(result["threshold"], 1)),
                  annotation_position="top right")
    low = min([0.0, *[v for v in ssim_values if v is not None]])
    fig.update_layout(
        template="none", height=height, margin={"l": 50, "r": 20, "t": 40, "b": 90},
        yaxis={"range": [low - 0.05, 1.05], "title": {"text": _("similarity to the original map")}},
        xaxis={"title": {"text": _("cumulative randomization, top down")}},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        title={"text": verdict_label(result["verdict"]), "x": 0.99, "xanchor": "right",
               "font": {"size": 14, "color": VERDICT_COLOURS.get(result["verdict"], "#212529")}},
        meta={"kind": "sanity", "verdict": result["verdict"]}, separators=plotly_separators(),
    )
    return fig
