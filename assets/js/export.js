// A figure's PNG keeps its context: the chart toolbar's download button
// (plotly's "toImage", dashapp/figures/maps.py TOOLBAR) exports a copy of the
// figure that
//  - is named after the view: resnet18_layer2.0.conv1_filter88.png (model,
//    layer, the figure's filter, else its kind), not plotly's "newplot.png";
//  - has a title saying what it shows (model, untrained weights when they are,
//    layer, filter, image hash), under the figure's own title when it has one,
//    without putting that title on screen;
//  - leaves hover decorations out: the dotted box dashapp.js draws around the
//    hovered cell's receptive field (the only dotted shape the app draws).
// The click is taken in the capture phase, before plotly's own handler.
// window.dashappExport.figure(gd) is the copy (tests read it).
(function () {
  "use strict";

  const TOOLBAR_TITLE = "Download plot as a PNG";  // plotly's English title of the button
  const TITLE_ROOM = 56;  // px above the plot for the title (and subtitle)

  function text(key, fallback, values) {
    return window.dashappText ? window.dashappText(key, fallback, values) : fallback;
  }

  // The button's title in the page's language (assets/js/language.js registers plotly's locale).
  function buttonTitles() {
    const titles = [TOOLBAR_TITLE];
    const nav = document.querySelector(".lang-switch[data-plotly-locale]");
    const locale = nav && nav.getAttribute("data-plotly-locale");
    if (locale) {
      try {
        const translated = JSON.parse(locale).dictionary[TOOLBAR_TITLE];
        if (translated) { titles.push(translated); }
      } catch { /* English only */ }
    }
    return titles;
  }

  // The view the page shows: the address carries the whole state (state/url.py encode_state).
  function view() {
    const query = new URLSearchParams(window.location.search);
    return {model: query.get("model"), layer: query.get("layer"), filter: query.get("filter"),
            image: query.get("image")};
  }

  function graphName(gd) {
    const outer = gd.parentElement ? gd.parentElement.closest("[id]") : null;
    return outer ? outer.id : "";
  }

  function filterOf(gd, shown) {
    const meta = (gd.layout && gd.layout.meta) || {};
    if (meta.filter !== undefined && meta.filter !== null) { return String(meta.filter); }
    // A page that draws one filter (the detail page) names it in the address.
    return ["regions", "heatmap"].indexOf(meta.kind) >= 0 || /^detail-/.test(graphName(gd)) ? shown.filter : null;
  }

  function fileName(gd) {
    const shown = view();
    const meta = (gd.layout && gd.layout.meta) || {};
    const filter = filterOf(gd, shown);
    const parts = [shown.model, shown.layer];
    if (filter !== null && filter !== undefined && filter !== "") {
      parts.push("filter" + filter);
    } else {
      parts.push(meta.kind || graphName(gd) || "figure");
    }
    return parts.filter(Boolean).join("_").replace(/[^\w.-]+/g, "-");
  }

  function contextLine(gd) {
    const shown = view();
    const filter = filterOf(gd, shown);
    const parts = [];
    if (shown.model) {
      const untrained = document.getElementById("untrained-banner");
      parts.push(untrained ? text("exportUntrained", "{model} (untrained weights)", {model: shown.model})
        : shown.model);
    }
    if (shown.layer) { parts.push(shown.layer); }
    if (filter !== null && filter !== undefined && filter !== "") {
      parts.push(text("filter", "Filter {index}", {index: filter}));
    }
    if (shown.image) { parts.push(text("exportImage", "image {hash}", {hash: shown.image.slice(0, 8)})); }
    return parts.join(" · ");
  }

  function ownTitle(layout) {
    const title = layout.title;
    if (!title) { return ""; }
    return typeof title === "string" ? title : (title.text || "");
  }

  // The figure as exported: a copy, the screen's figure untouched.
  function exportFigure(gd) {
    const layout = Object.assign({}, gd.layout);
    const full = gd._fullLayout || {};
    const context = contextLine(gd);
    const own = ownTitle(layout);
    const font = {size: 15};
    layout.title = own
      ? {text: own, font: font, x: 0.01, xanchor: "left", subtitle: {text: context, font: {size: 12}}}
      : {text: context, font: font, x: 0.01, xanchor: "left"};
    layout.paper_bgcolor = "#ffffff";  // a file on its own: not the page's transparent background
    layout.shapes = (layout.shapes || []).filter(function (shape) {
      return !(shape && shape.line && shape.line.dash === "dot");
    });
    const margin = Object.assign({}, full.margin || layout.margin || {});
    const room = Math.max(0, TITLE_ROOM - (margin.t || 0));
    margin.t = (margin.t || 0) + room;
    layout.margin = margin;
    const width = full.width || gd.clientWidth || 600;
    const height = (full.height || gd.clientHeight || 400) + room;
    layout.width = width;
    layout.height = height;
    return {data: gd.data, layout: layout, width: width, height: height, filename: fileName(gd)};
  }

  function download(gd) {
    const figure = exportFigure(gd);
    const options = (gd._context && gd._context.toImageButtonOptions) || {};
    return window.Plotly.downloadImage({data: figure.data, layout: figure.layout}, {
      format: "png", filename: figure.filename, width: figure.width, height: figure.height,
      scale: options.scale || 1,
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest(".modebar-btn") : null;
    if (!button || buttonTitles().indexOf(button.getAttribute("data-title")) < 0 || !window.Plotly) { return; }
    const gd = button.closest(".js-plotly-plot");
    if (!gd || !gd.data) { return; }
    event.preventDefault();
    event.stopPropagation();
    download(gd).catch(function (error) { console.error("figure export failed", error); });
  }, true);

  window.dashappExport = {figure: exportFigure, fileName: fileName};
})();
