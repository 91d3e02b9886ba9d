"""Every piece of text a Dash component tree puts in front of a person:
children, and the props a browser shows or reads aloud (placeholder, alt,
title, aria-label, option labels). For tests of the interface language."""

from __future__ import annotations

import re
from typing import Any

SHOWN_PROPS = ("placeholder", "alt", "title", "aria-label")


def visible_texts(node: Any) -> list[str]:
    if node is None or isinstance(node, bool):
        return []
    if isinstance(node, str):
        return [node] if node.strip() else []
    if isinstance(node, int | float):
        return [str(node)]
    if isinstance(node, list | tuple):
        return [text for child in node for text in visible_texts(child)]
    if isinstance(node, dict):  # an option {"label": ..., "value": ...}
        return visible_texts(node.get("label"))
    props = node.to_plotly_json().get("props", {}) if hasattr(node, "to_plotly_json") else {}
    found = visible_texts(props.get("children"))
    for name in SHOWN_PROPS:
        found += visible_texts(props.get(name))
    found += visible_texts(props.get("options"))
    return found


def visible_text(node: Any) -> str:
    """All of it in one string, one piece per line."""
    return "\n".join(visible_texts(node))


def has_words(words: str, text: str) -> bool:
    """Whether ``words`` occur in ``text`` as whole words ("Cancel" is not in "Cancelar")."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None
