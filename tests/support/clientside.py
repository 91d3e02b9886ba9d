"""The clientside-callback contract between Python and the browser scripts:
which ``ClientsideFunction(namespace, function_name)`` the app names
(``dashapp/``, read with ``ast``), and which functions ``assets/js/*.js`` put
on ``window.dash_clientside`` (read with a small JavaScript tokenizer).

The scripts are read, not run, so the unit suite needs no JavaScript engine;
tests/browser/test_geometry.py holds these answers to the page's own
``window.dash_clientside``. A ``dash_clientside`` assignment of a shape read
here raises ``JsShapeError`` instead of being skipped: the reader is extended
rather than the check silently passing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dashapp"
SCRIPTS = ROOT / "assets" / "js"

# The tokens that matter: names, numbers, strings and punctuators, longest first.
PUNCTUATORS = sorted([
    "===", "!==", "...", "**=", "<<=", ">>=", ">>>", "??", "?.", "=>", "==", "!=", "<=", ">=", "&&", "||", "++",
    "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>", "{", "}", "(", ")", "[", "]", ";",
    ",", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "?", ":", "=", ".", "@", "#",
], key=len, reverse=True)
NAME = re.compile(r"[A-Za-z_$][\w$]*")
NUMBER = re.compile(r"(?:0[xXbBoO][\da-fA-F_]+|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)n?")
# After these a "/" starts a division; anywhere else it starts a regular expression.
DIVIDEND_PUNCTUATORS = {")", "]", "}"}
KEYWORDS_BEFORE_EXPRESSION = {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw",
                              "case", "do", "else", "yield", "await"}


class JsShapeError(ValueError):
    """A ``dash_clientside`` assignment the reader does not understand."""


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "regex" or "punct"
    text: str
    line: int


def _scan_quoted(text: str, start: int) -> int:
    """The index after the string literal opening at ``start`` ('...' or "...")."""
    quote, i = text[start], start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _scan_template(text: str, start: int) -> int:
    """The index after the template literal opening at ``start``, ``${...}`` included."""
    i = start + 1
    while i < len(text) and text[i] != "`":
        if text[i] == "\\":
            i += 2
        elif text.startswith("${", i):
            depth, i = 1, i + 2
            while i < len(text) and depth:
                if text[i] in "'\"":
                    i = _scan_quoted(text, i)
                    continue
                if text[i] == "`":
                    i = _scan_template(text, i)
                    continue
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
        else:
            i += 1
    return i + 1


def _scan_regex(text: str, start: int) -> int:
    """The index after the regular expression literal opening at ``start``, flags included."""
    i, in_class = start + 1, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "\n":
            raise JsShapeError(f"unterminated regular expression at offset {start}")
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            break
        i += 1
    i += 1
    while i < len(text) and (text[i].isalnum() or text[i] == "_"):
        i += 1
    return i


def _regex_may_start(previous: Token | None) -> bool:
    if previous is None:
        return True
    if previous.kind in ("number", "string", "regex"):
        return False
    if previous.kind == "name":
        return previous.text in KEYWORDS_BEFORE_EXPRESSION
    return previous.text not in DIVIDEND_PUNCTUATORS


def tokens(text: str) -> list[Token]:
    """The script's tokens, comments and white space left out."""
    found: list[Token] = []
    i, line, counted = 0, 1, 0
    while i < len(text):
        line, counted = line + text.count("\n", counted, i), i
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif char in "'\"`":
            end = _scan_quoted(text, i) if char != "`" else _scan_template(text, i)
            found.append(Token("string", text[i:end], line))
            i = end
        elif char == "/" and _regex_may_start(found[-1] if found else None):
            end = _scan_regex(text, i)
            found.append(Token("regex", text[i:end], line))
            i = end
        elif match := NAME.match(text, i):
            found.append(Token("name", match.group(), line))
            i = match.end()
        elif match := NUMBER.match(text, i):
            found.append(Token("number", match.group(), line))
            i = match.end()
        else:
            punct = next((p for p in PUNCTUATORS if text.startswith(p, i)), None)
            if punct is None:
                raise JsShapeError(f"unexpected character {char!r} on line {line}")
            found.append(Token("punct", punct, line))
            i += len(punct)
    return found


def _closing(toks: list[Token], start: int) -> int:
    """The index of the bracket closing the one at ``start``."""
    depth = 0
    for i in range(start, len(toks)):
        if toks[i].kind == "punct" and toks[i].text in "([{":
            depth += 1
        elif toks[i].kind == "punct" and toks[i].text in ")]}":
            depth -= 1
            if depth == 0:
                return i
    raise JsShapeError(f"unbalanced {toks[start].text!r} on line {toks[start].line}")


