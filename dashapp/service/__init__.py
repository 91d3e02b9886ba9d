"""The one facade pages and the JSON API ask: images in, bound views out.

``Analyzer`` holds the image library, the model catalog, the activation store
and the per-process memo; ``open(state)`` binds an image, a loaded model and a
layer once and returns a ``LayerView``. It knows nothing about HTTP or Dash.
"""

from __future__ import annotations

from typing import Any

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.state.schema import ViewState

from ..errors import UserError
from ..i18n import _
from ..store import ActivationStore, ImageStore, Subject, make_backend
from .catalog import ModelCatalog
from .dataset import Collections
from .featurevis import FeatureVisJobs, FeatureVisRequest
from .library import EXAMPLE_FILES, EXAMPLES_DIR, ImageLibrary
from .memo import Memo
from .view import FilterView, LayerView

__all__ = [
    "EXAMPLES_DIR",
    "EXAMPLE_FILES",
    "Analyzer",
    "Collections",
    "FeatureVisJobs",
    "FeatureVisRequest",
    "FilterView",
    "ImageLibrary",
    "LayerView",
    "ModelCatalog",
    "Subject",
]


class Analyzer:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry | None = None,
        images: ImageStore | None = None,
        backend: Any = None,
    ) -> None:
        self.settings = settings
        self.library = ImageLibrary(settings, images)
        self.models = ModelCatalog(settings, registry)
        self.activations = ActivationStore(backend if backend is not None else make_backend(settings),
                                           fills_at_once=settings.fills_at_once)
        self.memo = Memo(max_bytes=32 * 1024 * 1024)
        self.featurevis = FeatureVisJobs(settings, self.models, self.activations)
        self.collections = Collections(settings, self.models, self.library.store)

    @property
    def registry(self) -> ModelRegistry:
        return self.models.registry

    def open(self, state: ViewState) -> LayerView:
        """Validate and bind the state's image, model and layer, once."""
        if not state.image:
            raise UserError(_("An image is required: upload one or choose an example."))
        info = self.models.layer(state.model, state.layer)
        loaded = self.models.model(state.model)
        image = self.library.image(state.image)
        return LayerView(self, state, Subject(state.image, loaded, image), info)
