"""The sanity check's verdict in the reader's language, from the facts of
``SanityResult.as_dict()`` (``analysis/sanity.py``: its ``reason`` code, the
last step and the threshold). The analysis stays free of wording; a result
stored before results carried a ``reason`` is worded from its steps."""

from __future__ import annotations

from typing import Any

from .i18n import _, number


def reason_of(result: dict[str, Any]) -> str:
    """The stored reason, or the one its verdict and steps imply."""
    reason = result.get("reason")
    if isinstance(reason, str) and reason:
        return reason
    steps = result.get("steps") or []
    if result.get("verdict") == "passed":
        return "below_threshold"
    if result.get("verdict") == "failed":
        return "above_threshold"
    if not steps:
        return "nothing_to_randomize"
    # A constant original leaves every step without a correlation.
    return "constant_original" if all(s.get("spearman") is None for s in steps) else "evidence_vanished"


def sanity_sentence(result: dict[str, Any]) -> str:
    """The verdict in plain words."""
    reason = reason_of(result)
    steps = result.get("steps") or []
    last = steps[-1] if steps else {}
    facts = {"unit": last.get("randomized", ""), "threshold": number(float(result.get("threshold", 0.5)), 1)}
    if reason == "constant_original":
        return _("Undecided: the original map is constant (no evidence to compare), so there is nothing whose "
                 "change could be measured.")
    if reason == "nothing_to_randomize":
        return _("Undecided: there is no layer above this one to randomize.")
    if reason == "evidence_vanished" or last.get("spearman") is None:
        return _("Undecided: after randomizing down to {unit} the map is constant (the evidence vanished), so its "
                 "rank correlation is undefined.").format(**facts)
    rho = number(float(last["spearman"]), 2)
    if reason == "below_threshold":
        return _("Passed: with the model randomized down to {unit} the map's rank correlation with the original "
                 "fell to {rho} (below {threshold}), so the map depends on what the model learned."
                 ).format(rho=rho, **facts)
    return _("Failed: even with the model randomized down to {unit} the map keeps a rank correlation of {rho} with "
             "the original (at least {threshold}); it shows the image more than the model, so do not read it as "
             "the model's reasons.").format(rho=rho, **facts)
