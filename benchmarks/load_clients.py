"""The load benchmark's clients: what each one sends (a warm analysis, the
overview page's Dash callback as a browser posts it, a new image, or a
hostile request), timed and recorded."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from devtools.servers import GunicornServer, random_png

LAYERS = {
    "resnet18": ("conv1", "layer1.0.conv1", "layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1", "layer4.1.conv2"),
    "alexnet": ("features.0", "features.3", "features.6", "features.10"),
}
CRITERIA = ("balanced", "mean", "max", "std")
MIX = (("api", 0.60), ("dash", 0.25), ("cold", 0.15))
OVERVIEW_OUTPUT = "overview-table.rowData"  # dash-ag-grid's rows
REQUEST_TIMEOUT_S = 60.0  # the longest any one request may take; bounds the run's overrun
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the app's default DASHAPP_MAX_UPLOAD_BYTES


@dataclass
class Sample:
    kind: str
    status: int  # 0: no HTTP answer (connection error, timeout)
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


# --------------------------------------------------------------------------- the Dash request


def overview_callback(server: GunicornServer) -> dict[str, Any]:
    """The dependency entry of the overview page's render callback."""
    layout = requests.get(f"{server.url}/_dash-layout", timeout=30)
    layout.raise_for_status()
    dependencies = requests.get(f"{server.url}/_dash-dependencies", timeout=30)
    dependencies.raise_for_status()
    for entry in dependencies.json():
        if OVERVIEW_OUTPUT in split_outputs(entry["output"]):
            return dict(entry)
    raise SystemExit(f"no callback in /_dash-dependencies outputs {OVERVIEW_OUTPUT}")


def split_outputs(output: str) -> list[str]:
    """Dash's output string: ``id.prop`` or ``..id.prop...id.prop..`` for several."""
    if output.startswith("..") and output.endswith(".."):
        return output[2:-2].split("...")
    return [output]


def ready_state(sha: str, layer: str = "layer2.0.conv1") -> dict[str, Any]:
    return {"image": sha, "model": "resnet18", "layer": layer, "criterion": "balanced", "n": 6,
            "min_sparsity": 0.15, "weight": 0.5, "filter": None, "cls": None}


