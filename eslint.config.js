// ESLint's flat config: `make lint-js` checks the browser code (frontend/src, bundled by
// esbuild for ES2022 browsers) and its node tests (tests/js, some also run in Chromium).
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  js.configs.recommended,
  {
    rules: { eqeqeq: "error", "no-var": "error", "prefer-const": "error" },
  },
  {
    files: ["frontend/src/**/*.js", "tests/js/browser/**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.es2022 },
    },
  },
  {
    files: ["tests/js/*.test.mjs", "frontend/*.mjs"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node, ...globals.es2022 },
    },
  },
];
