// Bundle the pages' script for the browser, offline, from node_modules, and publish what was built:
//   node frontend/build.mjs   ->  spartacus/web/static/dist/app.js (+ .map, .LEGAL.txt)
//                                 spartacus/web/static/dist/groups.js (+ .map, .LEGAL.txt): the
//                                   group pages (Semaphore identities and proofs)
//                                 spartacus/web/static/dist/semaphore-16.{wasm,zkey}: the proving
//                                   files, copied from @zk-kit/semaphore-artifacts (depth 16 only)
//                                 spartacus/web/static/dist/manifest.json
// The manifest names every file the site serves from static/ (as "static/<path>", its URL path)
// with its sha256 and its SRI hash, and the IPFS CID of that folder, computed offline. Same sources, same bytes: `spartacus check-site` compares a served site with it
// (docs/web.md, "A checkable front").
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { build } from "esbuild";
import { filesUnder, folderCid } from "./folder-cid.mjs";

const STATIC = "spartacus/web/static";
const MANIFEST = `${STATIC}/dist/manifest.json`;

const DEPTH = 16; // SpartacusGroups.DEPTH, the only tree depth the site proves at
const require = createRequire(import.meta.url);
const ARTIFACTS = dirname(require.resolve("@zk-kit/semaphore-artifacts/package.json"));
const proving = {};
mkdirSync(`${STATIC}/dist`, { recursive: true });
for (const kind of ["wasm", "zkey"]) {
  const name = `semaphore-${DEPTH}.${kind}`;
  copyFileSync(join(ARTIFACTS, name), `${STATIC}/dist/${name}`);
  proving[kind] = createHash("sha256").update(readFileSync(join(ARTIFACTS, name))).digest("hex");
}

const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  // Paths in the source map stay relative to this folder even when node_modules is a symlink,
  // so a build here and a build in any other folder give the same bytes.
  preserveSymlinks: true,
  logLevel: "warning",
  // The proving files' sha256 (checked before proving), so each bundle's own hash in the
  // manifest pins them too.
  define: { __SEMAPHORE_SHA256__: JSON.stringify(proving) },
};
await build({ ...common, entryPoints: ["frontend/src/app.js"], outfile: `${STATIC}/dist/app.js` });
// The group pages (identities, redemption, proving); the campaign pages prove for a gated
// join with the same code (membership.js), in app.js.
await build({ ...common, entryPoints: ["frontend/src/group-page.js"], outfile: `${STATIC}/dist/groups.js` });

const files = filesUnder(STATIC)
  .filter((path) => path !== join(MANIFEST))
  .map((path) => ({ name: `static/${relative(STATIC, path).split(sep).join("/")}`, path }))
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const entries = {};
for (const { name, path } of files) {
  const bytes = readFileSync(path);
  entries[name] = {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    integrity: `sha384-${createHash("sha384").update(bytes).digest("base64")}`,
    size: bytes.length,
  };
}

// The CID of the folder static/ as served (these files, without the manifest): `ipfs-car pack`
// of a copy of that folder prints the same CID.
const cid = await folderCid(files.map(({ name, path }) => ({ name: name.slice("static/".length), path })));

const manifest = { version: 1, cid, files: entries };
writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
