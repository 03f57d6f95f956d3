// A browser stand-in for node:assert/strict: the assertions tests/js/*.test.mjs use.

class AssertionError extends Error {}

function same(a, b) {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => same(a[k], b[k]));
  }
  return false;
}

/** `expected` is an Error class, or a validation function that must return true. */
function check(expected, error) {
  if (!expected) return;
  const isClass = expected === Error || expected.prototype instanceof Error;
  if (isClass ? !(error instanceof expected) : expected(error) !== true) {
    throw new AssertionError(`unexpected error ${error?.name}: ${error?.message}`);
  }
}

const assert = {
  equal(a, b, message) {
    if (!Object.is(a, b)) throw new AssertionError(message ?? `${String(a)} !== ${String(b)}`);
  },
  notEqual(a, b, message) {
    if (Object.is(a, b)) throw new AssertionError(message ?? `${String(a)} === ${String(b)}`);
  },
  deepEqual(a, b, message) {
    if (!same(a, b)) throw new AssertionError(message ?? "values are not deeply equal");
  },
  ok(value, message) {
    if (!value) throw new AssertionError(message ?? "value is not truthy");
  },
  throws(fn, expectedClass) {
    try {
      fn();
    } catch (error) {
      check(expectedClass, error);
      return;
    }
    throw new AssertionError("the function did not throw");
  },
  async rejects(promise, expectedClass) {
    try {
      await (typeof promise === "function" ? promise() : promise);
    } catch (error) {
      check(expectedClass, error);
      return;
    }
    throw new AssertionError("the promise did not reject");
  },
};

export default assert;
