"""What a person reads (or a screen reader says) from a Dash layout, for the
language tests: texts, and the words in attributes (placeholders, alt texts,
titles, aria-labels, option labels, table column names)."""

from __future__ import annotations

import re
from typing import Any

from babel.messages.pofile import read_po

from dashapp import i18n

WORD_PROPS = ("placeholder", "alt", "title", "aria-label", "label", "legend")


def visible_text(component: Any) -> str:
    """Every word of ``component`` and its descendants, one piece per line."""
    pieces: list[str] = []
    _collect(component, pieces)
    return "\n".join(pieces)


def _collect(node: Any, pieces: list[str]) -> None:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, str | int | float):
        pieces.append(str(node))
        return
    if isinstance(node, list | tuple):
        for child in node:
            _collect(child, pieces)
        return
    if isinstance(node, dict):  # an option {"label", "value"} or a table column {"name", "id"}
        for key in ("label", "name"):
            if isinstance(node.get(key), str):
                pieces.append(node[key])
        return
    for prop in WORD_PROPS:
        value = getattr(node, prop, None)
        if isinstance(value, str):
            pieces.append(value)
    for prop in ("options", "columns"):
        _collect(getattr(node, prop, None), pieces)
    _collect(getattr(node, "children", None), pieces)


def has_words(words: str, text: str) -> bool:
    """Whether ``words`` occur in ``text`` as whole words ("Cancel" is not in "Cancelar")."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def english_sentences_in(text: str) -> list[str]:
    """The catalog's English sentences (several words, no placeholder) that
    ``text`` still shows although Spanish words them differently."""
    with i18n.catalog_path("es").open("rb") as handle:
        catalog = read_po(handle, locale="es")
    found = []
    for message in catalog:
        if not isinstance(message.id, str) or " " not in message.id or "{" in message.id:
            continue
        if message.string and message.string != message.id and has_words(message.id, text):
            found.append(message.id)
    return found
