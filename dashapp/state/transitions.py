"""Transitions: what an event does to the state (pure; the URL callback is a thin shell around it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dashapp.errors import UserError
from dashapp.i18n import _
from dashapp.intake import is_sha256
from dashapp.state.schema import DEFAULT_CLASSES, Catalog, Classes, EvidenceCatalog, ViewState, default_layer
from dashapp.state.spec import schema
from dashapp.state.url import encode_state, parse_state


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
    state_class = type(state)
    declared = schema(state_class)  # its fields, and which a page may navigate to (nav)

    def reread(search: str | None) -> tuple[ViewState, list[str]]:
        return parse_state(search, catalog, classes=world.classes, evidence=world.evidence, state_class=state_class)
    if isinstance(event, UrlLoaded):
        state, messages = reread(event.search)
    elif isinstance(event, ControlChanged) and event.key in declared.field and event.value is not None:
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
        changes = {key: event.changes[key] for key in declared.nav_keys if key in event.changes}
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
