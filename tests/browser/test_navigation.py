"""The navbar and the sidebar on a phone and on a wide screen, the filter
detail link, and the layer drop-down's open list (issue 24): on a phone
(390×844) the menu and the controls fold behind buttons so the page heading
and its first figure are in the first screen; at 1440 px the menu is one
line of a few groups, each page one click from its open group, the current
page marked, all of it by keyboard too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from dashapp.pages import PAGES

from .conftest import LiveServer
from .helpers import TIMEOUT_MS, path_of, query_of
from .test_pages import nav_link, open_default, wait_for_heatmaps

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}


def top_of(page: Page, selector: str) -> float:
    """The top of the first element matching ``selector``, in the page (not the viewport)."""
    return float(page.eval_on_selector(selector, "e => e.getBoundingClientRect().top + window.scrollY"))


def wait_settled(page: Page, selector: str) -> None:
    """Wait until the element stopped moving (the panel slides in): two frames at the same place."""
    page.wait_for_function(
        """selector => new Promise(resolve => {
            const at = () => JSON.stringify(document.querySelector(selector).getBoundingClientRect());
            const first = at();
            requestAnimationFrame(() => requestAnimationFrame(() => resolve(at() === first)));
        })""",
        arg=selector,
    )


def test_on_a_phone_the_heading_and_first_figure_are_in_the_first_screen(page: Page) -> None:
    page.set_viewport_size(PHONE)
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    # The menu and the controls are folded away: the page comes first.
    expect(page.locator("#nav-menu")).to_be_hidden()
    expect(page.locator(".app-sidebar")).to_be_hidden()
    assert top_of(page, "h1.page-title") < PHONE["height"]
    figure = "#heat-grid .js-plotly-plot"
    assert top_of(page, figure) < PHONE["height"], "the first map starts below the first screen"


def test_on_a_phone_the_menu_button_opens_the_menu_and_a_link_closes_it(page: Page) -> None:
    page.set_viewport_size(PHONE)
    open_default(page, "/heatmaps")
    toggle = page.locator("#nav-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#nav-menu")).to_be_visible()
    expect(nav_link(page, "/")).to_be_visible()
    group = page.get_by_role("button", name="Filters", exact=True)
    group.click()
    expect(group).to_have_attribute("aria-expanded", "true")
    link = nav_link(page, "/grid")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(lambda url: path_of(url) == "/grid")
    expect(page.locator("#nav-menu")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_on_a_phone_the_controls_button_opens_the_sidebar_over_the_page(page: Page) -> None:
    page.set_viewport_size(PHONE)
    open_default(page, "/")
    toggle = page.locator("#sidebar-toggle")
    expect(toggle).to_be_visible()
    expect(page.locator("#ctl-layer")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    layer = page.locator("#ctl-layer")
    expect(layer).to_be_visible()
    wait_settled(page, "#app-sidebar")
    expect(layer).to_be_in_viewport(ratio=1)
    # Focus moves into the panel; Escape closes it and gives focus back to the button.
    expect(page.locator("#sidebar-close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(layer).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # The close button closes it too.
    toggle.click()
    expect(layer).to_be_visible()
    page.locator("#sidebar-close").click()
    expect(layer).to_be_hidden()


def test_at_1440_the_menu_is_one_line_of_groups_each_page_one_click_away(page: Page) -> None:
    page.set_viewport_size(WIDE)
    open_default(page, "/grid")
    entries = page.locator(".app-navbar .navbar-nav > .nav-item > .nav-link")
    expect(entries.first).to_be_visible()
    tops = entries.evaluate_all("links => links.map(a => Math.round(a.getBoundingClientRect().top))")
    assert len(tops) >= 2 and len(set(tops)) == 1, f"the menu's entries are on more than one line: {tops}"
    # The brand, the menu and the language switch share the bar's one line.
    bar = page.locator(".app-navbar").bounding_box()
    assert bar is not None and bar["height"] < 70, bar
    expect(page.locator("#nav-toggle")).to_be_hidden()
    expect(page.locator("#sidebar-toggle")).to_be_hidden()
    expect(page.locator(".app-sidebar")).to_be_visible()

    # Every page is in the menu: on the bar, or in a group one click opens.
    seen = set(entries.evaluate_all("links => links.filter(a => a.tagName === 'A').map(a => a.pathname)"))
    for group in page.locator(".nav-group-toggle").all():
        group.click()
        expect(group).to_have_attribute("aria-expanded", "true")
        links = page.locator(f"#{group.get_attribute('aria-controls')} a.nav-link")
        expect(links.first).to_be_visible()
        seen |= set(links.evaluate_all("links => links.map(a => a.pathname)"))
    assert seen == {module.PATH for module in PAGES}
    page.keyboard.press("Escape")

    # The current page is marked: its link, and its group's button.
    current = nav_link(page, "/grid")
    expect(current).to_have_class(re.compile(r"\bactive\b"))
    expect(current).to_have_attribute("aria-current", "page")
    shade = "e => getComputedStyle(e).backgroundColor"
    filters = page.get_by_role("button", name="Filters", exact=True)
    classes = page.get_by_role("button", name="Classes", exact=True)
    assert filters.evaluate(shade) != classes.evaluate(shade), "the current page's group is not marked"


def test_the_groups_work_from_the_keyboard(page: Page) -> None:
    page.set_viewport_size(WIDE)
    open_default(page, "/")
    group = page.get_by_role("button", name="Classes", exact=True)
    group.focus()
    page.keyboard.press("Enter")
    expect(group).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(nav_link(page, "/prediction")).to_be_focused()
    page.keyboard.press("Escape")
    expect(group).to_have_attribute("aria-expanded", "false")
    expect(group).to_be_focused()
    expect(nav_link(page, "/prediction")).to_be_hidden()
    # Space opens it too, Enter on a link follows it.
    page.keyboard.press(" ")
    expect(group).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: path_of(url) == "/prediction")
    expect(group).to_have_attribute("aria-expanded", "false")


def test_the_filter_detail_link_carries_the_filter_on_screen(page: Page) -> None:
    page.set_viewport_size(WIDE)
    open_default(page, "/detail")
    assert "filter" not in query_of(page.url)
    title = page.locator("#detail-title")
    expect(title).to_have_text(re.compile(r"^Filter \d+ of "))
    shown = re.search(r"^Filter (\d+) of ", title.inner_text())
    assert shown
    link = nav_link(page, "/detail")
    expect(link).to_have_attribute("href", re.compile(rf"^/detail\?(.*&)?filter={shown.group(1)}(&|$)"))
    # The link keeps the rest of the view.
    href = link.get_attribute("href") or ""
    assert {k: v for k, v in query_of(href).items() if k != "filter"} == query_of(page.url)
    # Another filter picked: the link follows.
    page.locator("#detail-pick label").nth(1).click()
    page.wait_for_url(lambda url: "filter" in query_of(url))
    picked = query_of(page.url)["filter"]
    expect(link).to_have_attribute("href", re.compile(rf"[?&]filter={picked}(&|$)"))


def test_the_layer_list_opens_over_the_page_with_room_and_whole_names(page: Page) -> None:
    page.set_viewport_size(WIDE)
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    # The closed drop-down shows the whole name of the layer (wrapped, not cut).
    value = page.locator("#ctl-layer .dash-dropdown-value")
    expect(value).to_contain_text("layer2.0.conv1")
    assert value.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the layer's name is cut"
    page.locator("#ctl-layer").click()
    options = page.locator("[role=listbox] [role=option]")
    expect(options.nth(7)).to_be_attached()
    # Rows seen whole: inside the open list's box and the screen, and on top there
    # (each row's far end, past the sidebar's edge where it is wider, is the row itself).
    seen = page.evaluate(
        """() => {
            const content = document.querySelector('.dash-dropdown-content').getBoundingClientRect();
            return Array.from(document.querySelectorAll('[role=listbox] [role=option]')).filter(option => {
                const r = option.getBoundingClientRect();
                if (r.top < content.top - 1 || r.bottom > content.bottom + 1 || r.bottom > innerHeight) return false;
                const x = r.right - 4, y = (r.top + r.bottom) / 2;
                const hit = document.elementFromPoint(x, y);
                return hit !== null && option.contains(hit) || (hit && hit.contains(option));
            }).length;
        }"""
    )
    assert seen >= 8, f"only {seen} rows of the open layer list are seen whole"
    page.keyboard.press("Escape")


def test_a_touch_screen_reads_tap_where_a_mouse_reads_hover(browser: Browser, live_server: LiveServer) -> None:
    touch = browser.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True)
    touch.set_default_timeout(TIMEOUT_MS)
    try:
        page = touch.new_page()
        open_default(page, "/heatmaps")
        assert page.evaluate("() => matchMedia('(hover: none)').matches")
        expect(page.get_by_text("Tap a map to open its filter")).to_be_visible()
        expect(page.get_by_text("Hover a map for the value")).to_be_hidden()
    finally:
        touch.close()


def test_a_mouse_reads_hover(page: Page) -> None:
    open_default(page, "/heatmaps")
    expect(page.get_by_text("Hover a map for the value")).to_be_visible()
    expect(page.get_by_text("Tap a map to open its filter")).to_be_hidden()
