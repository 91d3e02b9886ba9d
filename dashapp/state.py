"""The URL query state: parse, validate, encode.

Every view is a link. Parsing never raises: an unknown or invalid value is
replaced by its default and reported in ``messages`` for the page to show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from .analysis.gradcam import METHODS as CAM_METHODS
from .analysis.stats import CRITERIA
from .store import is_sha256

STATE_VERSION = 1
MAX_N = 24
MAX_MIN_SPARSITY = 0.8
COLORMAPS = ("Jet", "Viridis", "Inferno", "Hot", "Plasma", "Cividis", "Greys")
DEFAULT_LAYERS = {"resnet18": "layer2.0.conv1", "alexnet": "features.3"}
MAX_PARAM_LENGTH = 200


@dataclass(frozen=True)
class ViewState:
    image: str | None = None
    model: str = "resnet18"
    layer: str = "layer2.0.conv1"
    criterion: str = "balanced"
    n: int = 6
    min_sparsity: float = 0.15
    weight: float = 0.5
    filter: int | None = None
    opacity: float = 0.5
    colormap: str = "Jet"
    cls: int | None = None  # ImageNet class for the class-evidence page
    cam: str = "gradcam"  # class-evidence method

    # Keys whose change needs new numbers from the server; the others
    # (opacity, colormap) restyle in the browser.
    ANALYSIS_KEYS = ("image", "model", "layer", "criterion", "n", "min_sparsity", "weight", "filter", "cls", "cam")

    def analysis_part(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.ANALYSIS_KEYS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ViewState:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> ViewState:
        return replace(self, **changes)


def default_layer(model: str, layers: list[str]) -> str:
    preferred = DEFAULT_LAYERS.get(model)
    if preferred in layers:
        return preferred  # type: ignore[return-value]
    return layers[min(len(layers) - 1, len(layers) // 3)] if layers else ""


def _single(query: Mapping[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    if not values:
        return None
    # Repeated parameters: the first wins, as most servers do.
    return values[0][:MAX_PARAM_LENGTH]


def parse_state(search: str | None, catalog: Mapping[str, list[str]]) -> tuple[ViewState, list[str]]:
    """``catalog`` maps each model name to its conv layer names (in order)."""
    messages: list[str] = []
    raw = (search or "").lstrip("?")
    try:
        query = parse_qs(raw[:4000], keep_blank_values=False, max_num_fields=50)
    except ValueError:
        query = {}
        messages.append("The link's query string could not be read; showing the default view.")
    defaults = ViewState()
    models = list(catalog)

    model = _single(query, "model") or (defaults.model if defaults.model in catalog else models[0])
    if model not in catalog:
        messages.append(f"Unknown model {model!r}; showing {models[0]} instead.")
        model = models[0]
    layers = catalog[model]
    layer = _single(query, "layer") or default_layer(model, layers)
    if layer not in layers:
        fallback = default_layer(model, layers)
        messages.append(f"{model} has no conv layer {layer!r}; showing {fallback} instead.")
        layer = fallback

    criterion = _single(query, "criterion") or defaults.criterion
    if criterion not in CRITERIA:
        messages.append(f"Unknown criterion {criterion!r}; using {defaults.criterion}.")
        criterion = defaults.criterion

    def number(key: str, default: float, low: float, high: float, whole: bool = False) -> float:
        text = _single(query, key)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            messages.append(f"{key}={text!r} is not a number; using {default:g}.")
            return default
        if not math.isfinite(value) or (whole and value != int(value)):
            messages.append(f"{key}={text!r} is not valid; using {default:g}.")
            return default
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            messages.append(f"{key}={text!r} is outside {low:g}–{high:g}; using {clamped:g}.")
            return clamped
        return value

    image = _single(query, "image")
    if image is not None and not is_sha256(image):
        messages.append("The link's image id is not valid; showing an example image instead.")
        image = None

    def index(key: str, high: int) -> int | None:
        """An optional index: out of range means "none chosen", not the nearest one."""
        text = _single(query, key)
        if text is None:
            return None
        # isascii: "²".isdigit() is True but int() refuses it.
        if text.isascii() and text.isdigit() and len(text) <= 9 and int(text) <= high:
            return int(text)
        messages.append(f"{key}={text!r} is not a valid index; ignoring it.")
        return None

    filter_index = index("filter", 100_000)
    cls_index = index("cls", 999)

    colormap = _single(query, "colormap") or defaults.colormap
    if colormap not in COLORMAPS:
        messages.append(f"Unknown colormap {colormap!r}; using {defaults.colormap}.")
        colormap = defaults.colormap

    cam = _single(query, "cam") or defaults.cam
    if cam not in CAM_METHODS:
        messages.append(f"Unknown class-evidence method {cam!r}; using {defaults.cam}.")
        cam = defaults.cam

    state = ViewState(
        image=image,
        model=model,
        layer=layer,
        criterion=criterion,
        n=int(number("n", defaults.n, 1, MAX_N, whole=True)),
        min_sparsity=number("min_sparsity", defaults.min_sparsity, 0.0, MAX_MIN_SPARSITY),
        weight=number("weight", defaults.weight, 0.0, 1.0),
        filter=filter_index,
        opacity=number("opacity", defaults.opacity, 0.0, 1.0),
        colormap=colormap,
        cls=cls_index,
        cam=cam,
    )
    return state, messages


def encode_state(state: ViewState) -> str:
    """Query string for ``state``; defaults are written too, so a link keeps
    its meaning if a default changes later."""
    params: dict[str, Any] = {"v": STATE_VERSION}
    if state.image:
        params["image"] = state.image
    params.update(
        model=state.model,
        layer=state.layer,
        criterion=state.criterion,
        n=state.n,
        min_sparsity=f"{state.min_sparsity:g}",
        weight=f"{state.weight:g}",
        opacity=f"{state.opacity:g}",
        colormap=state.colormap,
    )
    if state.filter is not None:
        params["filter"] = state.filter
    if state.cls is not None:
        params["cls"] = state.cls
    params["cam"] = state.cam
    return "?" + urlencode(params)
