// A figure's PNG keeps its context: the chart toolbar's download button
// (plotly's "toImage", dashapp/figures/maps.py TOOLBAR) exports a copy of the
// figure that
//  - is named after the view: resnet18_layer2.0.conv1_filter88.png (model,
//    layer, the figure's filter, else its kind), not plotly's "newplot.png";
//  - has a title saying what it shows (model, where its weights come from and their tag,
//    layer, filter, image hash, the app and its version), after the figure's own title when it has one,
//    without putting that title on screen;
//  - leaves hover decorations out: the white dotted box dashapp.js draws
//    around the hovered cell's receptive field.
// The click is taken in the capture phase, before plotly's own handler.
// window.dashappExport.figure(gd) is the copy (tests read it).
(function () {
  "use strict";

  const TOOLBAR_TITLE = "Download plot as a PNG";  // plotly's English title of the button
  const TITLE_SIZE = 15, SUB_SIZE = 12;  // px: the title's font, the subtitle's
  const TITLE_CHAR = 8.6, SUB_CHAR = 6.9;  // px a character takes at those sizes, about
  const LINE = 1.35;  // a line's height, in font sizes
  const TITLE_NAME = "export-title";  // the title annotation's name

  // LoadedModel.trained_on -> the title's words (dashapp/i18n/browser.py)
  const WEIGHTS_WORDS = {"random": "exportRandom", "ImageNet": "exportImageNet", "team checkpoint": "exportTeam"};

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

  // What the figure shows, as parts of its title: model (and untrained weights), layer, filter, image.
  function contextParts(gd) {
    const shown = view();
    const filter = filterOf(gd, shown);
    const parts = [];
    if (shown.model) {
      // where the weights come from: the weights banner's data (ui/callbacks/model_loading.py)
      const weights = document.querySelector("#weights-banner [data-weights-tag]");
      const key = weights && WEIGHTS_WORDS[weights.dataset.trainedOn];
      parts.push(key ? text(key, "{model} ({tag})", {model: shown.model, tag: weights.dataset.weightsTag})
        : shown.model);
    }
    if (shown.layer) { parts.push(shown.layer); }
    if (filter !== null && filter !== undefined && filter !== "") {
      parts.push(text("filter", "Filter {index}", {index: filter}));
    }
    if (shown.image) { parts.push(text("exportImage", "image {hash}", {hash: shown.image.slice(0, 8)})); }
    const version = text("appVersion", "");
    if (version) { parts.push(version); }
    return parts;
  }

  // Parts joined by " · " into lines that fit ``width`` px at about ``perChar`` px a character.
  function wrap(parts, width, perChar) {
    const most = Math.max(12, Math.floor((width - 16) / perChar));
    const lines = [];
    let line = "";
    parts.forEach(function (part) {
      const longer = line ? line + " · " + part : part;
      if (line && longer.length > most) {
        lines.push(line);
        line = part;
      } else {
        line = longer;
      }
    });
    if (line) { lines.push(line); }
    return lines;
  }

  // The box dashapp.js draws around the hovered cell's receptive field: white and dotted
  // (a figure's own dotted lines, such as the concept chart's chance line, are grey).
  function isHoverBox(shape) {
    return Boolean(shape && shape.line && shape.line.dash === "dot" && shape.line.color === "white");
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
    const width = full.width || gd.clientWidth || 600;
    const own = ownTitle(layout);
    const context = wrap(contextParts(gd), width, own ? SUB_CHAR : TITLE_CHAR);
    // The title is an annotation just above the plot, growing upwards with its
    // lines (plotly's own title does not: its lines run down into the plot).
    const lines = own
      ? [own].concat(context.map(function (line) { return `<span style="font-size:${SUB_SIZE}px">${line}</span>`; }))
      : context;
    const titleHeight = 12 + LINE * (own ? TITLE_SIZE + context.length * SUB_SIZE : context.length * TITLE_SIZE);
    layout.title = {text: ""};
    layout.annotations = (layout.annotations || []).concat([{
      name: TITLE_NAME, text: lines.join("<br>"), showarrow: false, align: "left",
      xref: "paper", x: 0, xanchor: "left", yref: "paper", y: 1, yanchor: "bottom", xshift: 6, yshift: 6,
      font: {size: TITLE_SIZE, color: "#212529"},
    }]);
    layout.paper_bgcolor = "#ffffff";  // a file on its own: not the page's transparent background
    layout.shapes = (layout.shapes || []).filter(function (shape) {
      return !isHoverBox(shape);
    });
    const margin = Object.assign({}, full.margin || layout.margin || {});
    const room = Math.max(0, Math.ceil(titleHeight) - (margin.t || 0));
    margin.t = (margin.t || 0) + room;
    layout.margin = margin;
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

  // The exported figure's title (its annotation's text), for tests and readers.
  function titleOf(figure) {
    const note = (figure.layout.annotations || []).find(function (a) { return a.name === TITLE_NAME; });
    return note ? note.text : "";
  }

  window.dashappExport = {figure: exportFigure, fileName: fileName, titleOf: titleOf};
})();
