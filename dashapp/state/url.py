"""The view state as a link: read strictly or leniently, and encoded.

Every view is a link, and every field of it is declared once in ``ViewState``
(type, range, default: state/schema.py). Two readers share that declaration:

* ``parse_state`` (lenient) reads a URL: an unknown or invalid value is
  replaced by its default (numbers out of range by the nearest bound) and
  reported in ``messages`` for the page to show. It never raises.
* ``strict_state`` reads what the API and every callback receive: the first
  bad value raises a ``StateError`` (a ``UserError``, HTTP 400) naming it.

The catalog (model -> layer -> filter count) supplies the ranges that depend
on the model: a field's ``bound`` names one of ``BOUNDS``. One value is read by ``state.values.read_value``, which words
the message in the request's language. Links carry ``v=``; ``MIGRATIONS``
turns an older payload into the current one so old links keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from dashapp.i18n import _
from dashapp.state.schema import (
    DEFAULT_CLASSES,
    MAX_N,
    STATE_VERSION,
    Catalog,
    Classes,
    EvidenceCatalog,
    StateError,
    ViewState,
    default_layer,
)
from dashapp.state.spec import Field, schema
from dashapp.state.values import MAX_PARAM_LENGTH, Refused, read_value

# Older link versions -> a rewrite of their parameters into the next version's (none yet).
MIGRATIONS: dict[int, Callable[[dict[str, str]], dict[str, str]]] = {}


@dataclass(frozen=True)
class Limits:
    """What the ranges and options that depend on the model are read from."""

    catalog: Catalog
    classes: Classes = DEFAULT_CLASSES
    max_n: int | None = MAX_N  # None: as many filters as the layer has (the API); pages stop at MAX_N
    evidence: EvidenceCatalog | None = None

    def filters(self, values: Mapping[str, Any]) -> int:
        return self.catalog[values["model"]][values["layer"]]

    def classes_of(self, model: str) -> int:
        return self.classes if isinstance(self.classes, int) else self.classes.get(model, DEFAULT_CLASSES)


# A field's ``bound``: its top, from the model and layer read before it.
BOUNDS: dict[str, Callable[[Limits, Mapping[str, Any]], float]] = {
    "filter index": lambda limits, values: limits.filters(values) - 1,
    "class index": lambda limits, values: limits.classes_of(values["model"]) - 1,
    "filters shown": lambda limits, values: limits.max_n if limits.max_n is not None else limits.filters(values),
}


def _options(f: Field, limits: Limits, values: Mapping[str, Any]) -> tuple[str, ...]:
    """The names a model, layer or evidence field may take (a choice's are declared)."""
    if f.kind == "model":
        return tuple(limits.catalog)
    if f.kind == "layer":  # the model's convs
        return tuple(limits.catalog.get(values["model"], ()))
    if f.kind == "evidence":  # the model's convs and blocks
        return tuple((limits.evidence or {}).get(values["model"], ()))
    return ()


def _default(f: Field, limits: Limits, values: Mapping[str, Any]) -> Any:
    """The declared default, unless the catalog lacks it (a model) or it follows the model (a layer)."""
    if f.kind == "model" and f.default is not None and f.default not in limits.catalog:
        return next(iter(limits.catalog))
    if f.kind == "layer":
        return default_layer(values["model"], limits.catalog[values["model"]])
    return f.default


def _read_all(raw: Mapping[str, Any], limits: Limits, *, strict: bool,
              state_class: type[ViewState] = ViewState) -> tuple[ViewState, list[str]]:
    """Every field in declaration order (model before layer before filter);
    strict raises on the first refusal, lenient substitutes and reports it."""
    messages: list[str] = []
    values: dict[str, Any] = {}
    for f in schema(state_class).fields:
        given = raw.get(f.name)
        default = _default(f, limits, values)
        if given is None or given == "":
            values[f.name] = default
            continue
        high = BOUNDS[f.bound](limits, values) if f.bound else None
        try:
            values[f.name] = read_value(f, given, high=high, choices=_options(f, limits, values))
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
    return state_class(**values), messages


def strict_state(data: Mapping[str, Any], catalog: Catalog, *, classes: Classes = DEFAULT_CLASSES,
                 max_n: int | None = MAX_N, evidence: EvidenceCatalog | None = None,
                 state_class: type[ViewState] = ViewState) -> ViewState:
    """What a callback or an API route received; raises ``StateError`` naming the first bad value."""
    limits = Limits(catalog, classes, max_n, evidence)
    state, _messages = _read_all(data, limits, strict=True, state_class=state_class)
    return state


def parse_state(search: str | None, catalog: Catalog, *, classes: Classes = DEFAULT_CLASSES,
                evidence: EvidenceCatalog | None = None,
                state_class: type[ViewState] = ViewState) -> tuple[ViewState, list[str]]:
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
    state, refused = _read_all(params, Limits(catalog, classes, evidence=evidence), strict=False,
                               state_class=state_class)
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
    for f in schema(type(state)).fields:
        value = getattr(state, f.name)
        if value is None:
            continue
        # A float is written short (0.15, not 0.15000000000000002); anything
        # else as given, for the reader to judge.
        params[f.name] = f"{value:g}" if f.kind == "float" and isinstance(value, (int, float)) else value
    return "?" + urlencode(params)
