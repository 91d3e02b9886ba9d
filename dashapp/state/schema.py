"""The view state's schema: ``ViewState``, where every field is declared once
(kind, range, default, label, API name, control: state/spec.py), and the
tables derived from it (``SCHEMA``, ``FIELDS``).

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
from dashapp.i18n import LANGUAGES, pgettext
from dashapp.state.spec import declare, schema

STATE_VERSION = 1
MAX_N = 24
# Perceptually uniform, colour-blind-safe maps first (ui/layout/shell.py says which are).
COLORMAPS = ("Viridis", "Cividis", "Inferno", "Plasma", "Greys", "Jet", "Hot")
DEFAULT_MODEL = "resnet18"
DEFAULT_LAYERS = {"resnet18": "layer2.0.conv1", "alexnet": "features.3"}
DEFAULT_CLASSES = 1000

# model -> {conv layer name -> filter count}, in the model's order.
Catalog = Mapping[str, Mapping[str, int]]
EvidenceCatalog = Mapping[str, tuple[str, ...]]  # model -> where class evidence can be computed (convs, blocks)
# How many classes: one count for every model, or model -> count (team models have their own heads).
Classes = int | Mapping[str, int]

class StateError(UserError):
    """A value the strict reader refuses (HTTP 400)."""


ANALYSIS, EVIDENCE, BOTH = ("analysis",), ("evidence",), ("analysis", "evidence")


@dataclass(frozen=True)
class ViewState:
    """Every field of a view, each declared once: its type and default, and its spec (state/spec.py:
    kind, range, label, API name, sidebar control, display-only, navigable). Labels name the field
    in messages; ``pgettext`` runs when a message is worded, in the reader's language."""

    image: str | None = declare(None, "sha", label=lambda: pgettext("view state field", "image id"), api=BOTH,
                                nav=True)
    model: str = declare(DEFAULT_MODEL, "model", label=lambda: pgettext("view state field", "model"), api=BOTH,
                         control="ctl-model")
    # Its default follows the model (default_layer); this is the default model's.
    layer: str = declare(DEFAULT_LAYERS[DEFAULT_MODEL], "layer", label=lambda: pgettext("view state field", "layer"),
                         api=ANALYSIS, control="ctl-layer", nav=True)
    criterion: str = declare("balanced", "choice", choices=CRITERIA, api=ANALYSIS, control="ctl-criterion",
                             label=lambda: pgettext("view state field", "criterion"))
    # Pages show up to MAX_N filters; the API up to the layer's count.
    n: int = declare(6, "int", low=1, high=MAX_N, bound="filters shown", api=ANALYSIS, control="ctl-n", step=1)
    min_sparsity: float = declare(0.15, "float", high=0.8, api=ANALYSIS, control="ctl-min-sparsity", step=0.05)
    weight: float = declare(0.5, "float", high=1.0, api=ANALYSIS, control="ctl-weight", step=0.05)
    filter: int | None = declare(None, "index", bound="filter index", api=ANALYSIS, nav=True,
                                 label=lambda: pgettext("view state field", "filter"))
    opacity: float = declare(0.5, "float", high=1.0, display=True, control="ctl-opacity", step=0.05)
    colormap: str = declare("Viridis", "choice", choices=COLORMAPS, display=True, control="ctl-colormap",
                            label=lambda: pgettext("view state field", "colormap"))
    # The class, method and layer of the class-evidence page.
    cls: int | None = declare(None, "index", bound="class index", api=EVIDENCE, api_name="class", nav=True,
                              label=lambda: pgettext("view state field", "class"))
    cam: str = declare("gradcam", "choice", choices=CAM_METHODS, api=EVIDENCE, api_name="method", nav=True,
                       label=lambda: pgettext("view state field", "class-evidence method"))
    # A conv or block (None: the model's default).
    elayer: str | None = declare(None, "evidence", api=EVIDENCE, api_name="layer", nav=True,
                                 label=lambda: pgettext("view state field", "evidence layer"))
    # The image collection of the dataset views.
    collection: str | None = declare(None, "sha", nav=True, label=lambda: pgettext("view state field", "collection id"))
    # Compare's second subject (None: an example image, the same model); other pages keep but ignore them.
    image2: str | None = declare(None, "sha", control="ctl-image2",
                                 label=lambda: pgettext("view state field", "second image id"))
    model2: str | None = declare(None, "model", control="ctl-model2",
                                 label=lambda: pgettext("view state field", "second model"))
    # The interface language (None: negotiated per request); pages reload to change it.
    lang: str | None = declare(None, "choice", choices=LANGUAGES, api=ANALYSIS,
                               label=lambda: pgettext("view state field", "language"))

    def analysis_part(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in schema(type(self)).analysis_keys}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ViewState:
        """Trusted data (our own stores); anything a client sent goes through ``strict_state``."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> ViewState:
        return replace(self, **changes)


SCHEMA = schema(ViewState)
FIELDS = SCHEMA.fields
# The fields the heatmaps page ranks with in the browser alone (assets/js/ranking.js): their
# controls are shown from the state by the browser too (ui/callbacks/url_sync.py).
RANKING_KEYS = ("criterion", "n", "min_sparsity", "weight")
FIELD = SCHEMA.field


def default_layer(model: str, layers: Mapping[str, int] | list[str]) -> str:
    names = list(layers)
    preferred = DEFAULT_LAYERS.get(model)
    if preferred in names:
        return preferred
    return names[min(len(names) - 1, len(names) // 3)] if names else ""
