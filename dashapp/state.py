"""The view state: one field table, read strictly or leniently, and encoded.

Every view is a link, and every field of it is declared once in ``FIELDS``
(type, range, default). Two readers share that table:

* ``parse_state`` (lenient) reads a URL: an unknown or invalid value is
  replaced by its default (numbers out of range by the nearest bound) and
  reported in ``messages`` for the page to show. It never raises.
* ``strict_state`` reads what the API and every callback receive: the first
  bad value raises a ``StateError`` (a ``UserError``, HTTP 400) naming it.

The catalog (model -> layer -> filter count) supplies the ranges that depend
on the model. One value is read by ``state_values.read_value``, which words
the message in the request's language. Links carry ``v=``; ``MIGRATIONS``
turns an older payload into the current one so old links keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from .analysis.gradcam import METHODS as CAM_METHODS
from .analysis.stats import CRITERIA
from .errors import UserError
from .i18n import LANGUAGES, _
from .intake import is_sha256
from .state_values import MAX_PARAM_LENGTH, Field, Refused, read_value

STATE_VERSION = 1
MAX_N = 24
# Perceptually uniform, colour-blind-safe maps first (components/shell.py says which are).
COLORMAPS = ("Viridis", "Cividis", "Inferno", "Plasma", "Greys", "Jet", "Hot")
DEFAULT_LAYERS = {"resnet18": "layer2.0.conv1", "alexnet": "features.3"}
DEFAULT_CLASSES = 1000

# model -> {conv layer name -> filter count}, in the model's order.
Catalog = Mapping[str, Mapping[str, int]]
EvidenceCatalog = Mapping[str, tuple[str, ...]]  # model -> where class evidence can be computed (convs, blocks)
# How many classes: one count for every model, or model -> count (team models have their own heads).
Classes = int | Mapping[str, int]

# Older link versions -> a rewrite of their parameters into the next version's (none yet).
MIGRATIONS: dict[int, Callable[[dict[str, str]], dict[str, str]]] = {}


class StateError(UserError):
    """A value the strict reader refuses (HTTP 400)."""


FIELDS: tuple[Field, ...] = (
    Field("image", "sha", None, label="image id"),
    Field("model", "model", "resnet18"),
    Field("layer", "layer", None),
    Field("criterion", "choice", "balanced", choices=CRITERIA),
    Field("n", "int", 6, 1, MAX_N),
    Field("min_sparsity", "float", 0.15, 0.0, 0.8),
    Field("weight", "float", 0.5, 0.0, 1.0),
    Field("filter", "index", None, high=100_000),
    Field("opacity", "float", 0.5, 0.0, 1.0, analysis=False),
    Field("colormap", "choice", "Viridis", choices=COLORMAPS, analysis=False),
    Field("cls", "index", None, high=DEFAULT_CLASSES - 1, label="class"),
    Field("cam", "choice", "gradcam", choices=CAM_METHODS, label="class-evidence method"),
    Field("elayer", "evidence", None, label="evidence layer"),
    Field("collection", "sha", None, label="collection id"),
    # Compare's second subject (image, model or both); other pages keep but ignore them.
    Field("image2", "sha", None, label="second image id"),
    Field("model2", "model", None, label="second model"),
    # The interface language (None: the browser's); pages reload to change it.
    Field("lang", "choice", None, choices=LANGUAGES, label="language"),
)
FIELD = {f.name: f for f in FIELDS}
ANALYSIS_KEYS = tuple(f.name for f in FIELDS if f.analysis)
DISPLAY_KEYS = tuple(f.name for f in FIELDS if not f.analysis)


@dataclass(frozen=True)
class ViewState:
    image: str | None = FIELD["image"].default
    model: str = FIELD["model"].default
    layer: str = DEFAULT_LAYERS["resnet18"]
    criterion: str = FIELD["criterion"].default
    n: int = FIELD["n"].default
    min_sparsity: float = FIELD["min_sparsity"].default
    weight: float = FIELD["weight"].default
    filter: int | None = FIELD["filter"].default
    opacity: float = FIELD["opacity"].default
    colormap: str = FIELD["colormap"].default
    cls: int | None = FIELD["cls"].default  # class for the class-evidence page
    cam: str = FIELD["cam"].default  # class-evidence method
    elayer: str | None = FIELD["elayer"].default  # class-evidence layer, a conv or block (None: the model's default)
    collection: str | None = FIELD["collection"].default  # the image collection of the dataset views
    image2: str | None = FIELD["image2"].default  # the Compare page's second image (None: an example)
    model2: str | None = FIELD["model2"].default  # the Compare page's second model (None: the same model)
    lang: str | None = FIELD["lang"].default  # the interface language (None: negotiated per request)

    def analysis_part(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in ANALYSIS_KEYS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ViewState:
        """Trusted data (our own stores); anything a client sent goes through ``strict_state``."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> ViewState:
        return replace(self, **changes)


