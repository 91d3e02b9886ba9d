// Where a map cell lies in the original image, in the browser: the one
// geometry rule of dashapp/analysis/maps/geometry.py (MapGeometry), read from
// the numbers the server puts in a figure's layout.meta.geometry
// (MapGeometry.as_dict: x0, dx, y0, dy, rf_width, rf_height, in
// original-image pixels). Cell (row, col) is centred at
// (x0 + col * dx, y0 + row * dy) and sees an rf_width x rf_height box around
// that centre. tests/browser/test_geometry.py runs these functions over a
// table of cases against MapGeometry.
//
// Loaded after dashapp.js (Dash loads assets/js/*.js by name): callers look
// window.dashappGeometry up when they run, never while the scripts load.
(function () {
  "use strict";

  // Python's round(): the nearest integer, a tie to the even one (Math.round
  // takes a tie up), so a point midway between two centres picks the same cell.
  function roundHalfEven(v) {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function clip(v, lo, hi) {
    return Math.min(hi, Math.max(lo, v));
  }

  // MapGeometry.centre: the cell's centre [x, y]
  function centre(g, row, col) {
    return [g.x0 + col * g.dx, g.y0 + row * g.dy];
  }

  window.dashappGeometry = {
    centre: centre,
    // MapGeometry.cell_at: [row, col] of the cell whose centre is nearest to
    // image point (x, y), held inside the rows x cols map
    cellAt: function (g, x, y, rows, cols) {
      return [clip(roundHalfEven((y - g.y0) / g.dy), 0, rows - 1),
        clip(roundHalfEven((x - g.x0) / g.dx), 0, cols - 1)];
    },
    // MapGeometry.box: the cell's receptive field [x0, y0, x1, y1], clipped to the image
    box: function (g, row, col, width, height) {
      const c = centre(g, row, col);
      return [Math.max(0, c[0] - g.rf_width / 2), Math.max(0, c[1] - g.rf_height / 2),
        Math.min(width, c[0] + g.rf_width / 2), Math.min(height, c[1] + g.rf_height / 2)];
    },
  };
})();
