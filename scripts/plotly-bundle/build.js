// Builds ../../dashapp/vendor/plotly-analyzer.min.js from entry.js with
// plotly.js's own esbuild settings (its esbuild-config.js: the same plugins,
// aliases, defines and target), minified. Run from this folder:
//
//     npm ci && npm run build
//
// The result is committed: neither the app nor its tests need node.
const path = require('path');
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const version = require('plotly.js/package.json').version;

const banner = `/**
* plotly.js (cnn-analyzer: scatter, heatmap, bar, box - minified) v${version}
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
* Built by scripts/plotly-bundle/build.js from plotly.js/lib/core, bar, box and heatmap.
*/`;

esbuild
    .build({
        entryPoints: [path.join(__dirname, 'entry.js')],
        outfile: path.join(__dirname, '..', '..', 'dashapp', 'vendor', 'plotly-analyzer.min.js'),
        format: 'iife',
        globalName: 'Plotly',
        bundle: true,
        minify: true,
        sourcemap: false,
        legalComments: 'eof', // the bundled packages' licence notices stay in the file
        banner: { js: banner },
        plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
        alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
        define: { global: 'window', 'define.amd': 'false' },
        target: 'es2016',
        logLevel: 'info',
    })
    .catch(() => process.exit(1));
