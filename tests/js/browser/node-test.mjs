// A browser stand-in for the parts of node:test that tests/js/*.test.mjs use, so the same
// test files run in Chromium (tests/e2e/test_browser_vectors.py bundles them with esbuild).
// Results go to window.__testResults once every test has run.

const hooks = [];
const tests = [];
const prefix = [];

export function before(fn) {
  hooks.push(fn);
}

export function describe(name, body) {
  prefix.push(name);
  try {
    body();
  } finally {
    prefix.pop();
  }
}

export function test(name, fn) {
  tests.push({ name: [...prefix, name].join(" > "), fn });
}

async function run() {
  const results = [];
  for (const hook of hooks) await hook();
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error?.stack ?? error) });
    }
  }
  window.__testResults = results;
}

setTimeout(run, 0);
