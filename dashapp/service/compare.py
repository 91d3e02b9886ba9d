"""The Compare page's subject: two bound views of one layer.

The second view is the state's ``image2`` (or, when none is chosen, the first
example that is not the first image) under ``model2`` (or the same model).
Both must have the layer with the same number of filters, so that filter
``i`` means the same unit on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dashapp.analysis.maps.compare import Difference, differing_filters
from dashapp.state.schema import ViewState

from ..errors import UserError
from ..i18n import _
from .view import LayerView

if TYPE_CHECKING:
    from . import Analyzer


@dataclass
class Comparison:
    a: LayerView
    b: LayerView
    notices: list[str] = field(default_factory=list)

    @property
    def same_image(self) -> bool:
        return self.a.subject.sha == self.b.subject.sha

    def differences(self, by: str, n: int) -> list[Difference]:
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


def open_pair(service: Analyzer, state: ViewState) -> Comparison:
    """Bind both subjects once; refuse a second model without this layer."""
    first = service.open(state.with_(filter=None))
    image, notices = second_image(service, state)
    model = state.model2 or state.model
    layers = service.models.layers(model)
    if state.layer not in layers or layers[state.layer].out_channels != first.info.out_channels:
        raise UserError(_("{model} has no layer {layer} with {n} filters: compare two models of the same "
                          "architecture (a stock model and the team's fine-tuned copy).").format(
                              model=model, layer=state.layer, n=first.info.out_channels))
    if service.registry.needs_download(model):
        message = _("{model}'s weights are not downloaded yet: choose it once as the model to fetch them.")
        raise UserError(message.format(model=model), 503)
    second = service.open(state.with_(image=image, model=model, filter=None))
    return Comparison(first, second, notices)
