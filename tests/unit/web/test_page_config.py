"""dashapp/web/page_config.py: a page does not announce the Python, Dash and plotly versions."""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Callable

import dash
import plotly

from dashapp.service import Analyzer
from tests.unit.web.test_headers import hooked


def test_the_page_config_names_no_versions(make_analyzer: Callable[..., Analyzer]) -> None:
    page = hooked(make_analyzer()).server.test_client().get("/").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))  # type: ignore[union-attr]
    assert "requests_pathname_prefix" in config and "end_id" in config  # what the renderer needs stays
    assert not {"python_version", "dash_version", "plotly_version", "dash_version_url"} & set(config)
    assert sys.version not in page and platform.python_version() not in json.dumps(config)
    assert plotly.__version__ not in json.dumps(config) and dash.__version__ not in json.dumps(config)
