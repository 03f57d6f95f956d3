// Reading the roster (docs/protocol.md, "Release data"): gather each pledge's shares from
// the releases, rebuild and check its key, decrypt names, contacts and the instructions.
// Mirrors spartacus/protocol/roster.py; the problems it reports, and their order, are the same.

import { CryptoError, InvalidRelease, checkCustodians, equalBytes } from "./primitives.js";
import { commitment, decodeContact, decodeInstructions, decryptPayload } from "./payload.js";
import {
  KIND_KEYS,
  KIND_PUBLIC,
  KIND_SEALED,
  openKeySeal,
  openSealedShares,
  parseRelease,
  releaseEntries,
} from "./release.js";
import { recordContext } from "./sealing.js";
import { combineShares } from "./shamir.js";

// ------------------------------------------------------------------------ helpers

const names = (list) => list.join(", ");
const byNumber = (a, b) => a - b;
const sortedEntries = (map) => [...map.entries()].sort((a, b) => byNumber(a[0], b[0]));

/** map.get(key), first setting it to `value` if it is absent (Python's dict.setdefault). */
function setDefault(map, key, value) {
  if (!map.has(key)) map.set(key, value);
  return map.get(key);
}

/** Rethrow anything that is not an `ErrorClass`; return the message of one that is. */
function messageOf(error, ErrorClass) {
  if (!(error instanceof ErrorClass)) throw error;
  return error.message;
}

// ------------------------------------------------------------------------ keys from shares

function* combinations(items, k, start = 0, prefix = []) {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i < items.length; i++) yield* combinations(items, k, i + 1, [...prefix, items[i]]);
}

/** Whether `share` lies on the polynomial that `chosen` (t shares of `key`) define. */
async function consistent(share, chosen, key, t) {
  if (t === 1) return equalBytes(share, key);
  if (chosen.some((c) => equalBytes(c, share))) return true;
  const others = chosen.filter((c) => c[c.length - 1] !== share[share.length - 1]).slice(0, t - 1);
  if (others.length < t - 1) return false;
  try {
    return equalBytes(await combineShares([...others, share], t), key);
  } catch {
    return false;
  }
}

/**
 * Find t shares (Map custodian -> share) that rebuild a key matching `expected`.
 * Returns { key, bad: custodians whose shares do not fit it }, or { key: null, bad: [] }.
 */
export async function recoverKey(shares, t, expected) {
  const custodians = [...shares.keys()].sort(byNumber);
  for (const subset of combinations(custodians, t)) {
    const chosen = subset.map((c) => shares.get(c));
    let key;
    try {
      key = await combineShares(chosen, t);
    } catch {
      continue;
    }
    if (equalBytes(commitment(key), expected)) {
      const bad = [];
      for (const c of custodians) {
        if (!subset.includes(c) && !(await consistent(shares.get(c), chosen, key, t))) bad.push(c);
      }
      return { key, bad };
    }
  }
  return { key: null, bad: [] };
}

// ------------------------------------------------------------------------ gathering shares

/** Shares gathered per pledge index, one per custodian (the first it released). */
class Shares {
  constructor(active) {
    this.active = active;
    this.byIndex = new Map(); // pledge index -> Map custodian -> share
    this.unknown = new Map(); // custodian -> Set of indices that are not active pledges
    this.conflicts = new Map(); // custodian -> Set of indices it gave two shares for
  }

  add(custodian, entries) {
    for (const [index, share] of entries) {
      if (!this.active.has(index)) {
        setDefault(this.unknown, custodian, new Set()).add(index);
        continue;
      }
      const held = setDefault(this.byIndex, index, new Map());
      if (!held.has(custodian)) held.set(custodian, share);
      else if (!equalBytes(held.get(custodian), share)) {
        setDefault(this.conflicts, custodian, new Set()).add(index);
      }
    }
  }

  problems() {
    const found = [];
    for (const [c, indices] of sortedEntries(this.unknown)) {
      found.push(
        `custodian ${c} released shares for pledges ${names([...indices].sort(byNumber))}, which are not active pledges`,
      );
    }
    for (const [c, indices] of sortedEntries(this.conflicts)) {
      found.push(
        `custodian ${c} released two different shares for pledges ${names([...indices].sort(byNumber))}; the first is used`,
      );
    }
    return found;
  }
}

/** The records by index (the first of any listed twice). */
function activePledges(records, problems) {
  const active = new Map();
  for (const record of records) {
    if (active.has(record.index)) problems.push(`pledge ${record.index} is listed twice; the first is used`);
    else active.set(record.index, record);
  }
  return active;
}

/** [custodian, part] for every well-formed release from one of the n custodians. */
function parseReleases(releases, n, problems) {
  const parts = [];
  releases.forEach((release, number) => {
    const custodian = release.custodianIndex;
    if (!Number.isInteger(custodian) || custodian < 0 || custodian >= n) {
      problems.push(`release ${number} names custodian ${custodian}, not in 0..${n - 1}`);
      return;
    }
    try {
      parts.push([custodian, parseRelease(release.data)]);
    } catch (error) {
      problems.push(`custodian ${custodian}: release ${number} is malformed: ${messageOf(error, InvalidRelease)}`);
    }
  });
  return parts;
}

/** Everyone can read the public-share parts. */
function addPublicShares(shares, parts, t, problems) {
  for (const [custodian, part] of parts) {
    if (part.kind !== KIND_PUBLIC) continue;
    try {
      shares.add(custodian, releaseEntries(part.body, t));
    } catch (error) {
      problems.push(`custodian ${custodian}, round ${part.round}: ${messageOf(error, InvalidRelease)}`);
    }
  }
}

