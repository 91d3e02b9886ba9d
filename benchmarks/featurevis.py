"""Feature visualization benchmark: optimization steps per second beside the floor.

    .venv/bin/python benchmarks/featurevis.py [--model resnet18] [--steps 32] [--repeat 5] [--skip-full]

The floor is one forward + backward pass of the whole model at the
visualization's size, with gradients to the input only, measured in the same
run. A step does that much work and more (the Fourier image, the transforms,
Adam), but only up to the visualized layer, so its rate divided by the floor's
is printed per layer: the goal is at least 0.8. Last, the seconds to one
finished visualization at the default settings (skip with --skip-full).
Seeded random weights; set OMP_NUM_THREADS to compare like with like.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashapp.analysis.featurevis.imageparam import normalize
from dashapp.analysis.featurevis.optimize import FeatureVisSettings, visualize
from dashapp.analysis.models.registry import LoadedModel, ModelRegistry


def floor_seconds(loaded: LoadedModel, size: int, repeat: int) -> float:
    """Median seconds of one forward + backward of the whole model at ``size``."""
    times = []
    generator = torch.Generator().manual_seed(0)
    for _ in range(repeat + 1):
        image = torch.rand(1, 3, size, size, generator=generator).requires_grad_(True)
        start = time.perf_counter()
        with torch.enable_grad():
            loaded.module(normalize(image)).sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # the first pass warms up the allocator


def step_seconds(loaded: LoadedModel, layer: str, settings: FeatureVisSettings, repeat: int) -> float:
    """Median seconds per optimization step over ``repeat`` short runs."""
    visualize(loaded, layer, 0, FeatureVisSettings(steps=2, size=settings.size))  # makes the private copy
    runs = [visualize(loaded, layer, index, settings).seconds / settings.steps for index in range(repeat)]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    loaded = ModelRegistry((args.model,), policy="random", seed=0, device="cpu").get(args.model)
    defaults = FeatureVisSettings()
    layers = list(loaded.layers)
    chosen = [layers[len(layers) // 2], layers[-1]]  # a middle layer and the deepest
    floor = floor_seconds(loaded, defaults.size, args.repeat)
    print(f"threads: {torch.get_num_threads()}  model: {args.model}  size: {defaults.size} px")
    print(f"floor (forward + backward, whole model): {floor * 1000:.1f} ms = {1 / floor:.2f} passes/s")
    for layer in chosen:
        settings = FeatureVisSettings(steps=args.steps, size=defaults.size)
        step = step_seconds(loaded, layer, settings, args.repeat)
        print(f"{layer:>16}: {step * 1000:.1f} ms/step = {1 / step:.2f} steps/s, ratio to floor {floor / step:.2f}")
    if not args.skip_full:
        layer = chosen[0]
        result = visualize(loaded, layer, 0, defaults)
        print(
            f"default settings ({defaults.steps} steps, {defaults.size} px) on {layer}: "
            f"{result.seconds:.1f} s to a finished visualization ({result.seconds / floor:.0f} floors)"
        )


if __name__ == "__main__":
    main()
