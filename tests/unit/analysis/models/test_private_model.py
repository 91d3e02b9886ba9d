"""The private copy and Lucid's redirected ReLU gradient."""

from __future__ import annotations

import torch
from torch import nn

from dashapp.analysis.models.private_model import LayerTap, Redirect, RedirectedReLU, private_model
from tests.support.planted_features import EDGE, feature_model


def _grad(inputs: torch.Tensor, upstream: torch.Tensor, redirect: bool) -> torch.Tensor:
    switch = Redirect()
    switch.on = redirect
    inputs = inputs.clone().requires_grad_(True)
    RedirectedReLU(switch)(inputs).backward(upstream)
    return inputs.grad


def test_forward_is_relu() -> None:
    x = torch.tensor([[-2.0, 0.0, 3.0]])
    assert torch.equal(RedirectedReLU(Redirect())(x), torch.relu(x))


def test_gradient_is_relus_when_any_passes_or_when_redirect_is_off() -> None:
    x = torch.tensor([[-1.0, 2.0, -3.0]])
    up = torch.tensor([[-1.0, -1.0, 1.0]])
    expected = torch.tensor([[0.0, -1.0, 0.0]])
    assert torch.equal(_grad(x, up, True), expected)
    dead = torch.tensor([[-1.0, -2.0]])
    assert torch.equal(_grad(dead, torch.tensor([[-1.0, -1.0]]), False), torch.zeros(1, 2))


def test_dead_image_passes_only_gradient_that_raises_inputs() -> None:
    """Lucid's table: x < 0 lets through gradient pushing the input up (negative
    gradient under descent), never gradient pushing it further down; decided
    per batch element."""
    x = torch.tensor([[-1.0, -2.0], [3.0, -1.0]])
    up = torch.tensor([[-0.5, 0.7], [1.0, -1.0]])
    grad = _grad(x, up, True)
    assert grad[0].tolist() == [-0.5, 0.0]  # all dead: redirected
    assert grad[1].tolist() == [1.0, 0.0]  # one alive: the plain ReLU gradient


def test_private_copy_is_cached_separate_and_redirected() -> None:
    loaded = feature_model()
    private = private_model(loaded)
    assert private_model(loaded) is private
    assert private.module is not loaded.module
    assert any(isinstance(m, RedirectedReLU) for m in private.module.modules())
    assert any(type(m) is nn.ReLU for m in loaded.module.modules())
    assert not any(p.requires_grad for p in private.module.parameters())


def test_tap_reads_the_rectified_norm_output_and_removes_its_hook() -> None:
    loaded = feature_model()
    private = private_model(loaded)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    response = LayerTap(private, loaded.layers["conv"])(x)
    model = loaded.module
    with torch.no_grad():
        expected = torch.relu(model.bn(model.conv(x)))
    assert torch.allclose(response, expected)
    assert float(response[:, EDGE].max()) > 0
    assert all(not m._forward_hooks for m in private.module.modules())


def test_a_hook_on_the_shared_model_is_not_copied_and_a_busy_lock_does_not_block_forever(monkeypatch) -> None:
    import dashapp.analysis.models.private_model as private_module

    loaded = feature_model("hooked")
    seen: list[int] = []
    handle = loaded.module.bn.register_forward_hook(lambda *_args: seen.append(1))
    monkeypatch.setattr(private_module, "LOCK_WAIT_S", 0.05)
    loaded.lock.acquire()  # as if a thread that no longer exists (a fork) held it
    try:
        private = private_model(loaded)
    finally:
        loaded.lock.release()
        handle.remove()
    LayerTap(private, loaded.layers["conv"])(torch.zeros(1, 3, 8, 8))
    assert seen == []


def test_locks_are_fresh_in_a_forked_child() -> None:
    import dashapp.analysis.models.private_model as private_module

    loaded = feature_model("forked")  # kept alive: the cache holds copies of live models only
    private = private_model(loaded)
    private.lock.acquire()  # held by a parent thread at the fork
    private_module._fresh_locks_after_fork()
    assert private.lock.acquire(timeout=1)
    private.lock.release()
