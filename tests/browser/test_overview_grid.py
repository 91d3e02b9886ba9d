"""The Overview's table of top filters (dash-ag-grid): each sort arrow in its
own column's header, sorting, a row click opens that filter's detail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import path_of, query_of, snap

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")

pytestmark = pytest.mark.browser

HEADER = """(cell) => {
    const label = cell.querySelector('.ag-header-cell-text').getBoundingClientRect();
    const icon = Array.from(cell.querySelectorAll('.ag-sort-indicator-icon'))
        .find((e) => !e.classList.contains('ag-hidden')).getBoundingClientRect();
    const box = cell.getBoundingClientRect();
    return {label: [label.left, label.right], icon: [icon.left, icon.right], cell: [box.left, box.right]};
}"""


def column(page: Page, field: str) -> list[float]:
    """A column's numbers in the order the rows are shown (AG Grid keeps its DOM order; row-index is the shown one)."""
    rows = page.locator("#overview-table .ag-row").evaluate_all(
        "(rs, field) => rs.map((r) => [Number(r.getAttribute('row-index')),"
        " r.querySelector(`[col-id=${field}]`).textContent])", field)
    return [float(text.replace(",", "")) for _, text in sorted(rows)]


def test_sort_arrows_stand_in_their_own_header_and_rows_open_their_filter(page: Page) -> None:
    page.goto("/?n=6")
    page.wait_for_url(SHA)
    expect(page.locator("#overview-table .ag-row")).to_have_count(6)
    headers = page.locator("#overview-table .ag-header-cell")
    assert headers.all_inner_texts()[:3] == ["Filter", "Rank", "Score"]
    mean = page.locator("#overview-table .ag-header-cell[col-id=mean]")
    mean.click()
    expect(mean).to_have_attribute("aria-sort", "ascending")
    place = mean.evaluate(HEADER)
    # The arrow is inside the Mean header, beside its label, not in the next or previous column.
    assert place["cell"][0] <= place["icon"][0] and place["icon"][1] <= place["cell"][1], place
    assert abs(place["icon"][1] - place["label"][0]) < 24 or abs(place["icon"][0] - place["label"][1]) < 24, place
    values = column(page, "mean")
    assert values == sorted(values)
    mean.click()
    expect(mean).to_have_attribute("aria-sort", "descending")
    values = column(page, "mean")
    assert values == sorted(values, reverse=True)
    snap(page, "overview-grid-sorted", full_page=False)

    first = page.locator("#overview-table .ag-row[row-index='0'] .ag-cell[col-id=index]")
    index = first.inner_text()
    first.click()
    page.wait_for_url(lambda url: path_of(url) == "/detail" and query_of(url).get("filter") == index)
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {index} ")
