"""A private copy of a registry network for optimizing inputs, and a tap on one layer.

Feature visualization backpropagates to the input for hundreds of steps with
hooks registered on the network. Doing that on the registry's shared module
would let the hooks fire inside other requests' passes, and holding the
model's lock instead would stall every other analysis of the model for the
whole run. So each model gets one deep copy, made on first use and cached,
whose ReLUs can redirect their gradient as Lucid's do.
"""

from __future__ import annotations

import copy
import os
import threading
import weakref
from dataclasses import dataclass, field

import torch
from torch import nn

from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import LayerInfo, LoadedModel


class LayerNotReached(RuntimeError):
    """The forward pass ended without running the tapped layer."""


REDIRECT_STEPS = 16  # Lucid redirects ReLU gradients for the first 16 steps only


class Redirect:
    """Whether the private copy's ReLUs redirect their gradient right now."""

    def __init__(self) -> None:
        self.on = False


class _RedirectedReLUFunction(torch.autograd.Function):
    """ReLU whose gradient is redirected where it would vanish (Lucid's
    redirected_relu_grad, which its render_vis applies for the first 16
    steps): for an image whose ReLU lets no gradient through at all, the
    gradient passes wherever it would raise a negative input, so a filter
    silent on the starting image still tells the optimizer which way is up."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, inputs: torch.Tensor, redirect: bool) -> torch.Tensor:
        ctx.save_for_backward(inputs)
        ctx.redirect = redirect  # type: ignore[attr-defined]
        return inputs.clamp(min=0)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (inputs,) = ctx.saved_tensors  # type: ignore[attr-defined]
        relu_grad = torch.where(inputs < 0, torch.zeros_like(grad), grad)
        if not ctx.redirect:  # type: ignore[attr-defined]
            return relu_grad, None
        # Descent moves an input by -grad: grad > 0 would push a negative input lower.
        redirected = torch.where((inputs < 0) & (grad > 0), torch.zeros_like(grad), grad)
        passes = relu_grad.flatten(1).norm(dim=1) > 0  # per image, as Lucid decides
        return torch.where(passes.view(-1, *[1] * (grad.dim() - 1)), relu_grad, redirected), None


class RedirectedReLU(nn.Module):
    """Stands in for every nn.ReLU of the private copy (the same forward)."""

    def __init__(self, redirect: Redirect) -> None:
        super().__init__()
        self.redirect = redirect

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return rectify(inputs, self.redirect)


def rectify(inputs: torch.Tensor, redirect: Redirect) -> torch.Tensor:
    # After the first steps the plain ReLU gives the same gradient, natively.
    return _RedirectedReLUFunction.apply(inputs, True) if redirect.on else torch.relu(inputs)


def _redirect_relus(module: nn.Module, redirect: Redirect) -> nn.Module:
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.ReLU:
                setattr(parent, name, RedirectedReLU(redirect))
    return module


@dataclass
class PrivateModel:
    """A deep copy of a registry model for optimizations, and its own lock:
    hooks are registered per run, so runs on one copy take turns."""

    module: nn.Module
    redirect: Redirect
    lock: threading.Lock = field(default_factory=threading.Lock)


_COPIES: weakref.WeakKeyDictionary[nn.Module, PrivateModel] = weakref.WeakKeyDictionary()
_COPIES_LOCK = threading.Lock()
LOCK_WAIT_S = 10.0


def _fresh_locks_after_fork() -> None:
    """Dash runs background jobs in forked processes: a lock a thread of the
    parent held at the fork would stay held forever in the child."""
    global _COPIES_LOCK
    _COPIES_LOCK = threading.Lock()
    for private in list(_COPIES.values()):
        private.lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


def private_model(loaded: LoadedModel) -> PrivateModel:
    """The cached private copy of ``loaded``'s network, made on first use.

    The copy is taken under the model's lock, when no other request's hooks
    are registered on it (capture and Grad-CAM register theirs under that
    lock), and any hook found on the copy is removed. Its ReLUs are
    redirected ReLUs (the same forward). It costs the network's size in
    memory once per model (45 MB for ResNet18).
    """
    with _COPIES_LOCK:
        private = _COPIES.get(loaded.module)
        if private is None:
            # Normally free at once; bounded, because in a forked background
            # job the lock may be held by a thread that does not exist there.
            locked = loaded.lock.acquire(timeout=LOCK_WAIT_S)
            try:
                module = copy.deepcopy(loaded.module)
            finally:
                if locked:
                    loaded.lock.release()
            for part in module.modules():  # never another request's hooks
                part._forward_hooks.clear()
                part._forward_pre_hooks.clear()
                part._backward_hooks.clear()
            redirect = Redirect()
            private = PrivateModel(_redirect_relus(module, redirect).eval().requires_grad_(False), redirect)
            _COPIES[loaded.module] = private
    return private


class _Reached(Exception):
    """Raised by the tap once the layer has answered: the rest of the network
    does not change the objective, so it is not run."""


class LayerTap:
    """Reads one layer's response, as capture.py defines it, and stops the pass there."""

    def __init__(self, private: PrivateModel, info: LayerInfo) -> None:
        modules = dict(private.module.named_modules())
        self.module = private.module
        self.redirect = private.redirect
        self.source = modules[info.norm] if info.norm else modules[info.name]
        self.activation = modules[info.activation] if info.activation else None

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) rectified response of the layer to the normalized ``inputs``."""
        seen: list[torch.Tensor] = []

        def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            # A copy, so an in-place activation cannot rewrite the tensor
            # autograd keeps; .forward so no other hook on it fires.
            response = output.clone()
            if self.activation is not None:
                response = self.activation.forward(response)
            seen.append(rectify(response, self.redirect))
            raise _Reached

        handle = self.source.register_forward_hook(hook)
        try:
            with TRACING.shared():
                self.module(inputs)
        except _Reached:
            pass
        finally:
            handle.remove()
        if not seen:
            raise LayerNotReached(f"the forward pass never reached {self.source.__class__.__name__}")
        return seen[0]
