"""The enabled models as the rest of the app sees them: loaded models, their
layer tables (available before any weights download), and the catalog the
state parser validates against."""

from __future__ import annotations

from typing import Any

from dashapp.analysis.models.blocks import EvidenceLayer, default_evidence_layer
from dashapp.analysis.models.registry import LayerInfo, LoadedModel, ModelError, ModelRegistry, ProgressFn
from dashapp.config.models_file import read_models_file
from dashapp.config.settings import Settings
from dashapp.state.schema import Catalog, EvidenceCatalog

from ..errors import UserError
from ..i18n import _
from ..wording.errors import error_text


class ModelCatalog:
    def __init__(self, settings: Settings, registry: ModelRegistry | None = None) -> None:
        team = read_models_file(settings.models_file) if settings.models_file is not None else ()
        self.registry = registry or ModelRegistry(
            settings.models, settings.weights, settings.random_seed, settings.device, settings.weights_mirror, team,
            shared_dir=settings.shared_weights_dir,
        )
        self._state_catalog: Catalog | None = None
        self._evidence_catalog: dict[str, tuple[str, ...]] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return self.registry.names

    def model(self, name: str, progress: ProgressFn | None = None) -> LoadedModel:
        try:
            return self.registry.get(name, progress)
        except ModelError as exc:
            if name not in self.registry.names:
                raise self._unknown(name) from exc
            # Why a known model cannot be used (weights, device), in the reader's language.
            raise UserError(error_text(exc), 503) from exc

    def _unknown(self, model: str) -> UserError:
        return UserError(_("Unknown model {model}; available: {models}.").format(
            model=repr(str(model)[:40]), models=", ".join(self.registry.names)), 404)

    def layers(self, model: str) -> dict[str, LayerInfo]:
        """The model's layer table, without waiting for a weights download."""
        if model not in self.registry.names:
            raise self._unknown(model)
        try:
            return self.registry.layers(model)
        except ModelError as exc:
            raise UserError(error_text(exc), 503) from exc

    def layer(self, model: str, layer: str) -> LayerInfo:
        layers = self.layers(model)
        if layer not in layers:
            raise UserError(_("{model} has no conv layer named {layer}.").format(model=model, layer=repr(layer[:40])),
                            404)
        return layers[layer]

    def evidence_layers(self, model: str) -> list[EvidenceLayer]:
        """Convs and blocks of ``model`` class evidence can be computed at, in forward order."""
        self.layers(model)  # an unknown model is a 404
        try:
            return self.registry.evidence_layers(model)
        except ModelError as exc:
            raise UserError(error_text(exc), 503) from exc

    def evidence_layer(self, model: str, name: str | None) -> EvidenceLayer:
        """The named evidence layer, or the model's default one (ResNet18: ``layer4``) for None."""
        layers = self.evidence_layers(model)
        wanted = default_evidence_layer(layers) if name is None else name
        for layer in layers:
            if layer.name == wanted:
                return layer
        raise UserError(_("{model} has no conv layer or block named {layer}; GET /api/models lists its evidence "
                          "layers.").format(model=model, layer=repr(str(name)[:40])), 404)

    def evidence_catalog(self) -> EvidenceCatalog:
        """model -> evidence layer names: what the state parser accepts for ``elayer``."""
        if self._evidence_catalog is None:
            self._evidence_catalog = {
                name: tuple(layer.name for layer in self.evidence_layers(name)) for name in self.names
            }
        return self._evidence_catalog

    def state_catalog(self) -> Catalog:
        """model -> {layer -> filter count}: the ranges the state parser checks.
        Layer tables do not depend on the weights, so this is built once."""
        if self._state_catalog is None:
            self._state_catalog = {
                name: {layer: info.out_channels for layer, info in self.layers(name).items()} for name in self.names
            }
        return self._state_catalog

    def classes(self, model: str) -> int:
        """How many classes ``model`` predicts: a team model's from its
        checkpoint (loaded at start), a torchvision model's ImageNet 1000."""
        loaded = self.registry.loaded(model)
        return len(loaded.categories) if loaded is not None and loaded.categories else 1000

    def class_counts(self) -> dict[str, int]:
        """model -> class count, the range of the state's ``cls``."""
        return {name: self.classes(name) for name in self.names}

    def source(self, model: str) -> str:
        return "team file" if model in self.registry.team else "torchvision"

    def describe(self) -> list[dict[str, Any]]:
        """Every model with its weights and layers (``GET /api/models``)."""
        result = []
        for name in self.names:
            loaded = self.model(name)
            result.append({
                "name": name,
                "source": loaded.source,
                "weights": loaded.weights.as_dict(),
                "classes": len(loaded.categories),
                "input_size": loaded.input_size,
                "normalization": {"mean": list(loaded.mean), "std": list(loaded.std)},
                "layers": [info.as_dict() for info in loaded.layers.values()],
                "evidence_layers": [layer.as_dict() for layer in loaded.evidence_layers()],
                "default_evidence_layer": loaded.default_evidence_layer,
            })
        return result
