"""Accessibility: axe-core finds no violation on any page (every page of
PAGES but those tests/browser/walked.py excludes with a reason), in the
default view and with a filter, a region and a class selected.

axe-core (MPL-2.0, vendored in tests/browser/vendor/, test-only) is injected
into the page once the page has drawn everything it computes; every rule axe
runs by default (WCAG 2.0/2.1 A and AA, best practices) counts, whatever its
impact. A failure lists each rule with the elements it flagged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .helpers import ROOT, SELECTED, snap
from .walked import WALKED, drawn

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
REPORTS = ROOT / "artifacts" / "axe"
SHA = re.compile(r"[?&]image=([0-9a-f]{64})")



def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; its violations (rule, impact, targets)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [" ".join(map(str, node["target"])) for node in v["nodes"]]}
        for v in result
    ]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['rule']} ({v['impact']}, {len(v['targets'])}×): {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"][:12])
    return "\n".join(lines)


def record(name: str, violations: list[dict[str, Any]]) -> None:
    """Keep each run's findings under artifacts/axe/ (for the before/after tables)."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(violations, indent=1))


def settle(page: Page, path: str) -> None:
    expect(page.locator(drawn(path)).first).to_be_attached()
    page.wait_for_load_state("networkidle")


def open_region(page: Page) -> None:
    """Select region 1 of the detail page the way a keyboard user does."""
    button = page.locator(".region-button").first
    expect(button).to_have_text(re.compile(r"^Region 1 · (S|M|L|XL) "))
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#region-card")).to_contain_text("Region 1")


@pytest.mark.parametrize("path", WALKED)
@pytest.mark.parametrize("selected", [False, True], ids=["default", "selected"])
def test_no_axe_violations(page: Page, path: str, selected: bool) -> None:
    page.goto(path)
    page.wait_for_url(SHA)
    if selected:
        page.goto(path + "?" + page.url.split("?", 1)[1] + SELECTED)
        page.wait_for_url(lambda url: "filter=5" in url and "cls=1" in url)
    settle(page, path)
    if selected and path == "/detail":
        open_region(page)
    if selected and path == "/evidence":
        expect(page.locator("#evidence-title")).to_contain_text("goldfish")
    violations = axe_violations(page)
    name = ("selected" if selected else "default") + "-" + (path.strip("/") or "overview")
    record(name, violations)
    snap(page, f"a11y-{name}")
    assert not violations, f"axe-core violations on {path} ({name}):\n{describe(violations)}"


def test_axe_sees_a_planted_violation(page: Page) -> None:
    """The check can fail: an image without alt text is reported with its element."""
    page.goto("/prediction")
    settle(page, "/prediction")
    page.evaluate("""() => { const img = document.createElement('img'); img.id = 'planted';
        img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw='; document.querySelector('main').append(img); }""")
    violations = axe_violations(page)
    assert any(v["rule"] == "image-alt" and "#planted" in v["targets"] for v in violations), describe(violations)
