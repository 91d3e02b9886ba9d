"""A concept test's results in plain words: one sentence per significant
result, and a note where a layer does not represent the concept at all."""

from __future__ import annotations

from typing import Any

from ..i18n import _, number, percent, quoted

CHANCE_ACCURACY = 0.6  # a CAV below this held-out accuracy separates the concept barely better than a coin


def p_text(p: float) -> str:
    return _("p < {value}").format(value=number(0.001, 3)) if p < 0.001 else \
        _("p = {value}").format(value=number(p, 3))


def finding(row: dict[str, Any], concept: str, category: str) -> str | None:
    """The sentence for a significant result; None for an insignificant one (never a finding)."""
    if not row["significant"]:
        return None
    words = {"layer": row["layer"], "concept": quoted(concept), "category": quoted(category),
             "share": percent(row["score_mean"]), "p": p_text(row["p_value"])}
    if row["score_mean"] >= row["null_mean"]:
        return _("At {layer}, {concept} raises the {category} score for {share} of the {category} images "
                 "({p}).").format(**words)
    return _("At {layer}, {concept} lowers the {category} score: it rises along the concept for only {share} "
             "of the {category} images ({p}).").format(**words)


def chance_note(row: dict[str, Any], concept: str) -> str | None:
    """Where the CAV is near 50 % accuracy the layer does not represent the concept: say so."""
    if row["cav_accuracy"] >= CHANCE_ACCURACY:
        return None
    return _("At {layer}, the concept's direction tells {concept} from random images only {accuracy} of the time "
             "(chance is 50 %): this layer does not represent the concept.").format(
        layer=row["layer"], concept=quoted(concept), accuracy=percent(row["cav_accuracy"]))
