"""The interface language: catalogs, the context language, locale numbers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from dashapp import i18n
from dashapp.i18n import _

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))
import i18n as catalogs  # noqa: E402  (scripts/i18n.py: the catalogs' own checks)

# Placeholders a translation must keep: {name}, {0}, {:.2f}, %s, %(name)s, %d.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sdfr]|%[sdfr]")


def read(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def test_the_catalogs_hold_every_string_of_the_code_translated_and_none_fuzzy() -> None:
    # Extracts the code's strings afresh (pybabel extract) and compares: a
    # string added without a translation fails here.
    assert catalogs.problems() == []


def test_the_check_fails_on_a_string_the_catalogs_lack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('from dashapp.i18n import _\nTEXT = _("A sentence no catalog holds")\n')
    real_extract = catalogs.extract

    def extract_with_plant(output: Path = catalogs.TEMPLATE) -> None:
        real_extract(output)
        text = output.read_text() + '\nmsgid "A sentence no catalog holds"\nmsgstr ""\n'
        output.write_text(text)

    monkeypatch.setattr(catalogs, "extract", extract_with_plant)
    assert any("A sentence no catalog holds" in problem for problem in catalogs.problems())


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_translation_keeps_the_placeholders_of_its_source(language: str) -> None:
    checked = 0
    for message in read(language):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(sources[-1]))
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == wanted, (message.id, string)
        checked += 1
    assert checked > 0


def test_a_string_is_translated_in_the_language_of_the_context_only() -> None:
    source = "The view state could not be read; reload the page."
    with i18n.speaking("es"):
        spanish = _(source)
    assert spanish != source and "recarga" in spanish
    with i18n.speaking("en"):
        assert _(source) == source
    assert _(source) == source  # outside: English, the default


def test_an_unknown_language_is_english_and_use_ignores_it() -> None:
    with i18n.speaking("xx"):
        assert i18n.current() == "en"
        i18n.use("de")
        assert i18n.current() == "en"
        i18n.use("es")
        assert i18n.current() == "es"


def test_numbers_and_percentages_follow_the_locale() -> None:
    with i18n.speaking("en"):
        assert (i18n.number(1234.5678, 3), i18n.percent(0.153), i18n.percent(0.1534, 1)) == (
            "1,234.568", "15%", "15.3%")
        assert i18n.plotly_separators() == ".,"
    with i18n.speaking("es"):
        assert i18n.number(0.5, 2) == "0,50"
        assert i18n.number(12345.5, 1) == "12.345,5"
        assert i18n.percent(0.153).replace("\xa0", " ") == "15 %"
        assert i18n.percent(0.1534, 1).replace("\xa0", " ") == "15,3 %"
        assert i18n.plotly_separators() == ",."
        assert i18n.integer(12345) == "12.345"


def test_spanish_plural_forms_choose_by_count() -> None:
    # No catalog entry: gettext falls back to the English forms by count.
    with i18n.speaking("es"):
        assert i18n.ngettext("{n} filter", "{n} filters", 1) == "{n} filter"
        assert i18n.ngettext("{n} filter", "{n} filters", 3) == "{n} filters"


@pytest.mark.parametrize(("value", "english", "spanish"), [
    (0.09999, "0.1", "0,1"),  # rounding adds a digit: Babel's pattern alone answered "0.01"
    (9.9996, "10", "10"),
    (0.126, "0.126", "0,126"),
    (-0.0004567, "-0.000457", "-0,000457"),
])
def test_significant_digits_carry_when_rounding_adds_a_digit(value: float, english: str, spanish: str) -> None:
    assert i18n.significant(value) == english
    with i18n.speaking("es"):
        assert i18n.significant(value) == spanish
