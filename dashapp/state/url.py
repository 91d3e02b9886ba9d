"""The view state as a link: read strictly or leniently, and encoded.

Every view is a link, and every field of it is declared once in ``FIELDS``
(type, range, default). Two readers share that table:

* ``parse_state`` (lenient) reads a URL: an unknown or invalid value is
  replaced by its default (numbers out of range by the nearest bound) and
  reported in ``messages`` for the page to show. It never raises.
* ``strict_state`` reads what the API and every callback receive: the first
  bad value raises a ``StateError`` (a ``UserError``, HTTP 400) naming it.

The catalog (model -> layer -> filter count) supplies the ranges that depend
on the model. One value is read by ``state.values.read_value``, which words
the message in the request's language. Links carry ``v=``; ``MIGRATIONS``
turns an older payload into the current one so old links keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

from dashapp.i18n import _
from dashapp.state.schema import (
    DEFAULT_CLASSES,
    FIELDS,
    MAX_N,
    STATE_VERSION,
    Catalog,
    Classes,
    EvidenceCatalog,
    StateError,
    ViewState,
    default_layer,
)
from dashapp.state.values import MAX_PARAM_LENGTH, Refused, read_value

# Older link versions -> a rewrite of their parameters into the next version's (none yet).
MIGRATIONS: dict[int, Callable[[dict[str, str]], dict[str, str]]] = {}


def _read_all(raw: Mapping[str, Any], catalog: Catalog, *, strict: bool, classes: Classes = DEFAULT_CLASSES,
              max_n: int | None = MAX_N, evidence: EvidenceCatalog | None = None) -> tuple[ViewState, list[str]]:
    """Every field in table order (model before layer before filter); strict
    raises on the first refusal, lenient substitutes and reports it."""
    messages: list[str] = []
    values: dict[str, Any] = {}
    models = tuple(catalog)
    for f in FIELDS:
        given = raw.get(f.name)
        default = f.default
        if f.name == "model":
            default = f.default if f.default in catalog else models[0]
        if f.name == "layer":
            layers = catalog[values["model"]]
            default = default_layer(values["model"], layers)
        if given is None or given == "":
            values[f.name] = default
            continue
        options: tuple[str, ...] = ()
        high: float | None = None
        if f.kind == "model":
            options = models
        elif f.kind in ("layer", "evidence"):  # the model's convs; for evidence, its convs and blocks
            options = tuple((catalog if f.kind == "layer" else evidence or {}).get(values["model"], ()))
        elif f.name == "filter":
            high = catalog[values["model"]][values["layer"]] - 1
        elif f.name == "cls":
            high = (classes if isinstance(classes, int) else classes.get(values["model"], DEFAULT_CLASSES)) - 1
        elif f.name == "n":
            # None: as many as the layer has (the API); pages stop at MAX_N.
            high = max_n if max_n is not None else catalog[values["model"]][values["layer"]]
        try:
            values[f.name] = read_value(f, given, high=high, choices=options)
        except Refused as refused:
            message = refused.strict if strict else refused.message
            if f.kind == "layer":
                message = (_("{model} has no conv layer {layer}.") if strict
                           else _("{model} has no conv layer {layer}; showing {default} instead.")).format(
                    model=values["model"], layer=repr(str(given)[:60]), default=default)
            if strict:
                raise StateError(message) from None
            messages.append(message)
            values[f.name] = default if f.kind in ("model", "layer") else refused.fallback
    return ViewState(**values), messages


def strict_state(data: Mapping[str, Any], catalog: Catalog, *, classes: Classes = DEFAULT_CLASSES,
                 max_n: int | None = MAX_N, evidence: EvidenceCatalog | None = None) -> ViewState:
    """What a callback or an API route received; raises ``StateError`` naming the first bad value."""
    state, _messages = _read_all(data, catalog, strict=True, classes=classes, max_n=max_n, evidence=evidence)
    return state


def parse_state(search: str | None, catalog: Catalog, *, classes: Classes = DEFAULT_CLASSES,
                evidence: EvidenceCatalog | None = None) -> tuple[ViewState, list[str]]:
    """A URL's query string; never raises."""
    messages: list[str] = []
    raw = (search or "").lstrip("?")
    try:
        query = parse_qs(raw[:4000], keep_blank_values=False, max_num_fields=50)
    except ValueError:
        query = {}
        messages.append(_("The link's query string could not be read; showing the default view."))
    # Repeated parameters: the first wins, as most servers do.
    params = {key: values[0][:MAX_PARAM_LENGTH] for key, values in query.items() if values}
    params, migrated = _migrate(params)
    messages.extend(migrated)
    state, refused = _read_all(params, catalog, strict=False, classes=classes, evidence=evidence)
    return state, messages + refused


def _migrate(params: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    text = params.pop("v", None)
    version = int(text) if text and text.isascii() and text.isdigit() and len(text) < 4 else STATE_VERSION
    if version > STATE_VERSION:
        return params, [_("This link was made by a newer version (v={version}); some settings may not apply.")
                        .format(version=version)]
    while version < STATE_VERSION and version in MIGRATIONS:
        params = MIGRATIONS[version](params)
        version += 1
    return params, []


def encode_state(state: ViewState) -> str:
    """Query string for ``state``; defaults are written too, so a link keeps
    its meaning if a default changes later. Unset optional fields are left out."""
    params: dict[str, Any] = {"v": STATE_VERSION}
    for f in FIELDS:
        value = getattr(state, f.name)
        if value is None:
            continue
        # A float is written short (0.15, not 0.15000000000000002); anything
        # else as given, for the reader to judge.
        params[f.name] = f"{value:g}" if f.kind == "float" and isinstance(value, (int, float)) else value
    return "?" + urlencode(params)
