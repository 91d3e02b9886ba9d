// The navbar's groups, the collapsed menu and the controls panel
// (dashapp/ui/layout/navigation.py, shell.py): each button opens and closes
// what its aria-controls names and says so in aria-expanded. Escape closes
// the innermost open thing and gives focus back to its button; a click
// elsewhere, or a link followed, closes the groups. Listeners sit on the
// document, so they hold whatever Dash re-renders.
(function () {
  "use strict";

  function setOpen(button, open) {
    const target = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (target) { target.classList.toggle("show", open); }
  }

  function openButtons(selector) {
    return Array.prototype.slice.call(document.querySelectorAll(selector + "[aria-expanded=true]"));
  }

  function closeGroups(except) {
    openButtons(".nav-group-toggle").forEach(function (button) {
      if (button !== except) { setOpen(button, false); }
    });
  }

  function setSidebar(open) {
    const toggle = document.getElementById("sidebar-toggle");
    if (!toggle) { return; }
    setOpen(toggle, open);
    document.documentElement.classList.toggle("sidebar-open", open);
    const close = document.getElementById("sidebar-close");
    if (open && close) {
      // once the panel is shown (it is hidden, so unfocusable, until the class applies)
      requestAnimationFrame(function () { close.focus(); });
    } else if (!open) {
      toggle.focus();
    }
  }

  // The current page's link says so to assistive technology too (dbc's NavLink
  // marks it "active" as the address changes; aria-current follows the class).
  function markCurrent() {
    document.querySelectorAll(".app-navbar a.nav-link").forEach(function (link) {
      const current = link.classList.contains("active");
      if (current !== (link.getAttribute("aria-current") === "page")) {
        if (current) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); }
      }
    });
  }
  // Watched from the moment Dash draws the navbar (once a page load).
  function watchNavbar() {
    const navbar = document.querySelector(".app-navbar");
    if (!navbar) { return false; }
    new MutationObserver(markCurrent).observe(navbar, {subtree: true, attributes: true, attributeFilter: ["class"]});
    markCurrent();
    return true;
  }
  const waiting = new MutationObserver(function () {
    if (watchNavbar()) { waiting.disconnect(); }
  });
  waiting.observe(document.documentElement, {childList: true, subtree: true});

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    const group = target.closest(".nav-group-toggle");
    if (group) {
      closeGroups(group);
      setOpen(group, group.getAttribute("aria-expanded") !== "true");
      return;
    }
    if (target.closest("#nav-toggle")) {
      const menu = document.getElementById("nav-toggle");
      setOpen(menu, menu.getAttribute("aria-expanded") !== "true");
      return;
    }
    if (target.closest("#sidebar-toggle")) {
      setSidebar(document.getElementById("sidebar-toggle").getAttribute("aria-expanded") !== "true");
      return;
    }
    if (target.closest("#sidebar-close, #sidebar-backdrop")) {
      setSidebar(false);
      return;
    }
    // A page link followed: the groups and the collapsed menu close.
    if (target.closest(".app-navbar a.nav-link")) {
      closeGroups(null);
      openButtons("#nav-toggle").forEach(function (button) { setOpen(button, false); });
      return;
    }
    if (!target.closest(".nav-group")) { closeGroups(null); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    const active = document.activeElement;
    const group = active && active.closest ? active.closest(".nav-group") : null;
    if (group) {
      const button = group.querySelector(".nav-group-toggle");
      if (button.getAttribute("aria-expanded") === "true") {
        setOpen(button, false);
        button.focus();
        return;
      }
    }
    if (document.documentElement.classList.contains("sidebar-open")) {
      setSidebar(false);
    }
  });

  // Focus leaving an open group closes it (Tab past its last link).
  document.addEventListener("focusout", function (event) {
    const group = event.target instanceof Element ? event.target.closest(".nav-group") : null;
    const next = event.relatedTarget;
    if (group && next instanceof Element && !group.contains(next)) {
      const button = group.querySelector(".nav-group-toggle");
      if (button) { setOpen(button, false); }
    }
  });
})();
