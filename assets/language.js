// The navbar's language switch (dashapp/components/language.py): open this
// same view in the other language. The link's plain href ("?lang=es") would
// drop the rest of the address, so keep it and set only lang=; the href is
// brought up to date before it can be used (hover, focus, a click), so a
// middle click or "copy link" gets the whole view too.
(function () {
    function languageLink(target) {
        return target && target.closest ? target.closest("a[data-lang]") : null;
    }
    function refresh(link) {
        var address = new URL(window.location.href);
        address.searchParams.set("lang", link.getAttribute("data-lang"));
        link.setAttribute("href", address.toString());
    }
    ["mouseover", "focusin", "mousedown", "click"].forEach(function (name) {
        document.addEventListener(name, function (event) {
            var link = languageLink(event.target);
            if (link) {
                refresh(link);
            }
        }, true);
    });
})();
