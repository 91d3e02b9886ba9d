"""What channel attribution keeps per layer, and the replayed network before a
layer, give the answers a fresh computation gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dashapp.analysis.attribution import baselines, channels
from dashapp.analysis.attribution.channels import channel_attribution
from dashapp.analysis.models.capture import model_input
from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import ModelRegistry
from tests.conftest import EXAMPLES

READS_ONLY_A = [
    ("resnet18", "conv1", True),
    ("resnet18", "layer1.0", True),
    ("resnet18", "layer4", True),
    ("resnet18", "layer1.0.conv1", False),  # the block's add reads its input
    ("resnet18", "layer1.0.conv2", False),  # likewise; and the add changes A in place
    ("resnet18", "layer2.0.downsample.0", False),
    ("alexnet", "features.8", True),
]


@pytest.fixture(scope="module")
def image() -> Image.Image:
    return Image.open(EXAMPLES / "chelsea.png").convert("RGB")


def _zero_pass(registry: ModelRegistry, model: str, image: Image.Image, layer: str) -> torch.Tensor:
    loaded = registry.get(model)
    with TRACING.shared(), loaded.lock, torch.inference_mode():
        return channels._run(loaded, model_input(loaded, image), layer, torch.zeros_like)


@pytest.mark.parametrize(("model", "layer", "only"), READS_ONLY_A)
def test_whether_the_rest_reads_only_a(registry: ModelRegistry, image: Image.Image, model: str, layer: str,
                                       only: bool) -> None:
    loaded = registry.get(model)
    baselines.forget(loaded.module)
    channel_attribution(loaded, image, layer, 281, "gradxact")
    known = baselines.baseline(loaded.module, layer)
    assert known.reads_only_a is only
    assert (known.zero_logits is not None) is only
    # Only where the rest reads only A is the A = 0 logit the same for another image.
    other = Image.fromarray(np.asarray(image)[::-1].copy())
    same = float(_zero_pass(registry, model, other, layer)[0, 281]) == pytest.approx(
        float(_zero_pass(registry, model, image, layer)[0, 281]), rel=1e-6)
    assert same or not only


@pytest.mark.parametrize("layer", ["layer1.0", "layer1.0.conv1", "layer1.0.conv2", "layer2.0.downsample.0"])
def test_kept_and_replayed_answers_equal_the_first(registry: ModelRegistry, image: Image.Image, layer: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = registry.get("resnet18")
    baselines.forget(loaded.module)
    first = channel_attribution(loaded, image, layer, 281, "gradxact")  # finds what it can keep
    later = channel_attribution(loaded, image, layer, 281, "gradxact")  # kept logits, or the replayed prefix
    zero = float(_zero_pass(registry, "resnet18", image, layer)[0, 281])
    for answer in (first, later):
        assert answer.baseline_logit == pytest.approx(zero, rel=1e-5, abs=1e-6)
        assert answer.logit == pytest.approx(first.logit, rel=1e-6)
        np.testing.assert_allclose(answer.attributions, first.attributions, rtol=1e-5,
                                   atol=1e-6 * float(np.abs(first.attributions).max()))
    # The two-row pass (no baseline kept, no replay) gives the same answer.
    baselines.forget(loaded.module)
    monkeypatch.setattr(channels, "_early", lambda *_: False)
    known = baselines.baseline(loaded.module, layer)
    known.reads_only_a = False
    row = channel_attribution(loaded, image, layer, 281, "gradxact")
    assert row.baseline_logit == pytest.approx(later.baseline_logit, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(row.attributions, later.attributions, rtol=1e-5,
                               atol=1e-6 * float(np.abs(row.attributions).max()))
    baselines.forget(loaded.module)


def count_stem_passes(stem: torch.nn.Conv2d, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time ``stem`` convolves, until ``monkeypatch`` is undone."""
    computed: list[int] = []
    convolve = torch.nn.Conv2d._conv_forward

    def counted(module: torch.nn.Conv2d, *args: object) -> torch.Tensor:
        computed.extend([1] if module is stem else [])
        return convolve(module, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(torch.nn.Conv2d, "_conv_forward", counted)
    return computed


def test_the_replay_leaves_the_model_as_it_was(registry: ModelRegistry, image: Image.Image,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = registry.get("resnet18")
    baselines.forget(loaded.module)
    channel_attribution(loaded, image, "layer1.0.conv1", 281, "gradxact")
    computed = count_stem_passes(loaded.module.conv1, monkeypatch)
    for _ in range(2):
        channel_attribution(loaded, image, "layer1.0.conv1", 281, "gradxact")
    assert len(computed) == 2  # once per answer: the zero pass replays the stem
    monkeypatch.undo()
    assert not any("forward" in part.__dict__ for part in loaded.module.modules())
    assert not any(part._forward_hooks for part in loaded.module.modules())
    with torch.inference_mode():
        batch = model_input(loaded, image)
        assert torch.equal(loaded.module(batch), loaded.module(batch))


def test_weights_changed_in_place_are_not_answered_from_an_old_entry(registry: ModelRegistry) -> None:
    loaded = registry.get("resnet18")
    baselines.forget(loaded.module)
    entry = baselines.baseline(loaded.module, "layer4")
    entry.reads_only_a = True
    assert baselines.baseline(loaded.module, "layer4") is entry
    bias = dict(loaded.module.named_parameters())["fc.bias"]
    with torch.no_grad():
        bias.add_(0.0)  # a change in place: the weights' version moves on
    fresh = baselines.baseline(loaded.module, "layer4")
    assert fresh is not entry and fresh.reads_only_a is None
    baselines.forget(loaded.module)


def test_integrated_gradients_keep_the_baseline_images_activation(registry: ModelRegistry,
                                                                  image: Image.Image) -> None:
    loaded = registry.get("resnet18")
    baselines.forget(loaded.module)
    first = channel_attribution(loaded, image, "layer4", 7, "ig", steps=4)
    known = baselines.baseline(loaded.module, "layer4")
    assert known.image_activation is not None and known.reads_only_a is True
    later = channel_attribution(loaded, image, "layer4", 7, "ig", steps=4)
    assert later.baseline_logit == pytest.approx(first.baseline_logit, rel=1e-6)
    np.testing.assert_allclose(later.attributions, first.attributions, rtol=1e-5, atol=1e-9)
    with torch.inference_mode():
        logits = loaded.module(torch.zeros_like(model_input(loaded, image)))
    assert later.baseline_logit == pytest.approx(float(logits[0, 7]), rel=1e-5)
    baselines.forget(loaded.module)


@pytest.mark.parametrize("size", [5, 8])
def test_integrated_gradients_in_batches_equal_one_batch_and_run_the_stem_once(
        registry: ModelRegistry, image: Image.Image, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = registry.get("resnet18")
    monkeypatch.setattr(channels, "IG_BATCH", 64)
    whole = channel_attribution(loaded, image, "layer1.0", 281, "ig", steps=12)
    monkeypatch.setattr(channels, "IG_BATCH", size)
    computed = count_stem_passes(loaded.module.conv1, monkeypatch)
    parts = channel_attribution(loaded, image, "layer1.0", 281, "ig", steps=12)
    monkeypatch.undo()
    assert len(computed) == 1  # the later batches replay the network before the layer
    assert parts.logit == pytest.approx(whole.logit, rel=1e-6)
    assert parts.baseline_logit == pytest.approx(whole.baseline_logit, rel=1e-6)
    np.testing.assert_allclose(parts.attributions, whole.attributions, rtol=1e-5,
                               atol=1e-6 * float(np.abs(whole.attributions).max()))
    assert not any("forward" in part.__dict__ for part in loaded.module.modules())
