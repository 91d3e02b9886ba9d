"""The sanity check's verdict in words (``analysis/sanity.py``'s reason
codes), in the reader's language."""

from __future__ import annotations

from typing import Any

from ..i18n import N_, _, number

VERDICTS = {"passed": N_("Passed"), "failed": N_("Failed"), "undecided": N_("Undecided")}


def verdict_label(verdict: str) -> str:
    return _(VERDICTS[verdict]) if verdict in VERDICTS else verdict


def verdict_sentence(result: dict[str, Any]) -> str:
    """The verdict of ``SanityResult.as_dict()`` in a sentence."""
    reason = result.get("reason")
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
    if reason == "below_threshold":
        return _("Passed: with the model randomized down to {unit} the map's rank correlation with the original fell "
                 "to {rho} (below {threshold}), so the map depends on what the model learned.").format(
            unit=unit, rho=number(last["spearman"], 2), threshold=threshold)
    if reason == "above_threshold":
        return _("Failed: even with the model randomized down to {unit} the map keeps a rank correlation of {rho} "
                 "with the original (at least {threshold}); it shows the image more than the model, so do not read "
                 "it as the model's reasons.").format(unit=unit, rho=number(last["spearman"], 2), threshold=threshold)
    return str(result.get("sentence", ""))  # a result stored before reasons existed keeps its own words


def with_sentence(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its verdict said in the current language under "sentence"."""
    return {**result, "sentence": verdict_sentence(result)}
