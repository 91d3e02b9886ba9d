"""A view's cached numbers: computed once per view, and never one view waiting on another's."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from dashapp.service import Analyzer
from dashapp.service.lazy import cached_property
from dashapp.state.schema import ViewState

WAIT_S = 30.0  # a bound on waiting for a condition, never a measure of speed


class Counted:
    def __init__(self) -> None:
        self.calls = 0

    @cached_property
    def value(self) -> int:
        """Counts its own computations."""
        self.calls += 1
        return self.calls


def test_computed_once_per_instance_then_an_attribute() -> None:
    first, second = Counted(), Counted()
    assert (first.value, first.value, second.value) == (1, 1, 1)
    assert first.calls == 1 and second.calls == 1
    assert vars(first)["value"] == 1
    assert isinstance(Counted.value, cached_property) and Counted.value.__doc__ == "Counts its own computations."


def test_a_view_computing_a_new_image_holds_up_no_other_view(analyzer: Analyzer) -> None:
    # Python 3.11's functools.cached_property computed every instance's value
    # under one lock per class: a warm view's ranking waited for a new image's
    # forward pass in any other request of the worker.
    examples = list(analyzer.library.examples().values())
    warm = ViewState(image=examples[0], model="resnet18", layer="layer1.0.conv1")
    cold = replace(warm, image=examples[1])
    analyzer.open(warm).ranking  # noqa: B018 - fills the store for the warm image
    computing, release = threading.Event(), threading.Event()
    real = analyzer.activations._compute

    def held(model: Any, image: Any) -> Any:
        computing.set()
        assert release.wait(WAIT_S)
        return real(model, image)

    analyzer.activations._compute = held
    new_image = threading.Thread(target=lambda: analyzer.open(cold).ranking, daemon=True)
    new_image.start()
    try:
        assert computing.wait(WAIT_S)
        answered: list[Any] = []
        reader = threading.Thread(target=lambda: answered.append(analyzer.open(replace(warm, n=3)).ranking),
                                  daemon=True)
        reader.start()
        reader.join(WAIT_S)
        assert answered and len(answered[0].filters) == 3, "the warm view waited for another view's forward pass"
        assert new_image.is_alive()  # the new image's pass was still held all along
    finally:
        release.set()
        new_image.join(WAIT_S)
