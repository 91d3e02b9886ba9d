// A drawn map recoloured (or made more or less opaque) in place, without a
// Plotly call.
//
// Plotly.restyle of a colour scale runs plotly.js's whole pipeline for the
// graph again (defaults, calc, every layer): 7-10 ms a graph, of which
// painting the cells is about 1 ms, so a page of seven maps took ~70 ms.
// Here only the cells are painted again, exactly as plotly.js 4 paints them
// (src/traces/heatmap/plot.js, its "fast" drawing: one canvas pixel a cell,
// shown pixelated; src/components/colorscale/helpers.js: a clamped d3 v3
// linear scale over the stops, channels rounded), and only the trace's
// <image> changes. The graph's data and full data take the new scale, so
// any later redraw by plotly.js draws the same picture. A graph drawn any
// other way is refused (false) and the caller uses Plotly.restyle.
// tests/browser/test_map_colour.py holds the pixels to Plotly.restyle's.
(function () {
  "use strict";

  const XLINK = "http://www.w3.org/1999/xlink";

  // "#rrggbb", "#rgb", "rgb(r, g, b)" or "rgba(r, g, b, a)" -> [r, g, b, a]; null for anything else
  function rgba(colour) {
    const text = String(colour).trim();
    let match = /^#([0-9a-f]{6})$/i.exec(text);
    if (match) {
      const value = parseInt(match[1], 16);
      return [(value >> 16) & 255, (value >> 8) & 255, value & 255, 1];
    }
    match = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(text);
    if (match) {
      return [1, 2, 3].map(function (i) { return parseInt(match[i] + match[i], 16); }).concat([1]);
    }
    match = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(text);
    if (match) {
      return [Math.round(+match[1]), Math.round(+match[2]), Math.round(+match[3]),
        match[4] === undefined ? 1 : +match[4]];
    }
    return null;
  }

  // value -> [r, g, b, a] as plotly.js computes it: stops spread over
  // [zmin, zmax], d3.bisect(domain, v, 1, k) - 1 picks the segment, t is
  // clamped to [0, 1] and each channel is a * (1 - t) + b * t.
  function scaleFunction(colorscale, zmin, zmax) {
    if (!Array.isArray(colorscale) || colorscale.length < 2) { return null; }
    const domain = colorscale.map(function (stop) { return zmin + stop[0] * (zmax - zmin); });
    const range = colorscale.map(function (stop) { return rgba(stop[1]); });
    if (range.some(function (c) { return !c; }) || !(domain[domain.length - 1] >= domain[0])) { return null; }
    const k = domain.length - 1;
    return function (v) {
      let lo = 1, hi = k;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (v < domain[mid]) { hi = mid; } else { lo = mid + 1; }
      }
      const j = lo - 1, a = domain[j];
      let b = domain[j + 1] - a;
      b = b || 1 / b;
      const t = Math.max(0, Math.min(1, (v - a) / b));
      const c0 = range[j], c1 = range[j + 1];
      return [c0[0] * (1 - t) + c1[0] * t, c0[1] * (1 - t) + c1[1] * t, c0[2] * (1 - t) + c1[2] * t,
        c0[3] * (1 - t) + c1[3] * t];
    };
  }

  function axisOf(gd, id) {
    return gd._fullLayout[String(id).replace(/^([xy])/, "$1axis")];
  }

  // trace index -> {trace (full data), cd (its calc data), image}, for the
  // given heatmap traces, or null when one was not drawn the "fast" way
  function drawnCells(gd, traces) {
    if (!gd._fullData || !gd._fullLayout) { return null; }
    const found = {};
    gd.querySelectorAll("g.hm").forEach(function (group) {
      const cd = group.__data__ && group.__data__[0];
      const image = group.querySelector("image");
      if (cd && cd.trace && image) { found[cd.trace.index] = {trace: cd.trace, cd: cd, image: image}; }
    });
    for (const i of traces) {
      const cells = found[i];
      // plotly.js draws cells the "fast" way for zsmooth "fast", and for no
      // smoothing on even spacing where the browser shows images pixelated
      // (it then marks the image so); any other way is plotly.js's to redo.
      if (!cells || cells.trace !== gd._fullData[i] || cells.trace.reversescale ||
          !(cells.trace.zsmooth === "fast" ||
            (!cells.trace.zsmooth && /pixelated/.test(cells.image.getAttribute("style") || "")))) {
        return null;
      }
    }
    return found;
  }

  // the cells of one trace in the colour scale, as plotly.js lays them out: a PNG data URI
  function paintedCells(gd, cells, colorscale) {
    const colour = scaleFunction(colorscale, cells.trace.zmin, cells.trace.zmax);
    const xa = axisOf(gd, cells.trace.xaxis), ya = axisOf(gd, cells.trace.yaxis);
    const z = cells.cd.z, x = cells.cd.x, y = cells.cd.y;
    if (!colour || !xa || !ya || !z || !z.length || !x || !y) { return null; }
    const m = z.length;
    let n = 0;
    for (let j = 0; j < m; j++) { n = Math.max(n, z[j].length); }
    const xrev = xa.c2p(x[x.length - 1]) < xa.c2p(x[0]), yrev = ya.c2p(y[y.length - 1]) < ya.c2p(y[0]);
    const canvas = document.createElement("canvas");
    canvas.width = n;
    canvas.height = m;
    const context = canvas.getContext("2d", {willReadFrequently: true});
    const picture = context.createImageData(n, m), pixels = picture.data;
    for (let j = 0; j < m; j++) {
      const row = z[j], py = yrev ? m - 1 - j : j;
      for (let i = 0; i < n; i++) {
        const at = (py * n + (xrev ? n - 1 - i : i)) * 4;
        const c = row[i] === undefined ? [0, 0, 0, 0] : colour(row[i]);
        pixels[at] = Math.round(c[0]);
        pixels[at + 1] = Math.round(c[1]);
        pixels[at + 2] = Math.round(c[2]);
        pixels[at + 3] = Math.round(c[3] * 255);
      }
    }
    context.putImageData(picture, 0, 0);
    return canvas.toDataURL("image/png");
  }

  window.dashappMapColour = {
    // the traces' cells in a new colour scale; a settled promise, as
    // Plotly.restyle's is once it has set its pictures, or null when the
    // graph must be restyled by plotly.js
    recolour: function (gd, traces, colorscale) {
      const found = drawnCells(gd, traces);
      if (!found) { return null; }
      const uris = traces.map(function (i) { return paintedCells(gd, found[i], colorscale); });
      if (uris.some(function (uri) { return !uri; })) { return null; }
      traces.forEach(function (i, k) {
        found[i].image.setAttributeNS(XLINK, "xlink:href", uris[k]);
        gd.data[i].colorscale = colorscale;
        found[i].trace.colorscale = colorscale;
      });
      return Promise.resolve();
    },
    // the traces' opacity, set where plotly.js's heatmap style sets it
    setOpacity: function (gd, traces, opacity) {
      const found = drawnCells(gd, traces);
      if (!found) { return null; }
      traces.forEach(function (i) {
        found[i].image.style.opacity = opacity;
        gd.data[i].opacity = opacity;
        found[i].trace.opacity = opacity;
      });
      return Promise.resolve();
    },
    sameScale: function (a, b) {
      return a === b || JSON.stringify(a) === JSON.stringify(b);
    },
  };
})();
