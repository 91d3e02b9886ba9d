// Words the scripts show, in the page's language: the shell's #ui-strings
// element (dashapp/i18n/browser.py) holds them as JSON; a key
// it lacks keeps the script's English. Placeholders are {name}.
window.dashappText = function (key, fallback, values) {
    const element = document.getElementById("ui-strings");
    let strings;
    try {
        strings = JSON.parse((element && element.getAttribute("data-strings")) || "{}");
    } catch {
        strings = {};
    }
    const template = typeof strings[key] === "string" ? strings[key] : fallback;
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
        return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
};

// The navbar's language switch (dashapp/i18n/negotiation.py): open this
// same view in the other language. The link's plain href ("?lang=es") would
// drop the rest of the address, so keep it and set only lang=; the href is
// brought up to date before it can be used (hover, focus, a click), so a
// middle click or "copy link" gets the whole view too.
(function () {
    function languageLink(target) {
        return target && target.closest ? target.closest("a[data-lang]") : null;
    }
    function refresh(link) {
        const address = new URL(window.location.href);
        address.searchParams.set("lang", link.getAttribute("data-lang"));
        link.setAttribute("href", address.toString());
    }
    ["mouseover", "focusin", "mousedown", "click"].forEach(function (name) {
        document.addEventListener(name, function (event) {
            const link = languageLink(event.target);
            if (link) {
                refresh(link);
            }
        }, true);
    });
})();

// plotly.js speaks the page's language: its toolbar, hints and number marks
// come from the catalog (the dashapp-plotly-locale meta in the head, written
// by web/page_scripts.py from i18n/negotiation.py) and are registered as a
// plotly locale the moment plotly.js arrives (its async script in the page's
// head sets window.Plotly, before or after this script), before any graph is
// drawn. A setter already there (a benchmark's or a test's probe) keeps
// working: it is called first.
(function () {
    if ((document.documentElement.lang || "en") === "en") {
        return;
    }
    function configure(plotly) {
        const meta = document.querySelector("meta[name=dashapp-plotly-locale]");
        const text = meta && meta.getAttribute("content");
        if (!plotly || !text || plotly.__dashappLocale) {
            return;
        }
        const locale = JSON.parse(text);
        plotly.register({moduleType: "locale", name: locale.name, dictionary: locale.dictionary,
                         format: locale.format});
        plotly.setPlotConfig({locale: locale.name});
        plotly.__dashappLocale = locale.name;
    }
    if (window.Plotly) {
        configure(window.Plotly);
        return;
    }
    const previous = Object.getOwnPropertyDescriptor(window, "Plotly");
    let held;
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        enumerable: true,
        get: function () {
            return previous && previous.get ? previous.get.call(window) : held;
        },
        set: function (value) {
            if (previous && previous.set) {
                previous.set.call(window, value);
            } else {
                held = value;
            }
            configure(value);
        },
    });
})();
