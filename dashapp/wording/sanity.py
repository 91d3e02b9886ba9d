"""The sanity check's verdict in words (``analysis/attribution/sanity.py``'s reason
codes), in the reader's language."""

from __future__ import annotations

from typing import Any

from ..i18n import N_, _, number

VERDICTS = {"passed": N_("Passed"), "failed": N_("Failed"), "undecided": N_("Undecided")}


def verdict_label(verdict: str) -> str:
    return _(VERDICTS[verdict]) if verdict in VERDICTS else verdict


def reason_of(result: dict[str, Any]) -> str:
    """The stored reason, or, for a result stored before results carried one,
    the reason its verdict and steps imply."""
    reason = result.get("reason")
    if isinstance(reason, str) and reason:
        return reason
    steps = result.get("steps") or []
    if result.get("verdict") in ("passed", "failed"):
        return "below_threshold" if result["verdict"] == "passed" else "above_threshold"
    if not steps:
        return "nothing_to_randomize"
    # A constant original leaves every step without a correlation.
    return "constant_original" if all(s.get("spearman") is None for s in steps) else "vanished"


def verdict_sentence(result: dict[str, Any], pretrained: bool = True) -> str:
    """The verdict of ``SanityResult.as_dict()`` in a sentence. The check
    tests whether the map depends on the model's weights; under untrained
    (random) ``pretrained=False`` weights the sentence adds that this says
    nothing about learned features."""
    said = _tested_sentence(result)
    if pretrained:
        return said
    return said + " " + _("The weights are untrained (random), so this check says nothing about learned features.")


def _tested_sentence(result: dict[str, Any]) -> str:
    reason = reason_of(result)
    steps = result.get("steps") or []
    last = steps[-1] if steps else {}
    unit = last.get("randomized", "")
    threshold = number(float(result.get("threshold", 0.5)), 1)
    if reason == "constant_original":
        return _("Undecided: the original map is constant (no evidence to compare), so there is nothing whose change "
                 "could be measured.")
    if reason == "nothing_to_randomize":
        return _("Undecided: there is no layer above this one to randomize.")
    if reason == "vanished":
        return _("Undecided: after randomizing down to {unit} the map is constant (the evidence vanished), so its "
                 "rank correlation is undefined.").format(unit=unit)
    if reason in ("below_threshold", "above_threshold") and last.get("spearman") is None:
        return str(result.get("sentence", ""))  # an old result too short to word again keeps its stored words
    if reason == "below_threshold":
        return _("Passed: with the model randomized down to {unit} the map's rank correlation with the original fell "
                 "to {rho} (below {threshold}), so the map depends on the model's weights.").format(
            unit=unit, rho=number(last["spearman"], 2), threshold=threshold)
    if reason == "above_threshold":
        return _("Failed: even with the model randomized down to {unit} the map keeps a rank correlation of {rho} "
                 "with the original (at least {threshold}); it shows the image more than the model, so do not read "
                 "it as the model's reasons.").format(unit=unit, rho=number(last["spearman"], 2), threshold=threshold)
    return str(result.get("sentence", ""))  # so does a reason this version does not know


def with_sentence(result: dict[str, Any], pretrained: bool = True) -> dict[str, Any]:
    """``result`` with its verdict said in the current language under "sentence"."""
    return {**result, "sentence": verdict_sentence(result, pretrained)}
