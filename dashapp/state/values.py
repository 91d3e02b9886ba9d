"""One field of the view state: how one value of it is read, with the
message that says what was wrong (``state/schema.py`` declares the fields,
``state/url.py`` reads whole links with these).

Messages are built when a value is refused, in the language of the request
at hand: the lenient reader's say what is used instead, the strict reader's
name the parameter and its range. Numbers in them are written for the
reader's locale (``0,8`` in Spanish); identifiers and echoed input stay as sent.
"""

from __future__ import annotations

import math
from typing import Any

from dashapp import i18n
from dashapp.i18n import _
from dashapp.intake import is_sha256
from dashapp.intake.limits import short_number
from dashapp.state.spec import Field

MAX_PARAM_LENGTH = 200


def field_label(field: Field) -> str:
    """How messages name ``field`` in the current language (its declared label, else its name)."""
    return field.label() if field.label else field.name


def capitalized(text: str) -> str:
    """``text`` with its first letter upper case (a label opening a sentence)."""
    return text[:1].upper() + text[1:]


class Refused(Exception):
    """A value is refused. ``message`` is the lenient reader's (it says what
    is used instead: ``fallback``); ``strict`` is the strict reader's."""

    def __init__(self, message: str, fallback: Any, strict: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fallback = fallback
        self.strict = strict or message


def read_value(field: Field, raw: Any, *, high: float | None = None, choices: tuple[str, ...] = ()) -> Any:
    """One value of ``field`` from a string (URL) or a JSON value (callbacks)."""
    text = str(raw)[:MAX_PARAM_LENGTH]
    top = field.high if high is None else high
    if field.kind == "sha":
        if not is_sha256(raw):
            raise Refused(capitalized(_("The {name} is not valid: it must be a 64-character SHA-256 in hex.")
                                      .format(name=field_label(field))), None)
        return raw
    if field.kind in ("model", "layer", "evidence", "choice"):
        options = choices or field.choices
        if raw not in options:
            listed = (", ".join(options) if len(options) <= 8
                      else i18n.ngettext("{n} name", "{n} names", len(options)).format(n=len(options)))
            raise Refused(_("Unknown {name} {value}; available: {options}.").format(
                name=field_label(field), value=repr(text[:60]), options=listed), field.default)
        return raw
    if field.kind == "index":
        return _read_index(field, raw, text, int(top))
    return _read_number(field, raw, text, top)


def _read_number(field: Field, raw: Any, text: str, top: float) -> int | float:
    """Numbers: "int" must be whole, "float" finite; both within [low, top].
    The messages are worded only for a value that is refused (a warm answer
    reads several numbers)."""
    key, value_text = field.name, repr(text)

    def refused(message: str, fallback: float, **values: str) -> Refused:
        low, high = short_number(field.low), short_number(top)
        if field.kind == "int":
            strict = _("{key} must be a whole number from {low} to {high}, got {value}.")
        else:
            strict = _("{key} must be a number from {low} to {high}, got {value}.")
        strict = strict.format(key=key, low=low, high=high, value=repr(text[:40]))
        return Refused(message.format(key=key, value=value_text, default=short_number(field.default), low=low,
                                      high=high, **values), fallback, strict)

    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise refused(_("{key}={value} is not a number; using {default}."), field.default)
    try:
        value = float(raw)
    except ValueError:
        raise refused(_("{key}={value} is not a number; using {default}."), field.default) from None
    if not math.isfinite(value) or (field.kind == "int" and value != int(value)):
        raise refused(_("{key}={value} is not valid; using {default}."), field.default)
    if not field.low <= value <= top:
        clamped = min(max(value, field.low), top)
        raise refused(_("{key}={value} is outside {low}–{high}; using {clamped}."), clamped,
                      clamped=short_number(clamped))
    return int(value) if field.kind == "int" else value


def _read_index(field: Field, raw: Any, text: str, top: int) -> int:
    """An optional index: out of range means "none chosen", not the nearest one."""
    key = field.name
    strict = _("{key} must be an index from 0 to {high}, got {value}.").format(
        key=key, high=top, value=repr(text[:40]))
    invalid = _("{key}={value} is not a valid index; ignoring it.").format(key=key, value=repr(text))
    if isinstance(raw, bool):
        raise Refused(invalid, None, strict)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 9:
        # isascii: "²".isdigit() is True but int() refuses it.
        value = int(raw)
    else:
        raise Refused(invalid, None, strict)
    if not 0 <= value <= top:
        raise Refused(_("{key}={value}: {name} {index} does not exist (0–{high}); ignoring it.").format(
            key=key, value=repr(text), name=capitalized(field_label(field)), index=value, high=top), None, strict)
    return value