def default_layer(model: str, layers: Mapping[str, int] | list[str]) -> str:
    names = list(layers)
    preferred = DEFAULT_LAYERS.get(model)
    if preferred in names:
        return preferred  # type: ignore[return-value]
    return names[min(len(names) - 1, len(names) // 3)] if names else ""


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


# -- transitions: what an event does to the state (pure; the URL callback is a thin shell around it)

NAV_KEYS = ("filter", "layer", "cls", "cam", "elayer", "image", "collection")  # what a page may ask to change


@dataclass(frozen=True)
class UrlLoaded:
    search: str | None


@dataclass(frozen=True)
class ControlChanged:
    key: str
    value: Any


@dataclass(frozen=True)
class ImageChosen:
    sha: str


@dataclass(frozen=True)
class Navigated:
    changes: Mapping[str, Any]
    page: str | None = None


Event = UrlLoaded | ControlChanged | ImageChosen | Navigated


@dataclass(frozen=True)
class World:
    """What a transition may consult: the catalog, the pages, and the images
    (``known_image`` may raise a ``UserError`` while the store is down)."""

    catalog: Catalog
    default_image: str
    known_image: Callable[[str], bool]
    pages: tuple[str, ...] = ()
    classes: Classes = DEFAULT_CLASSES
    evidence: EvidenceCatalog | None = None


def apply(state: ViewState, event: Event, world: World) -> tuple[ViewState, list[str], str | None]:
    """The state after ``event``, the messages to show, and the page to move to (None: stay).

    Rules: a model change resets the layer when the new model lacks it; a
    layer or model change resets the filter; every result is re-read by the
    lenient parser, so a forged value falls back with a message; an image
    this server does not hold is replaced by the default example.
    """
    messages: list[str] = []
    path: str | None = None
    catalog = world.catalog
    def reread(search: str) -> tuple[ViewState, list[str]]:
        return parse_state(search, catalog, classes=world.classes, evidence=world.evidence)
    if isinstance(event, UrlLoaded):
        state, messages = reread(event.search)
    elif isinstance(event, ControlChanged) and event.key in FIELD and event.value is not None:
        changes: dict[str, Any] = {event.key: event.value}
        if event.key == "model" and state.layer not in catalog.get(event.value, {}):
            changes["layer"] = default_layer(event.value, catalog.get(event.value, {}))
        if event.key in ("model", "layer"):
            changes["filter"] = None
        if event.key == "model" and state.elayer not in (world.evidence or {}).get(event.value, ()):
            changes["elayer"] = None  # the new model's default evidence layer
        state, messages = reread(encode_state(state.with_(**changes)))
    elif isinstance(event, ImageChosen):
        state = state.with_(image=event.sha)
    elif isinstance(event, Navigated):
        changes = {key: event.changes[key] for key in NAV_KEYS if key in event.changes}
        if "layer" in changes and "filter" not in changes:
            changes["filter"] = None
        state, messages = reread(encode_state(state.with_(**changes)))
        page = event.page
        if isinstance(page, str) and (page in world.pages or (not world.pages and page.startswith("/"))):
            path = page
    return _with_known_image(state, world, messages), messages, path


def _with_known_image(state: ViewState, world: World, messages: list[str]) -> ViewState:
    state = _with_known_second_image(state, world, messages)
    try:
        known = state.image is not None and is_sha256(state.image) and world.known_image(state.image)
    except UserError as exc:  # the store is down: keep the link's image, say why
        messages.append(exc.message)
        return state
    if known:
        return state
    if state.image is not None:
        messages.append(_("The image of this link is not stored on this server; showing an example instead."))
    return state.with_(image=world.default_image)


def _with_known_second_image(state: ViewState, world: World, messages: list[str]) -> ViewState:
    if state.image2 is None:
        return state
    try:
        if world.known_image(state.image2):
            return state
    except UserError:  # the store is down: keep it, the first image's check says why
        return state
    messages.append(_("The second image of this link is not stored on this server; Compare uses an example "
                      "instead."))
    return state.with_(image2=None)
