"""What a view-state field declares, and the tables read off those declarations.

Each attribute of ``ViewState`` (``schema.py``) is declared once, with
``declare(default, kind, ...)``: its type and default are the attribute's,
the rest of its spec (range, label, API name, sidebar control...) rides in
the dataclass field's metadata. ``schema(ViewState)`` reads them back as
``Field``s and derives what the rest of the app needs: the readers' table
(``url.py``), the sidebar's controls (``ui/callbacks/url_sync.py``,
``ui/layout/shell.py``), the keys a page may navigate to
(``transitions.py``), the API's parameters (``web/api/routes.py``) and the
fields the browser restyles alone (``assets/js/dashapp.js``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SPEC = "dashapp.state"  # the dataclass metadata key of a field's spec
NUMBERS = ("int", "float")


@dataclass(frozen=True)
class Field:
    """One field's spec (``declare`` writes it; ``schema`` adds the name)."""

    # "sha", "model" (one of the catalog's), "layer" (a conv of the model),
    # "evidence" (a conv or block of the model), "choice", "int", "float",
    # "index" (optional; out of range means none)
    kind: str
    default: Any = None
    low: float = 0.0
    high: float = 0.0  # a number's top (a slider's maximum) unless ``bound`` says otherwise
    choices: tuple[str, ...] = ()
    # A top that depends on the model and layer read before it: a name in url.BOUNDS.
    bound: str | None = None
    label: Callable[[], str] | None = None  # how messages name it, in the reader's language (None: its name)
    display: bool = False  # restyled in the browser alone: a change needs no new numbers from the server
    control: str | None = None  # the id of the sidebar control that shows and sets it
    step: float | None = None  # that control's step, where it is a slider
    api: tuple[str, ...] = ()  # the API routes that read it: "analysis" (analysis, exports), "evidence"
    api_name: str = ""  # its parameter there ("": its name)
    nav: bool = False  # a page may ask to move to another value (a navigation request)
    name: str = ""  # the ViewState attribute

    @property
    def analysis(self) -> bool:
        """A change needs new numbers from the server."""
        return not self.display

    @property
    def parameter(self) -> str:
        """Its name in the API."""
        return self.api_name or self.name


def declare(default: Any, kind: str, **spec: Any) -> Any:
    """A ``ViewState`` attribute: its default, and its spec (``Field``'s other attributes)."""
    return dataclasses.field(default=default, metadata={SPEC: Field(kind, default, **spec)})


@dataclass(frozen=True)
class Schema:
    """The tables derived from a state class's declarations, in declaration order."""

    fields: tuple[Field, ...]

    @functools.cached_property
    def field(self) -> Mapping[str, Field]:
        return {f.name: f for f in self.fields}

    @functools.cached_property
    def analysis_keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.analysis)

    @functools.cached_property
    def display_keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.display)

    @functools.cached_property
    def controls(self) -> Mapping[str, str]:
        """Field -> the sidebar control that shows and sets it."""
        return {f.name: f.control for f in self.fields if f.control}

    @functools.cached_property
    def display_controls(self) -> Mapping[str, str]:
        """The controls of the fields the browser restyles alone (the address follows them there)."""
        return {key: control for key, control in self.controls.items() if self.field[key].display}

    @functools.cached_property
    def nav_keys(self) -> tuple[str, ...]:
        """What a page may ask to change."""
        return tuple(f.name for f in self.fields if f.nav)

    def answered(self, route: str) -> Mapping[str, str]:
        """API parameter -> field, for the routes of kind ``route``."""
        return {f.parameter: f.name for f in self.fields if route in f.api}

    def browser_display(self) -> list[dict[str, Any]]:
        """The display fields as assets/js/dashapp.js (displaySearch) writes them into the address,
        in the order of ``display_controls``: a number is written with 6 significant digits."""
        return [{"key": key, "number": self.field[key].kind in NUMBERS} for key in self.display_controls]


_SCHEMAS: dict[type, Schema] = {}


def schema(state: type) -> Schema:
    """The schema of a state dataclass whose every attribute is ``declare``d (read once per class)."""
    if state not in _SCHEMAS:
        _SCHEMAS[state] = Schema(tuple(dataclasses.replace(f.metadata[SPEC], name=f.name)
                                       for f in dataclasses.fields(state)))
    return _SCHEMAS[state]
