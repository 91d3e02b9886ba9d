"""The pages the suites that walk every page open (axe-core in
test_accessibility.py, the Spanish check in test_spanish.py): every page of
``dashapp.pages.PAGES`` but those excluded below with a reason, so a new page
is walked the day it is added. What a page draws last (DRAWN) is the one
thing a walked page needs here: a check of the whole page waits for it.
test_walked_pages.py fails when a page of PAGES is neither walked nor
excluded, and on a name here that is not a page."""

from __future__ import annotations

import pytest

from dashapp.pages import PAGES

# What each page draws last: a check of the whole page runs once it is there.
DRAWN = {
    "/": "#overview-table .ag-center-cols-container .ag-cell",
    "/heatmaps": "#heat-grid .js-plotly-plot .heatmaplayer image",
    "/grid": ".map-slot .js-plotly-plot .heatmaplayer image",
    "/detail": "#detail-regions .js-plotly-plot .scatterlayer .trace",
    "/circuit": "#circuit-body .circuit-main",
    "/kernels": "#kernels-patches .patch-filter",
    "/featurevis": "#fv-tiles .fv-tile",
    "/prediction": "#prediction-chart .js-plotly-plot .bars path",
    "/evidence": ".map-slot .js-plotly-plot .heatmaplayer image",
    "/blocks": "#blocks-body .blocks-grid td",
    "/profile": "#profile-table table",
    "/compare": ".cmp-filter .js-plotly-plot .heatmaplayer image",
    "/dataset": "#dataset-grid p",  # no collection chosen: the page says what to do
    "/concepts": "#concepts-results p",  # no test run yet: the page says where results appear
}
# Pages of PAGES the walking suites leave out: path -> why (none today).
NOT_WALKED: dict[str, str] = {}

WALKED = [page.PATH for page in PAGES if page.PATH not in NOT_WALKED]


def drawn(path: str) -> str:
    """The selector of what ``path`` draws last; a walked page without one fails its test, saying so."""
    if path not in DRAWN:
        pytest.fail(f"{path} is in dashapp.pages.PAGES but tests/browser/walked.py has no DRAWN selector for it: "
                    "add what the page draws last, or exclude it in NOT_WALKED with the reason", pytrace=False)
    return DRAWN[path]
