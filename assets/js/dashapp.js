// Clientside callbacks: restyling and hover answers happen in the browser,
// without a server round trip or resending the maps.
(function () {
  "use strict";

  const DTYPES = {u1: Uint8Array, u2: Uint16Array, f4: Float32Array, f8: Float64Array, i1: Int8Array,
    i2: Int16Array, i4: Int32Array, u4: Uint32Array};

  // plotly.py sends numpy arrays as {dtype, bdata, shape}; decode once per object.
  function decoded(z) {
    if (!z || !z.bdata) { return null; }
    if (z.__flat) { return z.__flat; }
    const raw = atob(z.bdata);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    const Kind = DTYPES[z.dtype] || Float64Array;
    const flat = new Kind(bytes.buffer);
    Object.defineProperty(z, "__flat", {value: flat, enumerable: false});
    return flat;
  }

  // Words in the page's language (assets/language.js, dashappText).
  function uiText(key, fallback, values) {
    return window.dashappText(key, fallback, values);
  }

  function localNumber(text) {
    return text.replace(".", uiText("decimal", "."));
  }

  function ordinal(n) {
    const tens = n % 100, ones = n % 10;
    const suffix = (tens >= 11 && tens <= 13) ? "th" : (ones === 1 ? "st" : ones === 2 ? "nd" : ones === 3 ? "rd" : "th");
    return n + suffix;
  }

  function percentile(flat, q) {
    if (!flat.__sorted) {
      Object.defineProperty(flat, "__sorted", {value: Array.from(flat).sort((a, b) => a - b), enumerable: false});
    }
    const sorted = flat.__sorted;
    let lo = 0, hi = sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < q) { lo = mid + 1; } else { hi = mid; } }
    return 100 * lo / sorted.length;
  }

  // a colormap's stops (dashapp/figures/colormaps.py: plotly.js is never given a name)
  function scaleOf(scales, colormap) {
    return (scales && scales[colormap]) || colormap;
  }

  // The height a map figure is drawn at in the graph element `el`: the base
  // figure's; where style.css asks for it (--fit-aspect, narrow screens) the
  // image's aspect at the graph's width when that is less, so no empty band
  // lies above and below the picture (the figures' margins are 0).
  function fittedHeight(base, el) {
    const layout = (base && base.layout) || {}, meta = layout.meta || {};
    if (!el || !layout.height || !meta.width || !meta.height ||
        window.getComputedStyle(el).getPropertyValue("--fit-aspect").trim() !== "1") {
      return layout.height;
    }
    const width = el.clientWidth;
    return width ? Math.min(layout.height, Math.round(width * meta.height / meta.width)) : layout.height;
  }

  // The graph element of a pattern-matching output id (Dash's DOM id: sorted-key JSON).
  function graphOf(id) {
    if (!id) { return null; }
    if (typeof id === "string") { return document.getElementById(id); }
    const sorted = {};
    Object.keys(id).sort().forEach(function (key) { sorted[key] = id[key]; });
    return document.getElementById(JSON.stringify(sorted));
  }

  function restyle(base, opacity, colorscale, shapes, picture, height) {
    const meta = (base.layout && base.layout.meta) || {};
    const data = (base.data || []).map(function (trace) {
      if (trace.type !== "heatmap") { return trace; }
      const changed = Object.assign({}, trace, {colorscale: colorscale});
      if (meta.kind === "heatmap") { changed.opacity = opacity; }
      return changed;
    });
    const layout = Object.assign({}, base.layout, {shapes: shapes || []});
    if (height !== undefined) { layout.height = height; }
    // The page's one shared picture goes under every heatmap that asks for it.
    if (meta.shared_picture && picture && picture.uri && layout.images && layout.images.length) {
      layout.images = [Object.assign({}, layout.images[0], {source: picture.uri})].concat(layout.images.slice(1));
    }
    return {data: data, layout: layout};
  }

  // Whether the graph's figure is what restyle(base, ...) would draw: the
  // same map (sameMap), in the same style, on the same picture, with no hover box,
  // at the height it would be drawn at (fittedHeight: `height`, the base's by default).
  function alreadyShown(shown, base, opacity, colorscale, picture, height) {
    if (!sameMap(shown, base, height) || (shown.layout.shapes && shown.layout.shapes.length)) {
      return false;
    }
    const meta = base.layout.meta || {};
    for (let i = 0; i < base.data.length; i++) {
      const was = shown.data[i], now = base.data[i];
      if (now.type === "heatmap" && !window.dashappMapColour.sameScale(was.colorscale, colorscale)) { return false; }
      if (meta.kind === "heatmap" && now.type === "heatmap" && was.opacity !== opacity) { return false; }
    }
    if (meta.shared_picture) {
      const source = shown.layout.images && shown.layout.images.length ? shown.layout.images[0].source : "";
      if (source !== (picture && picture.uri ? picture.uri : base.layout.images[0].source)) { return false; }
    }
    return true;
  }

  // Whether two base figures draw the same map at the same size (same
  // values, geometry and words); `height`, when given, is the one `was` must have.
  function sameMap(was, now, height) {
    if (!was || !now || !was.layout || !now.layout || !was.data || !now.data || was.data.length !== now.data.length ||
        was.layout.height !== (height === undefined ? now.layout.height : height) || JSON.stringify(was.layout.meta) !== JSON.stringify(now.layout.meta)) {
      return false;
    }
    for (let i = 0; i < now.data.length; i++) {
      const a = was.data[i].z, b = now.data[i].z;
      if (!a || !b || a.bdata === undefined || a.bdata !== b.bdata) { return false; }
    }
    return true;
  }

  // Four maps a row from WIDE_FROM on, three below (pages/heatmaps.py; the
  // ranking says which: assets/js/ranking.js): the grid's class is set here at once (the server's may reach the page a
  // moment later). True when the maps already drawn must be drawn again: a
  // graph keeps the width it was first drawn at.
  function refit(wide) {
    const grid = document.getElementById("heat-grid");
    if (!grid || grid.__wide === wide) { return false; }
    const first = grid.__wide === undefined;
    grid.__wide = wide;
    grid.classList.toggle("heat-wide", wide);
    return !first;
  }

  // A figure to draw again at a new width, sized to its cell: the axes go
  // back to the base figure's ranges and whole domains (plotly.js narrowed
  // one to keep the picture's aspect at the old width). Drawn through the
  // figure, not Plotly.relayout: dcc.Graph copies a relayout's axes back
  // into its figure and draws the graph a second time.
  function refitted(figure) {
    const layout = figure.layout, meta = layout.meta || {};
    return Object.assign({}, figure, {layout: Object.assign({}, layout, {
      autosize: true,
      xaxis: Object.assign({}, layout.xaxis, {domain: [0, 1], range: [0, meta.width]}),
      yaxis: Object.assign({}, layout.yaxis, {domain: [0, 1], range: [meta.height, 0]}),
    })});
  }

  function hoverAnswer(base, hover) {
    const meta = base.layout && base.layout.meta;
    if (!meta || meta.kind !== "heatmap" || !hover || !hover.points || !hover.points.length) { return null; }
    const point = hover.points[0];
    // The one geometry rule (assets/js/geometry.js, MapGeometry's in the browser).
    const geometry = window.dashappGeometry, g = meta.geometry;
    const [row, col] = geometry.cellAt(g, point.x, point.y, meta.rows, meta.cols);
    const flat = decoded(base.data[0].z);
    const q = flat ? flat[row * meta.cols + col] : point.z;
    const value = q * meta.scale;
    const pct = flat ? percentile(flat, q) : NaN;
    const [x0, y0, x1, y1] = geometry.box(g, row, col, meta.width, meta.height);
    const box = {x0, y0, x1, y1};
    // English says "73rd percentile", Spanish "percentil 73".
    const english = !document.documentElement.lang || document.documentElement.lang.indexOf("en") === 0;
    const text = uiText("hover", "{name}: response {value} ({percentile} percentile of this map) at x {x}, y {y} px; " +
      "receptive field {width}×{height} px", {
      name: meta.name || uiText("filter", "Filter {index}", {index: meta.filter}),
      value: localNumber(value.toPrecision(3)),
      percentile: english ? ordinal(Math.round(pct)) : Math.round(pct),
      x: Math.round(point.x), y: Math.round(point.y),
      width: Math.round(box.x1 - box.x0), height: Math.round(box.y1 - box.y0),
    });
    const shape = {type: "rect", xref: "x", yref: "y", x0: box.x0, x1: box.x1, y0: box.y0, y1: box.y1,
      line: {color: "white", width: 2, dash: "dot"}, fillcolor: "rgba(255,255,255,0.08)"};
    return {text: text, shape: shape};
  }

  // Enter on a focused map card of the heatmaps page presses its hidden
  // "heat-open" button (pages/heatmaps.py), which openMap turns into a navigation.
  document.addEventListener("keydown", function (event) {
    const card = event.target instanceof HTMLElement && event.key === "Enter" ? event.target : null;
    if (!card || !card.classList.contains("heat-cell")) { return; }
    const button = card.querySelector(".heat-open");
    if (button) { event.preventDefault(); button.click(); }
  });

  // The untrained-weights banner folds to one line until the tab is closed
  // (sessionStorage): a class on <html>, which React never rewrites (style.css).
  const FOLDED = "dashapp.bannerFolded";
  function foldBanner(folded) {
    document.documentElement.classList.toggle("banner-folded", folded);
    const toggle = document.getElementById("banner-toggle");
    if (toggle) { toggle.setAttribute("aria-expanded", String(!folded)); }
  }
  try { foldBanner(window.sessionStorage.getItem(FOLDED) === "1"); } catch { /* storage refused: stays open */ }
  document.addEventListener("click", function (event) {
    const toggle = event.target instanceof Element ? event.target.closest("#banner-toggle") : null;
    if (!toggle) { return; }
    const folded = !document.documentElement.classList.contains("banner-folded");
    try { window.sessionStorage.setItem(FOLDED, folded ? "1" : "0"); } catch { /* this page only */ }
    foldBanner(folded);
  });

  // The heatmaps page's spread (below) for the slots whose ids are `ids`: [fig-base, fig-title,
  // fig, fig-hover, fig-desc] id lists, in the order of `shownBases` and `shownFigures`; the
  // values to set, no_update where a slot already shows its map (assets/js/ranking.js calls
  // it too, to draw a ranking change in the same pass).
  function spreadOver(ids, bases, picked, picture, opacity, colormap, scales, shownBases, shownFigures) {
    const skip = window.dash_clientside.no_update;
    const figures = (bases && bases.figures) || [], titles = (bases && bases.titles) || [];
    const colorscale = scaleOf(scales, colormap);
    let big = null;
    for (let i = 0; i < figures.length; i++) {
      const meta = figures[i] && figures[i].layout && figures[i].layout.meta;
      if (meta && String(meta.filter) === String(picked)) {
        big = Object.assign({}, figures[i], {layout: Object.assign({}, figures[i].layout, {height: 520})});
      }
    }
    function rankOf(id) {
      const match = /^heat-(\d+)$/.exec(id.index);
      return match ? Number(match[1]) - 1 : -1;
    }
    function wantedFor(id) {
      return id.index === "heat-big" ? big : figures[rankOf(id)];
    }
    const data = ids[0].map(function (id, i) {
      const wanted = wantedFor(id);
      return !wanted || sameMap(shownBases[i], wanted) ? skip : wanted;
    });
    const words = ids[1].map(function (id) {
      const title = titles[rankOf(id)];
      return title === undefined ? skip : title;
    });
    // The grid's new width first, so the graphs drawn below measure their new cells.
    const resized = refit(Boolean(bases && bases.wide));
    const drawn = {};  // slot -> the figure drawn in it now, for the slots redrawn
    const shown = ids[2].map(function (id, i) {
      const wanted = wantedFor(id), inGrid = id.index !== "heat-big";
      const height = fittedHeight(wanted, graphOf(id));
      if (!wanted || (!(resized && inGrid) &&
          alreadyShown(shownFigures[i], wanted, opacity, colorscale, picture, height))) {
        return skip;
      }
      const figure = restyle(wanted, opacity, colorscale, [], picture, height);
      drawn[id.index] = resized && inGrid ? refitted(figure) : figure;
      return drawn[id.index];
    });
    const hovers = ids[3].map(function (id) { return drawn[id.index] ? "" : skip; });
    const descriptions = ids[4].map(function (id) {
      const figure = drawn[id.index];
      return figure ? (figure.layout.meta && figure.layout.meta.description) || "" : skip;
    });
    return [data, words, shown, hovers, descriptions];
  }
  window.dashappSpread = spreadOver;

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cnn: {
      // base figure + hover (+ the style controls' values) -> shown figure,
      // hover text, and the map in words for screen readers
      render: function (base, hover, picture, opacity, colormap, shown, scales) {
        const colorscale = scaleOf(scales, colormap);
        const ctx = window.dash_clientside.callback_context;
        const trigger = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : "";
        const skip = window.dash_clientside.no_update;
        if (!base) { return [skip, "", skip]; }
        const meta = base.layout && base.layout.meta;
        const words = trigger.endsWith(".data") || !trigger ? (meta && meta.description ? meta.description : "") : skip;
        const out = ctx && ctx.outputs_list && ctx.outputs_list[0];
        const height = fittedHeight(base, graphOf(out && out.id));
        if (trigger.endsWith(".hoverData")) {
          const answer = hoverAnswer(base, hover);
          if (answer) { return [restyle(base, opacity, colorscale, [answer.shape], picture, height), answer.text, skip]; }
        } else if (alreadyShown(shown, base, opacity, colorscale, picture, height)) {
          // A graph that already shows this map in this style is left alone
          // instead of being redrawn unchanged (~10-30 ms a graph), and so are
          // its words, set when it was drawn (here, or by spread on the
          // heatmaps page): no output changes, so Dash re-renders nothing.
          return [skip, skip, skip];
        }
        return [restyle(base, opacity, colorscale, [], picture, height), "", words];
      },
      // a figure the server draws whole (the detail page's regions) -> the
      // same figure at its fitted height in graph `id` (fittedHeight)
      fit: function (figure, id) {
        if (!figure) { return window.dash_clientside.no_update; }
        if (!figure.layout) { return figure; }
        const height = fittedHeight(figure, graphOf(id));
        return height === figure.layout.height ? figure
          : Object.assign({}, figure, {layout: Object.assign({}, figure.layout, {height: height})});
      },
      // opacity and colormap -> every map on the page restyled in place, in
      // one callback: the cells repainted (assets/mapcolour.js), or where a
      // graph was not drawn the way that expects, one Plotly.restyle of the
      // changed attribute (the graphs' figure props are left as they were;
      // render reads the controls' values whenever it draws a figure again)
      restyleMaps: function (opacity, colormap, scales) {
        const ctx = window.dash_clientside.callback_context;
        const trigger = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : "";
        const plotly = window.Plotly, colour = window.dashappMapColour;
        if (!plotly || !trigger) { return; }
        const byOpacity = trigger.startsWith("ctl-opacity");
        const colorscale = scaleOf(scales, colormap);
        document.querySelectorAll(".map-graph .js-plotly-plot").forEach(function (gd) {
          const meta = gd.layout && gd.layout.meta;
          if (!gd.data || !meta) { return; }
          const traces = [];
          gd.data.forEach(function (trace, i) { if (trace.type === "heatmap") { traces.push(i); } });
          if (!traces.length || (byOpacity && meta.kind !== "heatmap")) { return; }
          const same = byOpacity ? function (trace) { return trace.opacity === opacity; }
            : function (trace) { return colour.sameScale(trace.colorscale, colorscale); };
          if (traces.every(function (i) { return same(gd.data[i]); })) { return; }
          const done = byOpacity ? colour.setOpacity(gd, traces, opacity) : colour.recolour(gd, traces, colorscale);
          if (!done) {
            // plotly.js spreads an array value over the traces: the scale goes in one
            plotly.restyle(gd, byOpacity ? {opacity: opacity} : {colorscale: [colorscale]}, traces);
          }
        });
      },
      // the heatmaps page: each base figure of the ranking (heat-bases) to
      // its slot, and the picked filter's, taller, to the enlarged slot (no
      // server round trip for a pick); a slot already showing its map and
      // title is left alone, so its graph is not redrawn. A changed map is
      // drawn here too, in the controls' style, with its words and its hover
      // answer cleared: one pass through Dash instead of a second one through
      // render for every slot (render then finds the map already shown).
      spread: function (bases, picked, picture, opacity, colormap, scales, shownBases, shownFigures) {
        const dc = window.dash_clientside;
        const outputs = (dc.callback_context && dc.callback_context.outputs_list) || [[], [], [], [], []];
        return spreadOver(outputs.map(function (list) { return list.map(function (out) { return out.id; }); }),
          bases, picked, picture, opacity, colormap, scales, shownBases, shownFigures);
      },
      // the heatmaps page: a click on a map, or Enter on its card (the card's
      // hidden "heat-open" button, pressed by openOnEnter below) -> a
      // navigation request to that filter's detail page
      openMap: function (clicks, opens, bases, ids) {
        const skip = window.dash_clientside.no_update;
        const ctx = window.dash_clientside.callback_context;
        const fired = ctx && ctx.triggered && ctx.triggered.length === 1 ? ctx.triggered[0] : null;
        if (!fired || !fired.value) { return skip; }
        let id;
        try { id = JSON.parse(fired.prop_id.slice(0, fired.prop_id.lastIndexOf("."))); } catch { return skip; }
        if (!/^heat-(\d+|big)$/.test(id.index || "")) { return skip; }
        const at = (ids || []).findIndex(function (slot) { return slot.index === id.index; });
        const meta = at >= 0 && bases[at] && bases[at].layout ? bases[at].layout.meta : null;
        const index = Number(meta ? meta.filter : NaN);
        if (!Number.isInteger(index)) { return skip; }
        return {page: "/detail", filter: index};
      },
      // a page job's progress -> how many it has finished, passed on only
      // when that changes (the page redraws its tiles on it: ui/callbacks/jobs.py)
      jobTally: function (finished, tally) {
        const done = finished && typeof finished.done === "number" ? finished.done : null;
        if (done === null || done === 0 || (tally && tally.done === done && tally.job === finished.job)) {
          return window.dash_clientside.no_update;
        }
        return {done: done, job: finished.job};
      },
      // the state, passed on only when its model (or image) differs from the last one passed on
      modelChanged: function (ready, previous) {
        if (!ready || (previous && previous.model === ready.model)) { return window.dash_clientside.no_update; }
        return ready;
      },
      layerChanged: function (view, previous) {
        if (!view || (previous && previous.model === view.model && previous.layer === view.layer &&
            previous.lang === view.lang)) {
          return window.dash_clientside.no_update;
        }
        return view;
      },
      imageChanged: function (view, previous) {
        if (!view || !view.image || (previous && previous.image === view.image)) {
          return window.dash_clientside.no_update;
        }
        return view;
      },
      // the address with the display controls' values (numbers as the server
      // writes floats, "%g": 6 significant digits, no trailing zeros), once
      // the maps have been repainted and shown: the address and the links
      // that follow it are not on screen, so they wait for the next frame
      // instead of holding the maps' new look back. The arguments are the
      // display controls' values, then which fields they set: [{key, number}]
      // in the same order (the "display-fields" store, from the fields'
      // declarations in dashapp/state/schema.py)
      displaySearch: function () {
        const skip = window.dash_clientside.no_update;
        const values = Array.prototype.slice.call(arguments);
        const fields = values.pop();
        if (!Array.isArray(fields) || !fields.length) { return skip; }
        const texts = [];
        for (let i = 0; i < fields.length; i++) {
          const value = values[i];
          if (typeof value !== (fields[i].number ? "number" : "string")) { return skip; }
          texts.push(fields[i].number ? String(Number(value.toPrecision(6))) : value);
        }
        return new Promise(function (resolve) {
          requestAnimationFrame(function () {
            setTimeout(function () {
              const params = new URLSearchParams(window.location.search);
              const same = fields.every(function (field, i) { return params.get(field.key) === texts[i]; });
              if (same) { return resolve(skip); }
              fields.forEach(function (field, i) { params.set(field.key, texts[i]); });
              resolve("?" + params.toString());
            }, 0);
          });
        });
      },
      // rewrite the address bar in place: no history entry, no page rebuild
      replaceSearch: function (target) {
        if (typeof target === "string" && target !== window.location.search) {
          window.history.replaceState(window.history.state, "", window.location.pathname + target);
        }
        return Date.now();
      },
      // keep the query string on every navigation link; the filter detail
      // link names the filter on screen (the detail page's), so a link
      // shared from it keeps pointing at that filter
      navHrefs: function (target, search, shown, hrefs) {
        const query = typeof target === "string" ? target : (search || "");
        return hrefs.map(function (href) {
          const path = href.split("?")[0];
          if (path !== "/detail" || !Number.isInteger(shown)) { return path + query; }
          const params = new URLSearchParams(query);
          if (params.get("filter") === String(shown)) { return path + query; }
          params.set("filter", String(shown));
          return path + "?" + params.toString();
        });
      },
      // the detail page's filter picker, "Open" button and index box -> a
      // navigation request for another filter (out-of-range indices are
      // reported by the URL callback)
      chooseFilter: function (picked, clicks, typed, current) {
        const ctx = window.dash_clientside.callback_context;
        const trigger = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : "";
        const wanted = /^detail-(open|index)\./.test(trigger) ? typed : picked;
        const index = Math.trunc(Number(wanted));
        if (wanted === null || wanted === undefined || wanted === "" || !Number.isFinite(index) || index === current) {
          return window.dash_clientside.no_update;
        }
        return {filter: index};
      },
      // refuse an over-limit upload in the browser, with a message
      checkUpload: function (contents, filename, limit) {
        if (!contents) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        const comma = contents.indexOf(",");
        const size = Math.floor((contents.length - comma - 1) * 3 / 4);
        if (size > limit) {
          const mb = function (n) { return localNumber((n / 1048576).toFixed(1)) + " MB"; };
          return [window.dash_clientside.no_update, uiText("uploadTooLarge",
            "“{file}” is {size}; the upload limit is {limit}. Nothing was sent. Choose a smaller image.",
            {file: filename || uiText("file", "file"), size: mb(size), limit: mb(limit)})];
        }
        return [{contents: contents, filename: filename}, ""];
      },
      exportLinks: function (target) {
        const query = typeof target === "string" ? target : window.location.search;
        return ["/api/export/ranking.csv" + query, "/api/export/ranking.json" + query,
          "/api/export/regions.json" + query];
      },
      // (the pathname input only says when: the address bar has the path)
      permalink: function (target, search) {
        const query = typeof target === "string" ? target : (search || "");
        return window.location.origin + window.location.pathname + query;
      },
    },
  });
})();
