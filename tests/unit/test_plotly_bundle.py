"""plotly.js's cartesian bundle, served at Dash's plotly address."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from plotly.offline import get_plotlyjs_version

from dashapp import plotly_bundle

DASHAPP = Path(plotly_bundle.__file__).resolve().parent


def served() -> Flask:
    server = Flask(__name__)
    plotly_bundle.install(server)
    return server


def test_dash_plotly_address_serves_the_cartesian_bundle_with_its_etag() -> None:
    client = served().test_client()
    response = client.get(plotly_bundle.PLOTLY_PATH)
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert response.data.startswith(b"/**\n* plotly.js (cartesian - minified)")
    # The version plotly.py ships (and Dash would serve): update the vendored file with it.
    assert f"v{get_plotlyjs_version()}\n".encode() in response.data[:100]
    assert len(response.data) < 2_000_000  # the full bundle is 4.8 MB
    etag = response.headers["ETag"]
    again = client.get(plotly_bundle.PLOTLY_PATH, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # Other addresses are left to Dash.
    assert client.get("/_dash-component-suites/plotly/other.js").status_code == 404


def test_the_bundle_keeps_its_licence_and_has_every_trace_the_app_draws() -> None:
    assert "MIT License" in (DASHAPP / "vendor" / "PLOTLY-LICENSE.txt").read_text()
    bundle = plotly_bundle.BUNDLE.read_text(encoding="utf-8")
    source = "\n".join(path.read_text(encoding="utf-8") for path in DASHAPP.rglob("*.py"))
    traces = set(re.findall(r'"type": "(heatmap|scatter|bar|box|image|[a-z0-9]+gl|pie|violin|histogram\w*)"', source))
    traces |= {name.lower() for name in re.findall(r"\bgo\.(\w+)\(", source) if name not in ("Figure",)}
    assert {"heatmap", "scatter", "bar", "box"} <= traces  # the scan finds what the figures use
    missing = {trace for trace in traces if f'moduleType:"trace",name:"{trace}"' not in bundle}
    assert not missing, f"traces the app draws that plotly's cartesian bundle lacks: {missing}"
