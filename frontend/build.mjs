// Bundle the pages' script for the browser, offline, from node_modules:
//   node frontend/build.mjs   ->  spartacus/web/static/dist/app.js
import { build } from "esbuild";

await build({
  entryPoints: ["frontend/src/app.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: "spartacus/web/static/dist/app.js",
  logLevel: "warning",
});