/** Open the reader's key seals: Map "custodian/round" -> the release keys found for it. */
function releaseKeys(parts, memberSecret, readerIndex, problems) {
  const keys = new Map();
  for (const [custodian, part] of parts) {
    if (part.kind !== KIND_KEYS) continue;
    let key;
    try {
      key = openKeySeal(part, readerIndex, memberSecret);
    } catch (error) {
      problems.push(`custodian ${custodian}, round ${part.round}: ${messageOf(error, InvalidRelease)}`);
      continue;
    }
    const found = setDefault(keys, `${custodian}/${part.round}`, []);
    if (key !== null && !found.some((k) => equalBytes(k, key))) found.push(key);
  }
  return keys;
}

/** Open each sealed-share part with the first of its round's release keys that fits. */
function addSealedShares(shares, parts, keys, deployment, campaignId, t, problems) {
  for (const [custodian, part] of parts) {
    if (part.kind !== KIND_SEALED) continue;
    const errors = [];
    let opened = false;
    for (const key of keys.get(`${custodian}/${part.round}`) ?? []) {
      try {
        shares.add(custodian, openSealedShares(part, key, deployment, campaignId, custodian, t));
        opened = true;
        break;
      } catch (error) {
        errors.push(messageOf(error, InvalidRelease));
      }
    }
    if (!opened && errors.length) problems.push(errors[0]);
  }
}

// ------------------------------------------------------------------------ decrypting entries

/**
 * Rebuild a record's key from its held shares (Map custodian -> share), accepted only if it
 * matches the record's commitment: { key or null, bad custodians, problem or null }.
 */
async function rebuildKey(held, t, record, what) {
  if (held.size < t) return { key: null, bad: [], problem: null };
  const { key, bad } = await recoverKey(held, t, record.commitment);
  if (key !== null) return { key, bad, problem: null };
  const holders = names([...held.keys()].sort(byNumber));
  return { key, bad, problem: `${what}: the shares from custodians ${holders} rebuild no key matching its commitment` };
}

/** Decrypt and parse one record with its rebuilt key: the instructions' text or a contact. */
function decryptEntry(deployment, campaignId, record, key) {
  const [campaign, account] = recordContext(campaignId, record);
  const plain = decryptPayload(key, deployment, campaign, record.memberKey, account, record.ciphertext);
  return record.index === 0 ? decodeInstructions(plain) : decodeContact(plain);
}

/** Rebuild each active pledge's key (and the instructions') and decrypt what it opens. */
async function decryptPledges(deployment, campaignId, t, active, shares, problems) {
  const members = [];
  const missing = [];
  let instructions = null;
  const misfits = new Map(); // custodian -> indices whose key its share does not fit
  for (const [index, record] of sortedEntries(active)) {
    const what = index === 0 ? "the instructions" : `pledge ${index}`;
    const { key, bad, problem } = await rebuildKey(shares.get(index) ?? new Map(), t, record, what);
    for (const c of bad) setDefault(misfits, c, []).push(index);
    if (problem !== null) problems.push(problem);
    if (key === null) {
      if (index !== 0) missing.push(index);
      continue;
    }
    try {
      const opened = decryptEntry(deployment, campaignId, record, key);
      if (index === 0) instructions = opened;
      else members.push({ index, account: record.account, contact: opened });
    } catch (error) {
      problems.push(`${what}: its key matches its commitment, but ${messageOf(error, CryptoError)}`);
      if (index !== 0) missing.push(index);
    }
  }
  for (const [c, indices] of sortedEntries(misfits)) {
    problems.push(`custodian ${c} released shares that match no commitment for pledges ${names(indices)}`);
  }
  return { members, instructions, missing, problems };
}

// ------------------------------------------------------------------------ the roster

/**
 * Rebuild every readable pledge key from the releases and decrypt the pledges, as
 * spartacus.protocol.read_roster does. `deployment` is { chainId, registry }. `records` are the ACTIVE pledges plus the
 * instructions (index 0), each { index, account, memberKey, ciphertext, boxes, commitment };
 * `releases` are { custodianIndex, data }. `reader` (derived keys) null reads public parts
 * only; with a reader, its key seals (at `readerIndex`, or the index whose member key is the
 * reader's) unlock the sealed-share parts as well.
 * Returns { members: [{ index, account, contact }], instructions, missing, problems }.
 */
export async function readRoster(
  deployment,
  campaignId,
  n,
  t,
  records,
  releases,
  { reader = null, readerIndex = null } = {},
) {
  checkCustodians(n, t);
  const problems = [];
  const active = activePledges(records, problems);
  const parts = parseReleases(releases, n, problems);
  const shares = new Shares(active);
  addPublicShares(shares, parts, t, problems);
  if (reader !== null) {
    const index = readerIndex ?? records.find((r) => equalBytes(r.memberKey, reader.memberKey))?.index ?? null;
    if (index === null) {
      problems.push("the reader's member key is not among the active pledges");
    } else {
      const keys = releaseKeys(parts, reader.memberSecret, index, problems);
      addSealedShares(shares, parts, keys, deployment, campaignId, t, problems);
    }
  }
  problems.push(...shares.problems());
  return decryptPledges(deployment, campaignId, t, active, shares.byIndex, problems);
}
