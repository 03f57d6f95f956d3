#!/usr/bin/env node
// A stand-in for a native solc binary, backed by the npm `solc` package (soljson), so that
// py-solc-x and ape-solidity compile offline. It answers the two calls they make:
// `--version` and `--standard-json` (input on stdin, output on stdout). Other flags that
// py-solc-x passes along (--allow-paths, --base-path, ...) only matter for file imports,
// which are resolved below from the base path and the include paths.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require(path.join(__dirname, "..", "node_modules", "solc"));

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solcjs-shim: only --version and --standard-json are supported\n");
  process.exit(2);
}

function flagValues(name) {
  const out = [];
  args.forEach((a, i) => {
    if (a === name && i + 1 < args.length) out.push(...args[i + 1].split(","));
    else if (a.startsWith(name + "=")) out.push(...a.slice(name.length + 1).split(","));
  });
  return out;
}
const roots = [...flagValues("--base-path"), ...flagValues("--include-path"), process.cwd()];

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
