"""A concept test's figure: a pure function from one concept's result rows
(``service.concepts``: one per layer) to a plotly figure. Top: the TCAV
score per layer with its spread over the runs, the random-vs-random
baseline, significant results marked; insignificant ones grey. Bottom: the
CAV's held-out accuracy per layer against chance."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashapp.figures.axes import percent_axis
from dashapp.i18n import _, percent, plotly_separators

SIGNIFICANT = "#0d6efd"
INSIGNIFICANT = "#adb5bd"
BASELINE = "#6c757d"
ACCURACY = "#198754"


def concept_figure(rows: list[dict[str, Any]], title: str, height: int = 420) -> go.Figure:
    layers = [row["layer"] for row in rows]
    marks = ["*" if row["significant"] else "" for row in rows]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.08)
    fig.add_trace(go.Bar(
        x=layers, y=[row["score_mean"] for row in rows], name=_("TCAV score"),
        marker={"color": [SIGNIFICANT if row["significant"] else INSIGNIFICANT for row in rows]},
        error_y={"type": "data", "array": [row["score_std"] for row in rows], "color": "#212529"},
        text=marks, textposition="outside", cliponaxis=False,
        customdata=[[row["p_value"], _("significant") if row["significant"] else _("not significant")]
                    for row in rows],
        hovertemplate=_("%{x}: score %{y:.2f} (p %{customdata[0]:.3g}, %{customdata[1]})") + "<extra></extra>",
    ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=layers, y=[row["null_mean"] for row in rows], name=_("random baseline"), mode="markers+lines",
        line={"color": BASELINE, "dash": "dash"},
        error_y={"type": "data", "array": [row["null_std"] for row in rows], "color": BASELINE},
        hovertemplate=_("%{x}: random baseline %{y:.2f}") + "<extra></extra>",
    ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=layers, y=[row["cav_accuracy"] for row in rows], name=_("CAV accuracy"), mode="markers+lines",
        line={"color": ACCURACY}, customdata=[percent(row["cav_accuracy"]) for row in rows],
        hovertemplate=_("%{x}: CAV accuracy %{customdata}") + "<extra></extra>",
    ), row=2, col=1)
    fig.add_hline(y=0.5, line={"color": BASELINE, "dash": "dot", "width": 1}, row=2, col=1,
                  annotation_text=_("chance"), annotation_position="bottom right")
    fig.update_yaxes(range=[0, 1.15], title={"text": _("TCAV score")}, row=1, col=1)
    fig.update_yaxes(**percent_axis(1.0, pad=1.05), title={"text": _("CAV accuracy")}, row=2, col=1)
    fig.update_layout(
        template="none", height=height, margin={"l": 60, "r": 20, "t": 50, "b": 60},
        title={"text": title, "x": 0, "font": {"size": 15}},
        legend={"orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"},
        meta={"kind": "concept", "significant": [row["layer"] for row in rows if row["significant"]]},
        separators=plotly_separators(),
    )
    return fig
