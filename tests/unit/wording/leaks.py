"""Shared check: a Spanish text holds no word of English."""

from __future__ import annotations

import re

# Words the wording's English uses; none may appear in a Spanish text ("sparsity",
# "ranking" and "kernel" excepted: Spanish ML readers use them as they are, as
# the seed app's README.es does).
ENGLISH = {
    "the", "of", "and", "is", "are", "it", "its", "this", "on", "in", "at", "to", "than", "filter", "filters",
    "layer", "image", "region", "regions", "selective", "selectivity", "mean", "peak", "response",
    "evidence", "weights", "model", "silent", "positions", "strongest", "stronger", "weaker", "most", "small",
    "medium", "large", "very", "background", "warning", "likely", "untrained", "random", "unsure", "class", "top",
    "only", "showing", "instead", "below", "above", "eligible", "weak", "too", "minimum", "all", "block", "stage",
    "branch", "identity", "output", "conv", "first", "second", "third", "last", "shortcut", "upper", "lower",
    "middle", "left", "right", "centre", "half", "areas", "nowhere", "anywhere", "passed", "failed", "undecided",
    "randomized", "randomizing", "rank", "correlation", "map", "click", "details", "probability",
    "with", "without", "whose", "there", "nothing", "learned", "pattern", "responds", "fires", "colour", "lighting",
}


def english_words(text: str) -> set[str]:
    """The English words in ``text`` (identifiers such as layer4.1.conv2 left out)."""
    words = set(re.findall(r"(?<![\w.])[A-Za-z]+(?![\w.])", text))
    return {word for word in words if word.lower() in ENGLISH}
