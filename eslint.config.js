// ESLint for the browser scripts the app serves (assets/js; the vendored
// libraries in assets/vendor are not ours to lint). Each file is a classic
// script loaded by Dash in name order, sharing the page's window: what one
// file offers another goes on window (dashappText, dashappGeometry,
// dashappMapColour, dash_clientside). Run by scripts/lint_js.
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {
    files: ["assets/js/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: {...globals.browser},
    },
    rules: {
      ...js.configs.recommended.rules,
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-implicit-globals": "error",
    },
  },
];