def _entries(toks: list[Token], start: int) -> Iterable[tuple[str, int, int]]:
    """(key, first value token, end) of each entry of the object literal whose
    ``{`` is at ``start``; a method ``key(...) {...}`` gives its ``(``."""
    end, i = _closing(toks, start), start + 1
    while i < end:
        if toks[i].text == "async" and toks[i + 1].kind == "name":  # an async method: async key(...) {...}
            i += 1
        key = toks[i]
        if key.text == "...":
            raise JsShapeError(f"a spread in a dash_clientside object on line {key.line}")
        if key.kind == "string":
            name = key.text[1:-1]
        elif key.kind in ("name", "number"):
            name = key.text
        else:
            raise JsShapeError(f"a computed or unknown key {key.text!r} on line {key.line}")
        j = i + 1
        if toks[j].text == ":":
            j += 1
        value = j
        while j < end and not (toks[j].kind == "punct" and toks[j].text == ","):
            if toks[j].kind == "punct" and toks[j].text in "([{":
                j = _closing(toks, j)
            j += 1
        yield name, value, j
        i = j + 1


def _is_function(toks: list[Token], value: int, end: int) -> bool:
    """Whether the entry value ``toks[value:end]`` is a function: ``function``,
    ``async function``, a method's ``(``...``) {``, or an arrow."""
    first = toks[value].text
    return first in ("function", "async") or first == "(" or any(t.text == "=>" for t in toks[value:end])


def _functions(toks: list[Token], start: int) -> set[str]:
    return {name for name, value, end in _entries(toks, start) if _is_function(toks, value, end)}


def _namespaces(toks: list[Token], start: int) -> dict[str, set[str]]:
    """namespace -> functions, from an object literal of namespace objects."""
    found: dict[str, set[str]] = {}
    for name, value, _end in _entries(toks, start):
        if toks[value].text != "{":
            raise JsShapeError(f"namespace {name!r} on line {toks[value].line} is not an object literal")
        found.setdefault(name, set()).update(_functions(toks, value))
    return found


def _assigned(toks: list[Token], i: int) -> dict[str, set[str]]:
    """What the assignment to ``dash_clientside`` (at ``toks[i]``) defines; {} for a read."""
    rest = [t.text for t in toks[i + 1:i + 6]]
    if rest[:1] == ["="]:
        value = i + 2
        if toks[value].text == "{":
            return _namespaces(toks, value)
        if [t.text for t in toks[value:value + 4]] == ["Object", ".", "assign", "("]:
            found: dict[str, set[str]] = {}
            call, end = value + 3, _closing(toks, value + 3)
            j = call + 1
            while j < end:
                if toks[j].text == "{":
                    for name, names in _namespaces(toks, j).items():
                        found.setdefault(name, set()).update(names)
                    j = _closing(toks, j)
                j += 1
            return found
        raise JsShapeError(f"dash_clientside assigned an unread value on line {toks[i].line}")
    if rest[:1] == ["."] and rest[2:3] == ["="]:
        if toks[i + 4].text != "{":
            raise JsShapeError(f"namespace {rest[1]!r} on line {toks[i].line} is not an object literal")
        return {rest[1]: _functions(toks, i + 4)}
    if rest[:1] == ["."] and rest[2:3] == ["."] and rest[4:5] == ["="]:
        return {rest[1]: {rest[3]}}
    return {}


def js_functions(text: str) -> dict[str, set[str]]:
    """namespace -> function names a script puts on ``window.dash_clientside``."""
    toks = tokens(text)
    found: dict[str, set[str]] = {}
    for i, token in enumerate(toks):
        if token.kind == "name" and token.text == "dash_clientside":
            for name, names in _assigned(toks, i).items():
                found.setdefault(name, set()).update(names)
    return found


def defined_functions(scripts: Path = SCRIPTS) -> set[tuple[str, str]]:
    """(namespace, function) pairs that ``assets/js/*.js`` define."""
    return {(namespace, name) for path in sorted(scripts.glob("*.js"))
            for namespace, names in js_functions(path.read_text(encoding="utf-8")).items() for name in names}


def _literal(node: ast.expr | None, what: str, where: str) -> str:
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        raise JsShapeError(f"{where}: ClientsideFunction's {what} is not a string literal")
    return node.value


def named_functions(package: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """(namespace, function) -> where ``ClientsideFunction(...)`` names it in the package."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called != "ClientsideFunction":
                continue
            where = f"{path.relative_to(package.parent)}:{node.lineno}"
            keywords = {k.arg: k.value for k in node.keywords}
            args = [*node.args, None, None]
            namespace = _literal(keywords.get("namespace", args[0]), "namespace", where)
            function = _literal(keywords.get("function_name", args[1]), "function_name", where)
            found.setdefault((namespace, function), []).append(where)
    return found


def unmatched(package: Path = PACKAGE, scripts: Path = SCRIPTS) -> dict[tuple[str, str], list[str]]:
    """The ``ClientsideFunction`` names in ``package`` that no script in ``scripts`` defines, with where."""
    defined = defined_functions(scripts)
    return {pair: where for pair, where in named_functions(package).items() if pair not in defined}
