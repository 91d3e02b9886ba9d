"""Page benchmark: the bytes each page's callback answers carry, and the time
from a control change to new figures on a warm cache, as a ratio to a bare
forward pass measured in the same run.

    .venv/bin/python benchmarks/pages.py [--repeat 5]

Answers are serialized with Dash's own JSON encoder (the body of a
/_dash-update-component response, less its small envelope).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextvars import copy_context
from pathlib import Path
from typing import Any

from dash._callback_context import context_value
from dash._utils import AttributeDict, to_json
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashapp import create_app
from dashapp.analysis.models.capture import forward_only
from dashapp.config.settings import Settings
from dashapp.state.schema import ViewState
from devtools.processes import scratch_dir

PAGE_OUTPUTS = {
    "overview": "overview-table.data",
    "heatmaps": "heat-grid.className",
    "grid (24 maps)": '"grid","type":"fig-base"',
    "detail": "detail-regions.figure",
    "kernels & patches": "kernels-patches.children",
    "prediction": "prediction-chart.figure",
    "class evidence": '"evidence","type":"fig-base"',
    "layer profile": "profile-sparsity.figure",
}


def find(app: Any, fragment: str) -> Any:
    """The server callback one of whose own outputs (not a duplicate one, marked "@") matches ``fragment``."""
    for key, value in app.callback_map.items():
        outputs = key.strip(".").split("...")
        if "callback" in value and any(fragment in output and "@" not in output for output in outputs):
            return value["callback"].__wrapped__
    raise KeyError(fragment)


def in_context(func: Any, trigger: str, *args: Any, **kwargs: Any) -> Any:
    def call() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": trigger, "value": None}], inputs_list=[],
                                        states_list=[], outputs_list=[], input_values={}, state_values={}))
        return func(*args, **kwargs)

    return copy_context().run(call)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(data_dir=scratch_dir("bench-pages-"), weights="random", device="cpu")
    app = create_app(settings)
    service = app.server.extensions["dashapp.analyzer"]
    sync = find(app, "url-target.data")
    controls = {"model": "resnet18", "layer": "layer2.0.conv1", "n": 6, "criterion": "balanced",
                "min_sparsity": 0.15, "weight": 0.5, "opacity": 0.5, "colormap": "Jet"}
    first = in_context(sync, "url.search", search="", controls=controls, image_choice=None, nav=None, current=None)
    ready = first["view"]
    _ = service.open(ViewState.from_dict(ready)).maps  # one forward pass fills every layer: a warm cache

    print("bytes each page's callbacks send (resnet18, layer2.0.conv1 unless noted, n=6)")
    for page, fragment in PAGE_OUTPUTS.items():
        func = find(app, fragment)
        state_args = [None] if fragment == "heat-grid.className" else []
        body = to_json(func(ready, *state_args))
        print(f"  {page:<20} {len(body) / 1000:8.1f} KB")
    conv1 = {**ready, "layer": "conv1"}
    for label, fragment in (("heatmaps, conv1", "heat-grid.className"), ("grid, conv1", '"grid","type":"fig-base"')):
        func = find(app, fragment)
        extra = [None] if fragment == "heat-grid.className" else []
        print(f"  {label:<20} {len(to_json(func(conv1, *extra))) / 1000:8.1f} KB  (112x112 maps)")

    loaded = service.models.model("resnet18")
    image = Image.open(Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.png")
    forward_only(loaded, image)
    floor = statistics.median(
        [_timed(lambda: forward_only(loaded, image)) for _ in range(args.repeat)]
    )
    heat = find(app, "heat-grid.className")
    layers = list(service.models.layers("resnet18"))
    times = []
    for i in range(args.repeat):
        new_controls = {**controls, "layer": layers[(i * 3) % len(layers)],
                        "criterion": ("mean", "max", "std", "balanced")[i % 4]}

        def change(c: dict[str, Any] = new_controls) -> None:
            out = in_context(sync, "ctl-layer.value", search="", controls=c, image_choice=None, nav=None,
                             current=ready)
            to_json(out)
            to_json(heat(out["view"], None))

        times.append(_timed(change))
    warm = statistics.median(times)
    print(f"floor: bare forward pass                     {floor * 1000:7.1f} ms  1.00x")
    print(f"control change -> new heatmaps (warm cache)  {warm * 1000:7.1f} ms  {warm / floor:4.2f}x "
          "(state callback + page callback + JSON)")


def _timed(func: Any) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
