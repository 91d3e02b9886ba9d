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

  function restyle(base, opacity, colormap, shapes, picture) {
    const meta = (base.layout && base.layout.meta) || {};
    const data = (base.data || []).map(function (trace) {
      if (trace.type !== "heatmap") { return trace; }
      const changed = Object.assign({}, trace, {colorscale: colormap});
      if (meta.kind === "heatmap") { changed.opacity = opacity; }
      return changed;
    });
    const layout = Object.assign({}, base.layout, {shapes: shapes || []});
    // The page's one shared picture goes under every heatmap that asks for it.
    if (meta.shared_picture && picture && picture.uri && layout.images && layout.images.length) {
      layout.images = [Object.assign({}, layout.images[0], {source: picture.uri})].concat(layout.images.slice(1));
    }
    return {data: data, layout: layout};
  }

  function hoverAnswer(base, hover) {
    const meta = base.layout && base.layout.meta;
    if (!meta || meta.kind !== "heatmap" || !hover || !hover.points || !hover.points.length) { return null; }
    const point = hover.points[0];
    // The one geometry rule (dashapp/analysis/geometry.py, MapGeometry.cell_at
    // and .box): cell (row, col) is centred at (x0 + col*dx, y0 + row*dy) in
    // original-image pixels and sees an rf_width x rf_height box around it.
    const g = meta.geometry;
    const col = Math.min(meta.cols - 1, Math.max(0, Math.round((point.x - g.x0) / g.dx)));
    const row = Math.min(meta.rows - 1, Math.max(0, Math.round((point.y - g.y0) / g.dy)));
    const flat = decoded(base.data[0].z);
    const q = flat ? flat[row * meta.cols + col] : point.z;
    const value = q * meta.scale;
    const pct = flat ? percentile(flat, q) : NaN;
    const cx = g.x0 + col * g.dx, cy = g.y0 + row * g.dy;
    const box = {
      x0: Math.max(0, cx - g.rf_width / 2), x1: Math.min(meta.width, cx + g.rf_width / 2),
      y0: Math.max(0, cy - g.rf_height / 2), y1: Math.min(meta.height, cy + g.rf_height / 2),
    };
    const text = (meta.name || ("Filter " + meta.filter)) + ": response " + value.toPrecision(3) +
      " (" + ordinal(Math.round(pct)) + " percentile of this map) at x " + Math.round(point.x) + ", y " +
      Math.round(point.y) + " px; receptive field " + Math.round(box.x1 - box.x0) + "×" +
      Math.round(box.y1 - box.y0) + " px";
    const shape = {type: "rect", xref: "x", yref: "y", x0: box.x0, x1: box.x1, y0: box.y0, y1: box.y1,
      line: {color: "white", width: 2, dash: "dot"}, fillcolor: "rgba(255,255,255,0.08)"};
    return {text: text, shape: shape};
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cnn: {
      // base figure + style controls + hover -> shown figure and hover text
      render: function (base, opacity, colormap, hover, picture) {
        const ctx = window.dash_clientside.callback_context;
        const trigger = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : "";
        if (!base) { return [window.dash_clientside.no_update, ""]; }
        if (trigger.endsWith(".hoverData")) {
          const answer = hoverAnswer(base, hover);
          if (answer) { return [restyle(base, opacity, colormap, [answer.shape], picture), answer.text]; }
        }
        return [restyle(base, opacity, colormap, [], picture), ""];
      },
      // rewrite the address bar in place: no history entry, no page rebuild
      replaceSearch: function (target) {
        if (typeof target === "string" && target !== window.location.search) {
          window.history.replaceState(window.history.state, "", window.location.pathname + target);
        }
        return Date.now();
      },
      // keep the query string on every navigation link
      navHrefs: function (target, search, hrefs) {
        const query = typeof target === "string" ? target : (search || "");
        return hrefs.map(function (href) { return href.split("?")[0] + query; });
      },
      // refuse an over-limit upload in the browser, with a message
      checkUpload: function (contents, filename, limit) {
        if (!contents) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        const comma = contents.indexOf(",");
        const size = Math.floor((contents.length - comma - 1) * 3 / 4);
        if (size > limit) {
          const mb = function (n) { return (n / 1048576).toFixed(1) + " MB"; };
          return [window.dash_clientside.no_update,
            "“" + (filename || "file") + "” is " + mb(size) + "; the upload limit is " + mb(limit) +
            ". Nothing was sent. Choose a smaller image."];
        }
        return [{contents: contents, filename: filename}, ""];
      },
      exportLinks: function (target) {
        const query = typeof target === "string" ? target : window.location.search;
        return ["/api/export/ranking.csv" + query, "/api/export/ranking.json" + query,
          "/api/export/regions.json" + query];
      },
      permalink: function (target, search, pathname) {
        const query = typeof target === "string" ? target : (search || "");
        return window.location.origin + window.location.pathname + query;
      },
    },
  });
})();
