// Shamir secret sharing over GF(256) in the HashiCorp format (docs/protocol.md), through npm
// shamir-secret-sharing: shares made here combine in spartacus/protocol/shamir.py and back.

import { combine as shamirCombine, split as shamirSplit } from "shamir-secret-sharing";

import {
  InvalidKey,
  InvalidShare,
  KEY_SIZE,
  checkBytes,
  checkCustodians,
  checkThreshold,
  equalBytes,
  shareSize,
} from "./primitives.js";

/** n shares of a 32-byte key, any t of which rebuild it (t = 1: the key n times). */
export async function splitKey(key, n, t) {
  const raw = checkBytes(key, KEY_SIZE, "a pledge key", InvalidKey);
  checkCustodians(n, t);
  if (t === 1) return Array.from({ length: n }, () => new Uint8Array(raw));
  return shamirSplit(raw, n, t);
}

/** Rebuild a key from at least t shares (t = 1: identical copies of the key). */
export async function combineShares(shares, t) {
  checkThreshold(t);
  const size = shareSize(t);
  const parts = shares.map((share) => checkBytes(share, size, "a share", InvalidShare));
  if (parts.length < t || parts.length === 0) {
    throw new InvalidShare(`${parts.length} shares given; ${t} are needed`);
  }
  if (t === 1) {
    if (parts.some((part) => !equalBytes(part, parts[0]))) {
      throw new InvalidShare("with t = 1 every share is the key itself, but these differ");
    }
    return parts[0];
  }
  const xs = parts.map((part) => part[part.length - 1]);
  if (xs.includes(0) || new Set(xs).size !== xs.length) {
    throw new InvalidShare("shares must have distinct, non-zero x-coordinates");
  }
  try {
    return await shamirCombine(parts);
  } catch (error) {
    throw new InvalidShare(String(error.message ?? error));
  }
}
