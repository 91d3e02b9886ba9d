"""The sanity check's verdict in words, in English and Spanish, for every reason."""

from __future__ import annotations

import pytest

from dashapp import i18n
from dashapp.analysis.attribution.sanity import REASONS
from dashapp.wording.sanity import verdict_label, verdict_sentence, with_sentence

from .leaks import english_words


def result(reason: str) -> dict[str, object]:
    steps = [{"randomized": "fc", "spearman": 0.9, "ssim": 0.5},
             {"randomized": "layer4.1", "spearman": {"below_threshold": 0.12, "above_threshold": 0.83,
                                                     "vanished": None}.get(reason, 0.3), "ssim": 0.1}]
    return {"verdict": REASONS[reason], "reason": reason, "threshold": 0.5,
            "steps": [] if reason == "nothing_to_randomize" else steps}


EXPECTED = {
    "constant_original": (
        "Undecided: the original map is constant (no evidence to compare), so there is nothing whose change could be "
        "measured.",
        "Sin decidir: el mapa original es constante (no hay evidencia que comparar), así que no hay ningún cambio que "
        "medir."),
    "nothing_to_randomize": ("Undecided: there is no layer above this one to randomize.",
                             "Sin decidir: no hay ninguna capa por encima de esta que aleatorizar."),
    "vanished": (
        "Undecided: after randomizing down to layer4.1 the map is constant (the evidence vanished), so its rank "
        "correlation is undefined.",
        "Sin decidir: tras aleatorizar hasta layer4.1, el mapa es constante (la evidencia desapareció), así que su "
        "correlación de rangos no está definida."),
    "below_threshold": (
        "Passed: with the model randomized down to layer4.1 the map's rank correlation with the original fell to "
        "0.12 (below 0.5), so the map depends on the model's weights.",
        "Superada: con el modelo aleatorizado hasta layer4.1, la correlación de rangos del mapa con el original bajó "
        "a 0,12 (por debajo de 0,5), así que el mapa depende de los pesos del modelo."),
    "above_threshold": (
        "Failed: even with the model randomized down to layer4.1 the map keeps a rank correlation of 0.83 with the "
        "original (at least 0.5); it shows the image more than the model, so do not read it as the model's reasons.",
        "No superada: incluso con el modelo aleatorizado hasta layer4.1, el mapa mantiene una correlación de rangos de "
        "0,83 con el original (0,5 o más); muestra la imagen más que el modelo, así que no lo leas como las razones "
        "del modelo."),
}


@pytest.mark.parametrize("reason", list(REASONS))
def test_every_reason_in_both_languages(reason: str) -> None:
    english, spanish = EXPECTED[reason]
    assert verdict_sentence(result(reason)) == english
    with i18n.speaking("es"):
        said = verdict_sentence(result(reason))
    assert said == spanish and english_words(said) == set()


def test_labels_and_the_sentence_field() -> None:
    assert [verdict_label(v) for v in ("passed", "failed", "undecided")] == ["Passed", "Failed", "Undecided"]
    with i18n.speaking("es"):
        assert [verdict_label(v) for v in ("passed", "failed", "undecided")] == ["Superada", "No superada",
                                                                                "Sin decidir"]
        worded = with_sentence(result("below_threshold"))
    assert worded["sentence"].startswith("Superada:") and worded["reason"] == "below_threshold"
    assert "sentence" not in result("below_threshold")  # the stored facts are left as they are


def test_a_result_stored_before_reasons_is_worded_again_from_its_steps() -> None:
    old = {"verdict": "passed", "sentence": "Passed: stored in English.", "threshold": 0.5,
           "steps": [{"randomized": "layer4.1", "spearman": 0.12, "ssim": 0.1}]}
    with i18n.speaking("es"):
        assert verdict_sentence(old) == EXPECTED["below_threshold"][1]
    # Without a step to word it from, it keeps the words it was stored with.
    assert verdict_sentence({**old, "steps": []}) == "Passed: stored in English."


UNTRAINED = (" The weights are untrained (random), so this check says nothing about learned features.",
             " Los pesos no están entrenados (son aleatorios), así que este sanity check no dice nada sobre las "
             "características aprendidas.")


@pytest.mark.parametrize("reason", list(REASONS))
def test_under_untrained_weights_every_verdict_says_it_is_not_about_learning(reason: str) -> None:
    # What the check tests is dependence on the weights, whatever they are: a
    # pass under random weights must not read as "the model learned" this.
    english, spanish = EXPECTED[reason]
    said = verdict_sentence(result(reason), pretrained=False)
    assert said == english + UNTRAINED[0]
    assert "learned" not in verdict_sentence(result(reason))  # nor with real weights: "learned" is not what it tests
    with i18n.speaking("es"):
        assert verdict_sentence(result(reason), pretrained=False) == spanish + UNTRAINED[1]
        assert with_sentence(result(reason), False)["sentence"] == spanish + UNTRAINED[1]
