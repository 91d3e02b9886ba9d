"""The interface language: gettext catalogs (Babel) and locale formatting.

Every user-facing string is written in English in the code and goes through
``_()`` (or ``ngettext`` for counts); ``pybabel extract`` collects them into
``dashapp/locale/messages.pot`` and each language's ``messages.po`` holds the
translations (``scripts/i18n`` runs extract / update / compile).

The language of the work at hand lives in a context variable: the web layer
sets it once per request (``i18n/negotiation.py``: the link's ``lang=``,
then the preference cookie, then ``Accept-Language``), and page callbacks set
it from the view state they receive, so background jobs in other processes
speak the user's language too. Strings defined at import time are marked with
``N_()`` and translated where they are shown.

Numbers and percentages go through ``number`` / ``percent`` (Babel's CLDR
formats): "0,153" and "15 %" in Spanish, "0.153" and "15%" in English.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern
from babel.support import Translations

LANGUAGES = ("en", "es")  # English is the source language
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language, as switches show them
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("dashapp_language", default=DEFAULT_LANGUAGE)


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language``, read from its ``.po`` once per
    process (compiled in memory, so a checkout never serves a stale ``.mo``).
    Fuzzy entries are left out, as ``pybabel compile`` leaves them out."""
    path = catalog_path(language)
    if language not in LANGUAGES or not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def known(language: object) -> str | None:
    """``language`` if the interface speaks it, else None."""
    return language if isinstance(language, str) and language in LANGUAGES else None


def current() -> str:
    return _language.get()


def use(language: str | None) -> None:
    """Speak ``language`` for the rest of this request or job; an unknown or
    missing one leaves the language as it is."""
    if known(language):
        _language.set(language)  # type: ignore[arg-type]


@contextlib.contextmanager
def speaking(language: str) -> Iterator[None]:
    """``language`` inside the block only (tests, a job for another user)."""
    token = _language.set(known(language) or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def _(message: str) -> str:
    """``message`` in the current language (itself when untranslated)."""
    return translations(current()).gettext(message)


gettext = _


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for ``count`` things, in the current language."""
    return translations(current()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` as used in ``context``, in the current language: where the
    same English word needs different translations in different places (a
    region is "pequeña", a filter "pequeño"; a field named in a message takes
    its article), ``context`` tells the translator which."""
    return translations(current()).pgettext(context, message)


def N_(message: str) -> str:  # the name gettext extractors look for
    """Marks a string for the catalog where it is defined (at import time,
    before any language is known); ``_()`` translates it where it is shown."""
    return message


# The app's name, translated like any other words (the Spanish original was
# "Analizador de Activaciones de CNN"): the navbar's brand and every page title.
APP_NAME = N_("CNN Activation Analyzer")


def app_name() -> str:
    return _(APP_NAME)


class Translated(Mapping[str, str]):
    """A table whose values are marked English words (``N_``), each read in
    the current language: a constant defined at import time that is shown in
    the reader's language wherever it is looked up."""

    def __init__(self, words: dict[str, str]) -> None:
        self._words = dict(words)

    def __getitem__(self, key: str) -> str:
        return _(self._words[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


def quoted(text: str) -> str:
    """``text`` in the current language's quotation marks: “text” in English,
    «text» in Spanish (the RAE's first choice, used throughout the catalog)."""
    return _("“{text}”").format(text=text)


# -- numbers in the reader's locale


# Babel parses a locale's name and a pattern's text again on every call given
# them as strings: a tenth of a warm answer went there. Parsed once here.
@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@functools.cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


@functools.cache
def percent_pattern(language: str, digits: int = 0) -> str:
    """The CLDR pattern ``percent`` writes with (assets/js/ranking.js reads its affixes)."""
    base = _locale(language).percent_formats[None].pattern  # "#,##0%" (en), "#,##0 %" (es)
    return base.replace("0", "0." + "0" * digits, 1) if digits > 0 else base


def number(value: float, digits: int = 2, *, grouping: bool = True) -> str:
    """``value`` with exactly ``digits`` decimals in the current locale."""
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=_pattern(pattern), locale=_locale(current()))


def significant(value: float, digits: int = 3) -> str:
    """``value`` to at most ``digits`` significant digits (what ``f"{value:.3g}"``
    shows, with the locale's decimal mark)."""
    # Rounded first: Babel's significant-digit pattern drops the carry when
    # rounding adds a digit (0.09999 came out "0.01").
    rounded = float(f"{value:.{digits}g}")
    return format_decimal(rounded, format=_pattern("@" + "#" * (digits - 1)), locale=_locale(current()))


def integer(value: int) -> str:
    return format_decimal(int(value), format=_pattern("#,##0"), locale=_locale(current()))


def percent(fraction: float, digits: int = 0) -> str:
    """``fraction`` (0.153) as a percentage in the current locale ("15%", "15 %")."""
    language = current()
    return format_percent(fraction, format=_pattern(percent_pattern(language, digits)), locale=_locale(language))


def plotly_separators() -> str:
    """Plotly's ``layout.separators`` (decimal mark, then thousands mark) for
    the numbers it formats itself (hover values, axis ticks)."""
    symbols = _locale(current()).number_symbols.get("latn", {})
    return symbols.get("decimal", ".") + symbols.get("group", ",")
