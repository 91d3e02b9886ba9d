// Accessibility glue for parts Dash and Plotly render without names or
// keyboard access. Each job is its own function; one observer reapplies them
// whenever the page changes (pages, tables and figures are re-rendered).
(function () {
  "use strict";

  // Controls whose focusable part is not the element a label points to.
  const NAMED_PARTS = "[role=slider], [role=progressbar], input:not([type=hidden]), button.dash-dropdown";

  function addLabelledBy(element, labelId) {
    const ids = (element.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    if (ids.indexOf(labelId) === -1) {
      element.setAttribute("aria-labelledby", [labelId].concat(ids).join(" "));
    }
  }

  // <label id="X-label" for="X"> and <div data-labels="X"> name the focusable
  // parts of Dash composites X: slider thumbs and their number box, the
  // dropdown's button (its own aria-labelledby would otherwise name it by its
  // value alone), a progress bar, the file input inside dcc.Upload.
  function nameComposites(root) {
    root.querySelectorAll("label[id][for], [id][data-labels]").forEach(function (label) {
      const target = document.getElementById(label.getAttribute("for") || label.getAttribute("data-labels"));
      if (!target) { return; }
      const native = /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && label.tagName === "LABEL";
      if (native) { return; }
      const parts = target.matches(NAMED_PARTS) ? [target] : Array.from(target.querySelectorAll(NAMED_PARTS));
      parts.forEach(function (part) { addLabelledBy(part, label.id); });
    });
  }

  // Dash 4's dropdown puts a hidden (aria-hidden) input in the Tab order that
  // forwards focus to the real button (a Safari workaround). A screen reader
  // would land on a hidden element: the button itself takes the Tab stop.
  function dropdownTabStops(root) {
    root.querySelectorAll(".dash-dropdown-focus-target").forEach(function (input) {
      input.tabIndex = -1;
      const button = input.nextElementSibling;
      if (button && button.matches("button.dash-dropdown") && !button.disabled) { button.tabIndex = 0; }
    });
  }

  // Words in the page's language (assets/language.js, dashappText).
  function uiText(key, fallback, values) {
    return window.dashappText(key, fallback, values);
  }

  // Things that act on click but are not buttons: make them focusable,
  // named, and operable with Enter and Space.
  const CLICKABLES = [
    {selector: "#copy-link", name: function () { return uiText("copyLink", "Copy the link to this view"); }},
    {selector: ".modebar-btn", name: function (el) { return el.getAttribute("data-title"); }},
    {selector: ".dash-spreadsheet th .column-header--sort", name: function (el) {
      const header = el.closest("th");
      return uiText("sortBy", "Sort by {column}",
        {column: header ? header.textContent.trim() : uiText("thisColumn", "this column")});
    }},
    {selector: "#overview-table td.dash-cell.column-0", role: null, name: function (el) {
      return uiText("openFilter", "Open filter {index}", {index: el.textContent.trim()});
    }},
  ];

  function keyboardClickables(root) {
    CLICKABLES.forEach(function (kind) {
      root.querySelectorAll(kind.selector).forEach(function (el) {
        if (!el.dataset.a11yClick) {
          el.dataset.a11yClick = "1";
          el.tabIndex = 0;
          if (kind.role !== null) { el.setAttribute("role", kind.role || "button"); }
        }
        // Named on every pass: a sorted table reuses its cells for other rows.
        const name = kind.name(el);
        if (name && el.getAttribute("aria-label") !== name) { el.setAttribute("aria-label", name); }
      });
    });
  }

  // A figure's toolbar (dashapp/figures/maps.py TOOLBAR) is one Tab stop: its
  // first button; the arrow keys move between its buttons (a roving tabindex).
  function toolbarTabStops(root) {
    root.querySelectorAll(".modebar").forEach(function (bar) {
      const buttons = Array.from(bar.querySelectorAll(".modebar-btn"));
      const current = buttons.indexOf(document.activeElement);
      buttons.forEach(function (button, i) { button.tabIndex = i === Math.max(current, 0) ? 0 : -1; });
    });
  }

  function toolbarArrows(event) {
    const el = event.target;
    if (!(el instanceof HTMLElement) || !el.matches(".modebar-btn") ||
        (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) { return; }
    const buttons = Array.from(el.closest(".modebar").querySelectorAll(".modebar-btn"));
    const next = buttons[(buttons.indexOf(el) + (event.key === "ArrowRight" ? 1 : -1) + buttons.length) % buttons.length];
    event.preventDefault();
    buttons.forEach(function (button) { button.tabIndex = button === next ? 0 : -1; });
    next.focus();
  }

  // Runs before any page handler (window, capture phase). Dash's DataTable
  // takes Tab and Enter for its own cell cursor and prevents the default, a
  // keyboard trap: Tab inside a table moves focus on as everywhere else, and
  // Enter on one of our clickables is a click and nothing else.
  function keysFirst(event) {
    const el = event.target;
    if (!(el instanceof HTMLElement)) { return; }
    if (event.key === "Tab" && el.closest(".dash-spreadsheet-container")) {
      event.stopImmediatePropagation();
      return;
    }
    if (!el.dataset.a11yClick) { return; }
    if (event.key === "Enter" || (event.key === " " && el.getAttribute("role") === "button")) {
      event.preventDefault();
      event.stopImmediatePropagation();
      // Table cells react to the whole click sequence, not to click alone.
      ["mousedown", "mouseup", "click"].forEach(function (type) {
        el.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, view: window}));
      });
    }
  }

  // "Skip to content" moves focus without changing the URL (the query string
  // is the app's state; a hash would be one more history entry).
  function skipToContent(event) {
    const link = event.target instanceof Element ? event.target.closest(".skip-link") : null;
    if (!link) { return; }
    event.preventDefault();
    const main = document.getElementById("main-content");
    if (main) { main.focus(); main.scrollIntoView(); }
  }

  // The banner's fold button says whether the banner is open (folded by
  // assets/js/dashapp.js, a class on <html> that outlives the button).
  function bannerToggleState() {
    const toggle = document.getElementById("banner-toggle");
    const open = String(!document.documentElement.classList.contains("banner-folded"));
    if (toggle && toggle.getAttribute("aria-expanded") !== open) { toggle.setAttribute("aria-expanded", open); }
  }

  function applyAll() {
    nameComposites(document);
    dropdownTabStops(document);
    keyboardClickables(document);
    toolbarTabStops(document);
    bannerToggleState();
  }

  let pending = false;
  function schedule() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; applyAll(); });
  }

  function start() {
    applyAll();
    new MutationObserver(schedule).observe(document.body, {childList: true, subtree: true});
    window.addEventListener("keydown", keysFirst, true);
    document.addEventListener("keydown", toolbarArrows);
    document.addEventListener("click", skipToContent);
    // The dropdown gives its hidden input the Tab stop back on blur (after
    // React's own handler, which runs at the app root, inside the document).
    document.addEventListener("focusout", function () { dropdownTabStops(document); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
