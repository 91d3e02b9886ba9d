"""The words of the browser scripts: every key they ask for exists, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashapp import i18n
from dashapp.i18n.browser import browser_strings

ASSETS = Path(__file__).resolve().parents[3] / "assets"
ASKED = re.compile(r'uiText\("(\w+)",\s*"((?:[^"\\]|\\.)*)"')


def asked_by_the_scripts() -> dict[str, str]:
    """key -> the English fallback the script carries (its first literal)."""
    found: dict[str, str] = {}
    for name in ("dashapp.js", "a11y.js"):
        for key, fallback in ASKED.findall((ASSETS / "js" / name).read_text()):
            found.setdefault(key, fallback)
    return found


def test_every_word_a_script_asks_for_is_served_and_matches_its_english_fallback() -> None:
    asked = asked_by_the_scripts()
    assert {"hover", "uploadTooLarge", "copyLink", "sortBy", "openFilter"} <= set(asked)
    with i18n.speaking("en"):
        served = browser_strings()
    for key, fallback in asked.items():
        assert key in served, key
        # The hover template is split over two literals in the script: its start must match.
        assert served[key].startswith(fallback), (key, fallback)


@pytest.mark.parametrize("key", ["hover", "filter", "uploadTooLarge", "copyLink", "sortBy", "openFilter"])
def test_spanish_words_keep_the_placeholders_the_scripts_fill(key: str) -> None:
    with i18n.speaking("en"):
        english = browser_strings()[key]
    with i18n.speaking("es"):
        spanish = browser_strings()[key]
    assert spanish != english
    assert sorted(re.findall(r"\{\w+\}", spanish)) == sorted(re.findall(r"\{\w+\}", english))
