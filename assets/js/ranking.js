// The heatmaps page in the browser: a layer's filters ranked and their maps
// built from the layer bundle the server sends once per image, model,
// weights, layer and language (dashapp/pages/_layer_bundle.py). A ranking
// control's change is drawn from here with no request; the address, the
// notice and the layer's words follow from the server's state.
//
// The ranking is dashapp/analysis/maps/stats.py's rank_filters on the same
// numbers (the statistics arrive as their float32/float64 bytes), in
// numpy's arithmetic: a Python float meeting a float32 array is rounded to
// float32 first (Math.fround). Numbers are written as dashapp/i18n writes
// them (Babel: the shortest repr, rounded half to even). Both rules are held
// to the server's answers by tests/browser/test_ranking_js.py.
(function () {
  "use strict";

  // -- numbers

  function bytesOf(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  // a bundle's statistics as typed arrays (decoded once a bundle)
  function statsOf(bundle) {
    if (!bundle.__stats) {
      const s = bundle.stats;
      Object.defineProperty(bundle, "__stats", {enumerable: false, value: {
        mean: new Float32Array(bytesOf(s.mean).buffer), max: new Float32Array(bytesOf(s.max).buffer),
        std: new Float32Array(bytesOf(s.std).buffer), sparsity: new Float64Array(bytesOf(s.sparsity).buffer),
      }});
    }
    return bundle.__stats;
  }

  // stats.py responds: a peak above 0 that reaches minRelativePeak of the layer's strongest
  function responding(stats, minRelativePeak) {
    const count = stats.max.length;
    let top = 0;
    for (let i = 0; i < count; i++) { if (i === 0 || stats.max[i] > top) { top = stats.max[i]; } }
    const threshold = Math.fround(minRelativePeak * top);
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) { out[i] = stats.max[i] > 0 && stats.max[i] >= threshold ? 1 : 0; }
    return out;
  }

  // stats.py balanced_scores: NaN for the filters the rules leave out
  function balancedScores(stats, minSparsity, weight, minRelativePeak) {
    const count = stats.mean.length, strong = responding(stats, minRelativePeak);
    const scores = new Float64Array(count).fill(NaN);
    let topMean = -Infinity, any = false;
    for (let i = 0; i < count; i++) {
      if (stats.sparsity[i] >= minSparsity && strong[i]) {
        any = true;
        if (stats.mean[i] > topMean) { topMean = stats.mean[i]; }
      }
    }
    if (!any) { return scores; }
    const w32 = Math.fround(weight), rest = 1 - weight;
    for (let i = 0; i < count; i++) {
      if (stats.sparsity[i] >= minSparsity && strong[i]) {
        const normalized = topMean > 0 ? Math.fround(stats.mean[i] / topMean) : 0;
        scores[i] = Math.fround(w32 * normalized) + rest * stats.sparsity[i];
      }
    }
    return scores;
  }

  // stats.py rank_filters: the top n by score, ties to the lower index
  function rank(stats, criterion, n, minSparsity, weight, minRelativePeak) {
    const count = stats.mean.length;
    const wanted = Math.max(1, Math.min(Math.trunc(n), count));
    const scores = criterion === "balanced" ? balancedScores(stats, minSparsity, weight, minRelativePeak)
      : Float64Array.from(stats[criterion]);
    const candidates = [];
    for (let i = 0; i < count; i++) { if (!Number.isNaN(scores[i])) { candidates.push(i); } }
    candidates.sort(function (a, b) { return scores[b] - scores[a] || a - b; });
    const filters = candidates.slice(0, wanted).map(function (index, at) {
      return {index: index, rank: at + 1, score: scores[index], sparsity: stats.sparsity[index]};
    });
    return {filters: filters, eligible: candidates.length, requested: wanted};
  }

  // -- words

  // x >= 0 as the decimal digits of its shortest repr: value = 0.<digits> × 10^point
  function decimalDigits(x) {
    const match = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(x));
    if (!match) { return null; }
    let digits = match[1] + (match[2] || "");
    let point = match[1].length + Number(match[3] || 0);
    const lead = /^0*/.exec(digits)[0].length;
    digits = digits.slice(lead);
    point -= lead;
    return {digits: digits.replace(/0+$/, ""), point: point};
  }

  // a number's decimal digits (decimalDigits) at `places` decimals, rounded half to even, as "int.frac"
  function roundedHalfEven(d, places) {
    const keep = d.point + places;
    const kept = keep > 0 ? d.digits.slice(0, keep).padEnd(keep, "0") : "";
    const rest = keep >= 0 ? d.digits.slice(keep) : "0";
    const last = kept ? Number(kept[kept.length - 1]) : 0;
    const up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1));
    const text = (BigInt(kept || "0") + (up ? 1n : 0n)).toString().padStart(places + 1, "0");
    return places ? text.slice(0, -places) + "." + text.slice(-places) : text;
  }

  function grouped(integer, mark) {
    let out = "";
    while (integer.length > 3) { out = mark + integer.slice(-3) + out; integer = integer.slice(0, -3); }
    return integer + out;
  }

  // i18n.number(x, places): exactly `places` decimals, grouped by thousands
  function fixed(x, places, marks) {
    const d = decimalDigits(x);
    if (!d) { return String(x); }
    const [integer, fraction] = roundedHalfEven(d, places).split(".");
    return grouped(integer, marks.group) + (fraction === undefined ? "" : marks.decimal + fraction);
  }

  // i18n.percent(x): a whole percentage
  function percent(x, marks) {
    const d = decimalDigits(x);
    if (!d) { return String(x); }
    const hundredfold = {digits: d.digits, point: d.point + 2};
    return marks.percentPrefix + grouped(roundedHalfEven(hundredfold, 0), marks.group) + marks.percentSuffix;
  }

  function worded(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // -- figures

  // filter `index`'s map figure: the template (filter 0's, figures/maps.heatmap_figure) with its own map and words
  function figureOf(bundle, index) {
    if (!bundle.__figures) { Object.defineProperty(bundle, "__figures", {enumerable: false, value: {}}); }
    if (!bundle.__figures[index]) {
      const template = bundle.template, scale = bundle.scales[index];
      const trace = Object.assign({}, template.data[0],
        {z: {dtype: bundle.dtype, bdata: bundle.maps[index], shape: bundle.shape}});
      const meta = Object.assign({}, template.layout.meta, {
        filter: index, scale: scale, zmax: scale * bundle.levels,
        name: worded(bundle.words.name, {index: index}), description: bundle.descriptions[index],
      });
      bundle.__figures[index] = {data: [trace], layout: Object.assign({}, template.layout, {meta: meta})};
    }
    return bundle.__figures[index];
  }

  // pages/heatmaps.py's title of a ranked map
  function titleOf(bundle, ranked) {
    const marks = bundle.words.marks;
    return worded(bundle.words.title, {rank: ranked.rank, index: ranked.index,
      score: fixed(ranked.score, 3, marks), sparsity: percent(ranked.sparsity, marks)});
  }

  // the ranking controls' values as the server would keep them: a number
  // outside its declared range is left to the server, which says so and sets
  // the control again (state/values.py); floats as the address writes them (%g)
  function accepted(bundle, criterion, n, minSparsity, weight) {
    const bounds = bundle.rules.bounds;
    function inside(value, key) {
      return typeof value === "number" && Number.isFinite(value) && value >= bounds[key][0] && value <= bounds[key][1];
    }
    if (bundle.rules.criteria.indexOf(criterion) < 0 || !inside(n, "n") || !Number.isInteger(n) ||
        !inside(minSparsity, "min_sparsity") || !inside(weight, "weight")) {
      return null;
    }
    return {criterion: criterion, n: n, minSparsity: Number(minSparsity.toPrecision(6)),
      weight: Number(weight.toPrecision(6))};
  }

  // the slot for `rank` (pages/heatmaps.py cells): the bundle's template slot with its id
  function slotFor(bundle, rank) {
    return JSON.parse(JSON.stringify(bundle.slot).split('"' + bundle.slotId + '"').join('"heat-' + rank + '"'));
  }

  // which ranks hold a slot now (their titles' ids)
  function shownRanks(titleIds) {
    const shown = new Set();
    (titleIds || []).forEach(function (id) {
      const match = id && /^heat-(\d+)$/.exec(String(id.index));
      if (match) { shown.add(Number(match[1])); }
    });
    return shown;
  }

  // The layers this page has received, the last few (by key: image, model, weights, layer,
  // language): the server sends only the key of one held here (pages/heatmaps.py render).
  const HELD = new Map(), HOLD = 4;
  function held(bundle) {
    if (!bundle || !bundle.key) { return null; }
    const known = bundle.maps ? bundle : HELD.get(bundle.key);
    if (!known) { return null; }
    HELD.delete(known.key);
    HELD.set(known.key, known);
    while (HELD.size > HOLD) { HELD.delete(HELD.keys().next().value); }
    return known;
  }

  // spread's values for the slots on the page, set at once (the slots' ids are this callback's states')
  const SLOT_PROPS = [["fig-base", "data"], ["fig-title", "children"], ["fig", "figure"], ["fig-hover", "children"],
    ["fig-desc", "children"]];
  function drawNow(dc, bases, picked, picture, opacity, colormap, scales, shownBases, shownFigures) {
    const states = (dc.callback_context && dc.callback_context.states_list) || [];
    function idsOf(type) {  // the ids of this callback's pattern state on `type`
      const list = states.find(function (state) {
        return Array.isArray(state) && state.length && state[0].id && state[0].id.type === type;
      });
      return (list || []).map(function (state) { return state.id; });
    }
    const baseIds = idsOf("fig-base"), figIds = idsOf("fig"), titleIds = idsOf("fig-title");
    if (!window.dashappSpread || baseIds.length !== figIds.length) { return; }
    const ids = [baseIds, titleIds, figIds,
      figIds.map(function (id) { return {type: "fig-hover", index: id.index}; }),
      figIds.map(function (id) { return {type: "fig-desc", index: id.index}; })];
    const values = window.dashappSpread(ids, bases, picked, picture, opacity, colormap, scales, shownBases,
      shownFigures);
    values.forEach(function (list, k) {
      list.forEach(function (value, i) {
        if (value !== dc.no_update) {
          const props = {};
          props[SLOT_PROPS[k][1]] = value;
          dc.set_props(ids[k][i], props);
        }
      });
    });
  }

  const api = {rank: rank, fixed: fixed, percent: percent, figureOf: figureOf, titleOf: titleOf, statsOf: statsOf,
    accepted: accepted, slotFor: slotFor};
  window.dashappRanking = api;

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    heat: {
      // the bundle and the ranking controls -> the cells that gain or lose
      // a slot, the grid's width, the enlarge picker, and the ranked maps
      // and titles (heat-bases, which spread in assets/js/dashapp.js draws),
      // each set here in that order (pages/heatmaps.py says why set_props)
      rank: function (sent, criterion, n, minSparsity, weight, picked, titleIds, keys, picture, opacity, colormap,
        scales, shownBases, shownFigures, first) {
        // the layer sent last (heat-layer), else the one a first visit's layout held (heat-first)
        const dc = window.dash_clientside, bundle = held(sent || first);
        const values = bundle ? accepted(bundle, criterion, n, minSparsity, weight) : null;
        if (!values) { return dc.no_update; }
        const holding = Array.from(HELD.keys());
        if (JSON.stringify(holding) !== JSON.stringify(keys)) { dc.set_props("heat-layer-keys", {data: holding}); }
        const ranking = rank(statsOf(bundle), values.criterion, values.n, values.minSparsity, values.weight,
          bundle.rules.minRelativePeak);
        const count = ranking.filters.length, shown = shownRanks(titleIds);
        let reshaped = false;
        for (let at = 1; at <= bundle.rules.bounds.n[1]; at++) {
          if (at <= count && !shown.has(at)) {
            dc.set_props({type: "heat-cell", index: at}, {children: slotFor(bundle, at)});
            reshaped = true;
          } else if (at > count && shown.has(at)) {
            // [] rather than null: the renderer forgets the removed ids only for a truthy children value
            dc.set_props({type: "heat-cell", index: at}, {children: []});
            reshaped = true;
          }
        }
        const wide = count >= bundle.grid.wideFrom;
        dc.set_props("heat-grid", {className: bundle.grid.classes[wide ? 1 : 0]});
        const options = ranking.filters.map(function (f) {
          return {label: worded(bundle.words.option, {rank: f.rank, index: f.index}), value: String(f.index)};
        });
        const valid = options.some(function (o) { return o.value === picked; });
        const pick = valid ? picked : (options.length ? options[0].value : null);
        dc.set_props("heat-pick", valid ? {options: options} : {options: options, value: pick});
        const bases = {figures: ranking.filters.map(function (f) { return figureOf(bundle, f.index); }),
          titles: ranking.filters.map(function (f) { return titleOf(bundle, f); }), wide: wide};
        dc.set_props("heat-bases", {data: bases});
        // The same slots as before: the maps are drawn in this pass (spread, assets/js/dashapp.js,
        // then finds them shown); new slots are drawn by spread once they are on the page.
        if (!reshaped) {
          drawNow(dc, bases, pick, picture, opacity, colormap, scales, shownBases, shownFigures);
        }
        return dc.no_update;
      },
    },
  });
})();
