"""The sanity check's figure."""

from __future__ import annotations

from dashapp import i18n
from dashapp.figures.sanity import sanity_figure


def test_sanity_figure_plots_both_measures_and_leaves_undefined_steps_blank() -> None:
    result = {"verdict": "undecided", "sentence": "…", "threshold": 0.5,
              "steps": [{"randomized": "fc", "spearman": 0.3, "ssim": -0.2},
                        {"randomized": "layer4.1", "spearman": None, "ssim": 0.1}]}
    fig = sanity_figure(result)
    spearman, ssim = fig.data
    assert list(spearman.x) == ["1. fc", "2. layer4.1"] and list(spearman.y) == [0.3, None]
    assert list(ssim.y) == [-0.2, 0.1] and fig.layout.yaxis.range[0] < -0.2
    assert fig.layout.meta["verdict"] == "undecided" and fig.layout.shapes[0].y0 == 0.5


def test_sanity_figure_in_spanish() -> None:
    result = {"verdict": "failed", "reason": "above_threshold", "threshold": 0.5,
              "steps": [{"randomized": "fc", "spearman": 0.9, "ssim": 0.8}]}
    with i18n.speaking("es"):
        fig = sanity_figure(result)
    assert fig.layout.title.text == "No superada" and fig.layout.separators == ",."
    assert fig.layout.yaxis.title.text == "similitud con el mapa original"
    assert fig.layout.xaxis.title.text == "aleatorización acumulada, de arriba abajo"
    assert fig.layout.annotations[0].text == "se supera por debajo de 0,5"
    assert fig.data[0].hovertemplate == "tras aleatorizar %{x}: |ρ| %{y:.2f}<extra></extra>"
