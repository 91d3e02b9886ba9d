"""A sanity result stored before results carried a reason gets the one its
verdict and steps imply; the figure in Spanish. (The sentences: test_sanity.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from dashapp import i18n
from dashapp.analysis.attribution.sanity import REASONS
from dashapp.figures.sanity import sanity_figure
from dashapp.wording.sanity import reason_of


def result(reason: str | None, verdict: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    answer: dict[str, Any] = {"verdict": verdict, "threshold": 0.5, "steps": steps}
    if reason is not None:
        answer["reason"] = reason
    return answer


STEP = {"randomized": "layer4.1", "spearman": 0.123, "ssim": 0.4}
CASES = {
    "constant_original": ("undecided", [{"randomized": "fc", "spearman": None, "ssim": 1.0}],
                          "Undecided: the original map is constant", "Indeterminada: el mapa original es constante"),
    "nothing_to_randomize": ("undecided", [], "no layer above this one", "ninguna capa por encima de esta"),
    "vanished": ("undecided", [{"randomized": "fc", "spearman": 0.9, "ssim": 0.5},
                                        {"randomized": "layer4.1", "spearman": None, "ssim": 0.0}],
                          "after randomizing down to layer4.1 the map is constant",
                          "tras aleatorizar hasta layer4.1, el mapa es constante"),
    "below_threshold": ("passed", [STEP], "fell to 0.12 (below 0.5)", "cayó a 0,12 (por debajo de 0,5)"),
    "above_threshold": ("failed", [{**STEP, "spearman": 0.876}], "keeps a rank correlation of 0.88",
                        "mantiene una correlación de rangos de 0,88"),
}


def test_every_reason_of_the_analysis_is_worded() -> None:
    assert set(CASES) == set(REASONS)


@pytest.mark.parametrize("reason", REASONS)
def test_a_result_stored_without_a_reason_gets_the_one_its_steps_imply(reason: str) -> None:
    verdict, steps, _english, _spanish = CASES[reason]
    assert reason_of(result(None, verdict, steps)) == reason


def test_the_figure_speaks_spanish() -> None:
    with i18n.speaking("es"):
        fig = sanity_figure(result("below_threshold", "passed", [STEP]))
    assert fig.layout.title.text == "Superada" and fig.layout.separators == ",."
    assert fig.layout.yaxis.title.text == "similitud con el mapa original"
    assert fig.layout.annotations[0].text == "se supera por debajo de 0,5"
    assert fig.data[0].hovertemplate.startswith("tras aleatorizar %{x}: |ρ| %{y:.2f}")
