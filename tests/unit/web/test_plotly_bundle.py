"""plotly.js with the traces the app draws, served at Dash's plotly address."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
from flask import Flask
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from dashapp.web import plotly_bundle

DASHAPP = Path(plotly_bundle.__file__).resolve().parents[1]


def served() -> Flask:
    server = Flask(__name__)
    plotly_bundle.install(server)
    return server


def test_dash_plotly_address_serves_the_app_bundle_with_its_etag() -> None:
    client = served().test_client()
    response = client.get(plotly_bundle.PLOTLY_PATH)
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert response.data.startswith(b"/**\n* plotly.js (cnn-analyzer: scatter, heatmap, bar, box - minified)")
    # The version plotly.py ships (and Dash would serve): update the vendored file with it.
    assert f"v{get_plotlyjs_version()}\n".encode() in response.data[:100]
    assert len(response.data) < 1_400_000  # the full bundle is 4.8 MB, the cartesian one 1.5 MB
    etag = response.headers["ETag"]
    again = client.get(plotly_bundle.PLOTLY_PATH, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # Other addresses are left to Dash.
    assert client.get("/_dash-component-suites/plotly/other.js").status_code == 404


def test_the_bundle_keeps_its_licence_and_has_every_trace_the_app_draws() -> None:
    assert "MIT License" in (DASHAPP / "web" / "vendor" / "PLOTLY-LICENSE.txt").read_text()
    bundle = plotly_bundle.BUNDLE.read_text(encoding="utf-8")
    # and the notices of the packages bundled into it (esbuild's legal comments)
    assert "Bundled license information" in bundle and "Native Promise Only" in bundle
    source = "\n".join(path.read_text(encoding="utf-8") for path in DASHAPP.rglob("*.py"))
    # every trace type plotly knows, so a figure that starts drawing another one is caught
    classes = (getattr(go, name) for name in dir(go) if name[:1].isupper())  # go imports them lazily
    known = {cls.__name__.lower() for cls in classes if isinstance(cls, type) and issubclass(cls, BaseTraceType)}
    assert {"heatmap", "contour", "scattergl", "pie"} <= known
    traces = {name for name in re.findall(r'"type": "(\w+)"', source) if name in known}
    traces |= {name.lower() for name in re.findall(r"\bgo\.(\w+)\(", source) if name.lower() in known}
    assert {"heatmap", "scatter", "bar", "box"} <= traces  # the scan finds what the figures use
    missing = {trace for trace in traces if f'moduleType:"trace",name:"{trace}"' not in bundle}
    assert not missing, f"traces the app draws that the bundle lacks: {missing}"
