"""The Class evidence page words the sanity verdict by the weights it ran on:
under untrained (random) weights a pass says nothing about learned features."""

from __future__ import annotations

from dashapp.pages import evidence
from tests.support.visible_text import visible_text

PASSED = {"verdict": "passed", "reason": "below_threshold", "threshold": 0.5,
          "steps": [{"randomized": "fc", "spearman": 0.2, "ssim": 0.1}]}


def test_the_verdict_under_untrained_weights_disclaims_learned_features() -> None:
    untrained = visible_text(evidence._sanity_panel(PASSED, pretrained=False))
    assert "so the map depends on the model's weights" in untrained
    assert "The weights are untrained (random), so this check says nothing about learned features." in untrained
    trained = visible_text(evidence._sanity_panel(PASSED, pretrained=True))
    assert "depends on the model's weights" in trained and "untrained" not in trained
    assert "what the model learned" not in trained + untrained
