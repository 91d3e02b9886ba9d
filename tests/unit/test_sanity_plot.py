"""The sanity check's figure."""

from __future__ import annotations

from dashapp.sanity_plot import sanity_figure


def test_sanity_figure_plots_both_measures_and_leaves_undefined_steps_blank() -> None:
    result = {"verdict": "undecided", "sentence": "…", "threshold": 0.5,
              "steps": [{"randomized": "fc", "spearman": 0.3, "ssim": -0.2},
                        {"randomized": "layer4.1", "spearman": None, "ssim": 0.1}]}
    fig = sanity_figure(result)
    spearman, ssim = fig.data
    assert list(spearman.x) == ["1. fc", "2. layer4.1"] and list(spearman.y) == [0.3, None]
    assert list(ssim.y) == [-0.2, 0.1] and fig.layout.yaxis.range[0] < -0.2
    assert fig.layout.meta["verdict"] == "undecided" and fig.layout.shapes[0].y0 == 0.5
