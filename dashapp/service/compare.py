"""The Compare page's subject: two bound views.

The second view is the state's ``image2`` (or, when none is chosen, the first
example that is not the first image) under ``model2`` (or the same model).

Two models of the same architecture (the same layers, with the same numbers of
filters: a stock model and a fine-tuned copy) are compared filter by filter at
the state's layer, since filter ``i`` is the same unit on both sides. Two
architectures share no units: they are compared by what each concludes about
the same class (its prediction, its class evidence at its own default
evidence layer) and by their layer profiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dashapp.analysis.maps.compare import Difference, differing_filters
from dashapp.state.schema import ViewState

from ..errors import UserError
from ..i18n import _
from .evidence import EvidenceAnswer
from .view import LayerView

if TYPE_CHECKING:
    from . import Analyzer


@dataclass(frozen=True)
class ClassEvidence:
    """Both models' evidence for one class (by name), each at its default evidence layer."""

    label: str
    a: EvidenceAnswer
    b: EvidenceAnswer | None  # None: the second model has no class of that name


@dataclass
class Comparison:
    a: LayerView
    b: LayerView
    notices: list[str] = field(default_factory=list)
    evidence: ClassEvidence | None = None  # only across architectures

    @property
    def same_image(self) -> bool:
        return self.a.subject.sha == self.b.subject.sha

    @property
    def same_architecture(self) -> bool:
        """Filter ``i`` is the same unit on both sides (filter-by-filter comparison)."""
        return self.evidence is None

    def differences(self, by: str, n: int) -> list[Difference]:
        if not self.same_architecture:
            return []
        return differing_filters(self.a.stats, self.b.stats, by, n)

    def swapped_state(self, filter_index: int | None = None) -> ViewState:
        """The second subject as the main one (its detail link), with the first as its second."""
        a, b = self.a.state, self.b.state
        return b.with_(filter=filter_index, image2=a.image, model2=a.model if a.model != b.model else None)


def second_image(service: Analyzer, state: ViewState) -> tuple[str, list[str]]:
    if state.image2:
        return state.image2, []
    if state.model2 and state.model2 != state.model:
        return state.image or "", []  # one image under two models
    others = [sha for sha in service.library.examples().values() if sha != state.image]
    if not others:
        raise UserError(_("Choose a second image or a second model under “Compare with” in the sidebar."))
    name = service.library.example_name(others[0]) or _("an example")
    return others[0], [_("No second image chosen: comparing with the example {name}. Choose another image or a "
                         "second model under “Compare with” in the sidebar.").format(name=name)]


def same_architecture(service: Analyzer, model: str, other: str) -> bool:
    """The same layers, each with the same number of filters."""
    if model == other:
        return True
    ours, theirs = service.models.layers(model), service.models.layers(other)
    return list(ours) == list(theirs) and all(ours[k].out_channels == theirs[k].out_channels for k in ours)


def class_evidence(service: Analyzer, a: LayerView, b: LayerView) -> ClassEvidence:
    """The state's class (else A's top class) under both models, at each one's default evidence layer."""
    categories = a.loaded.categories
    index = a.state.cls if a.state.cls is not None and 0 <= a.state.cls < len(categories) else None
    if index is None:
        index = int(a.prediction[0]["index"]) if a.prediction else 0
    label = categories[index]
    first = a.evidence(index, "gradcam", service.models.evidence_layer(a.loaded.name, None).name)
    theirs = b.loaded.categories
    if label not in theirs:
        return ClassEvidence(label, first, None)
    second = b.evidence(theirs.index(label), "gradcam", service.models.evidence_layer(b.loaded.name, None).name)
    return ClassEvidence(label, first, second)


def open_pair(service: Analyzer, state: ViewState) -> Comparison:
    """Bind both subjects once: filter by filter for one architecture, by
    prediction, class evidence and profile across two."""
    first = service.open(state.with_(filter=None))
    image, notices = second_image(service, state)
    model = state.model2 or state.model
    layers = service.models.layers(model)
    if service.registry.needs_download(model):
        message = _("{model}'s weights are not downloaded yet: choose it once as the model to fetch them.")
        raise UserError(message.format(model=model), 503)
    if same_architecture(service, state.model, model):
        second = service.open(state.with_(image=image, model=model, filter=None))
        return Comparison(first, second, notices)
    layer = state.layer if state.layer in layers else next(iter(layers))
    second = service.open(state.with_(image=image, model=model, layer=layer, filter=None, elayer=None))
    return Comparison(first, second, notices, class_evidence(service, first, second))
