"""The view state's schema: every field declared once (kind, range, default, label), and ``ViewState``.

``url.py`` reads and writes a state as a link with this table;
``transitions.py`` says what an event does to a state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from dashapp.analysis.attribution.gradcam import METHODS as CAM_METHODS
from dashapp.analysis.maps.stats import CRITERIA
from dashapp.errors import UserError
from dashapp.i18n import LANGUAGES
from dashapp.state.values import Field

STATE_VERSION = 1
MAX_N = 24
# Perceptually uniform, colour-blind-safe maps first (ui/layout/shell.py says which are).
COLORMAPS = ("Viridis", "Cividis", "Inferno", "Plasma", "Greys", "Jet", "Hot")
DEFAULT_LAYERS = {"resnet18": "layer2.0.conv1", "alexnet": "features.3"}
DEFAULT_CLASSES = 1000

# model -> {conv layer name -> filter count}, in the model's order.
Catalog = Mapping[str, Mapping[str, int]]
EvidenceCatalog = Mapping[str, tuple[str, ...]]  # model -> where class evidence can be computed (convs, blocks)
# How many classes: one count for every model, or model -> count (team models have their own heads).
Classes = int | Mapping[str, int]

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
