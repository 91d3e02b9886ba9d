"""What the analysis found, said in the reader's language.

``dashapp/analysis`` returns facts (band keys, numbers, rule and reason
codes) and stays free of the interface's catalogs; these modules turn the
facts into sentences through ``dashapp.i18n`` when a page or the API shows
them. Each sentence is one catalog entry with named placeholders, so a
translation can order its words freely and make them agree.
"""

from __future__ import annotations

from babel.numbers import format_decimal

from .. import i18n


def significant(value: float, digits: int = 3) -> str:
    """``value`` to at most ``digits`` significant digits in the current
    locale (what ``f"{value:.3g}"`` shows, with the locale's decimal mark)."""
    return format_decimal(value, format="@" + "#" * (digits - 1), locale=i18n.current())


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, where the same English word needs
    different translations in different places (a region is "pequeña", a
    filter "pequeño"): ``context`` tells the translator which."""
    return i18n.translations(i18n.current()).pgettext(context, message)
