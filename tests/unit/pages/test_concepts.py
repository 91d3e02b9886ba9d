"""The Concepts page's words and figure: progress per state, a sentence only
for a significant result, chance noted, insignificant bars grey."""

from __future__ import annotations

from dashapp import i18n
from dashapp.figures.concepts import INSIGNIFICANT, SIGNIFICANT, concept_figure
from dashapp.pages.concepts import layout, status_text
from dashapp.wording.concepts import chance_note, finding


def row(layer: str, score: float, p: float, significant: bool, accuracy: float = 0.9) -> dict:
    return {"layer": layer, "score_mean": score, "score_std": 0.05, "p_value": p, "significant": significant,
            "cav_accuracy": accuracy, "null_mean": 0.5, "null_std": 0.2}


def test_progress_says_where_the_job_is() -> None:
    assert status_text({"state": "running", "done": 3, "total": 10, "eta_s": 12.0}) == \
        "Testing: step 3 of 10 · about 12 s left."
    assert status_text({"state": "done", "done": 10, "total": 10}) == "Tested: 10 steps."
    assert "Cancelled at step 3 of 10" in status_text({"state": "cancelled", "done": 3, "total": 10})
    assert "boom" in status_text({"state": "failed", "error": "boom"})
    assert "press Test" in status_text({})


def test_only_a_significant_result_is_a_finding() -> None:
    assert finding(row("layer4", 0.92, 0.0004, True), "striped", "zebra") == \
        "At layer4, “striped” raises the “zebra” score for 92% of the “zebra” images (p < 0.001)."
    lowered = finding(row("layer3", 0.1, 0.004, True), "striped", "zebra")
    assert lowered is not None and "lowers" in lowered and "p = 0.004" in lowered
    assert finding(row("layer2", 0.8, 0.2, False), "striped", "zebra") is None
    assert "does not represent" in (chance_note(row("layer1", 0.5, 0.5, False, 0.52), "striped") or "")
    assert chance_note(row("layer1", 0.5, 0.5, False, 0.95), "striped") is None
    with i18n.speaking("es"):
        assert "eleva la puntuación" in (finding(row("layer4", 0.92, 0.0004, True), "rayas", "cebra") or "")


def test_the_figure_greys_insignificant_layers_and_marks_significant_ones() -> None:
    figure = concept_figure([row("layer3", 0.6, 0.3, False), row("layer4", 0.95, 0.001, True)], "striped")
    bars = figure.data[0]
    assert list(bars.marker.color) == [INSIGNIFICANT, SIGNIFICANT]
    assert list(bars.text) == ["", "*"]
    assert figure.layout.meta["significant"] == ["layer4"]
    assert [trace.name for trace in figure.data] == ["TCAV score", "random baseline", "CAV accuracy"]


def test_the_layout_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = str(layout())
    assert "Colecciones de concepto" in text and "Probar" in text and "Colección aleatoria" in text