def dash_body(callback: dict[str, Any], ready: dict[str, Any]) -> dict[str, Any]:
    """The body dash-renderer posts when ``ready-state.data`` changes."""
    outputs = []
    for item in split_outputs(callback["output"]):
        component, prop = item.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    inputs = []
    for spec in callback["inputs"]:
        value = ready if (spec["id"], spec["property"]) == ("ready-state", "data") else None
        inputs.append({"id": spec["id"], "property": spec["property"], "value": value})
    return {
        "output": callback["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "changedPropIds": ["ready-state.data"],
        "state": [{"id": spec["id"], "property": spec["property"]} for spec in callback.get("state", [])],
    }


def table_rows(response: requests.Response) -> list[dict[str, Any]]:
    return list(response.json()["response"]["overview-table"]["rowData"])


# --------------------------------------------------------------------------- clients


class Client:
    def __init__(self, server: GunicornServer, shas: list[str], callback: dict[str, Any], hostile: float,
                 recorder: Recorder, deadline: float, seed: int) -> None:
        self.server = server
        self.shas = shas
        self.callback = callback
        self.hostile = hostile
        self.recorder = recorder
        self.deadline = deadline
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.mix = MIX

    def timed(self, kind: str, send: Callable[[], requests.Response], good: Callable[[requests.Response], bool]) -> \
            requests.Response | None:
        started = time.perf_counter()
        try:
            response = send()
        except requests.RequestException as exc:
            self.recorder.add(Sample(kind, 0, time.perf_counter() - started, False, type(exc).__name__))
            return None
        seconds = time.perf_counter() - started
        ok = good(response)
        self.recorder.add(Sample(kind, response.status_code, seconds, ok, "" if ok else response.text[:200]))
        return response

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                if self.hostile and self.random.random() < self.hostile:
                    self.hostile_request()
                    continue
                kind = self.random.choices([k for k, _ in self.mix], [w for _, w in self.mix])[0]
                getattr(self, kind)()
        finally:
            self.session.close()

    def analysis(self, kind: str, sha: str, model: str, layer: str) -> None:
        params = {"image": sha, "model": model, "layer": layer, "criterion": self.random.choice(CRITERIA),
                  "n": self.random.randint(1, 12)}
        self.timed(kind, lambda: self.session.get(f"{self.server.url}/api/analysis", params=params,
                                                  timeout=REQUEST_TIMEOUT_S),
                   lambda r: r.status_code == 200 and bool(r.json()["ranking"]["filters"]))

    def api(self) -> None:
        model = self.random.choice(list(LAYERS))
        self.analysis("api", self.random.choice(self.shas), model, self.random.choice(LAYERS[model]))

    def dash(self) -> None:
        body = dash_body(self.callback, ready_state(self.random.choice(self.shas),
                                                    self.random.choice(LAYERS["resnet18"])))
        self.timed("dash", lambda: self.session.post(f"{self.server.url}/_dash-update-component", json=body,
                                                     timeout=REQUEST_TIMEOUT_S),
                   lambda r: r.status_code == 200 and len(table_rows(r)) == 6)

    def cold(self) -> None:
        data = random_png(self.random.getrandbits(63), self.random.randint(64, 200), self.random.randint(64, 200))
        response = self.timed(
            "cold_upload",
            lambda: self.session.post(f"{self.server.url}/api/images", files={"file": ("new.png", data, "image/png")},
                                      timeout=REQUEST_TIMEOUT_S),
            lambda r: r.status_code == 201,
        )
        if response is not None and response.status_code == 201:
            model = self.random.choice(list(LAYERS))
            self.analysis("cold_analysis", response.json()["sha256"], model, self.random.choice(LAYERS[model]))

    def hostile_request(self) -> None:
        """One request that must be refused with a 4xx JSON error."""
        sha = self.random.choice(self.shas)
        choice = self.random.randrange(7)
        method, path = "GET", "/api/analysis"
        options: dict[str, Any] = {}
        if choice == 0:
            garbage = self.random.randbytes(self.random.randint(1, 64 * 1024))
            method, path, options = "POST", "/api/images", {"files": {"file": ("x.png", garbage, "image/png")}}
        elif choice == 1:
            options = {"params": {"image": sha, "model": "resnet18", "layer": "conv1", "n": "lots"}}
        elif choice == 2:
            options = {"params": {"image": sha, "model": "resnet18", "layer": "../../etc/passwd"}}
        elif choice == 3:
            options = {"params": {"image": "f" * 64, "model": "alexnet", "layer": "features.0", "min_sparsity": "inf"}}
        elif choice == 4:
            target = self.random.choice(["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:22/",
                                         "file:///etc/passwd", "http://[::1]/", "http://10.0.0.1/x.png"])
            method, path, options = "POST", "/api/images", {"json": {"url": target}}
        elif choice == 5:
            # Just over the upload limit: read, then refused by the app.
            method, path = "POST", "/api/images"
            options = {"data": OVER_LIMIT, "headers": {"Content-Type": "application/octet-stream"}}
        else:
            # Far over it: Flask refuses on the Content-Length alone.
            method, path, options = "POST", "/api/images", {"files": {"file": ("huge.png", HUGE, "image/png")}}
        self.timed("hostile",
                   lambda: self.session.request(method, f"{self.server.url}{path}", timeout=REQUEST_TIMEOUT_S,
                                                **options),
                   lambda r: 400 <= r.status_code < 500
                   and r.headers.get("Content-Type", "").startswith("application/json"))


OVER_LIMIT = b"\x89PNG\r\n\x1a\n" + os.urandom(MAX_UPLOAD_BYTES)
HUGE = os.urandom(MAX_UPLOAD_BYTES * 2)
