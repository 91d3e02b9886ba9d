'use strict';
// plotly.js with the traces the CNN Activation Analyzer draws and no others:
// scatter comes with the core; heatmap, bar and box are registered here.
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/box'), require('plotly.js/lib/heatmap')]);

module.exports = Plotly;
