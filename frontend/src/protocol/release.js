// Release data (docs/protocol.md): the parts custodians publish at the reveal, their header,
// public and sealed shares, and the key seals addressed to members. The reader's side of
// spartacus/protocol/release.py (building releases is the custodian's, in Python only).

import sodium from "libsodium-wrappers";

import {
  InvalidKey,
  InvalidRelease,
  KEY_SIZE,
  NONCE_SIZE,
  SEAL_OVERHEAD,
  TAG_SIZE,
  checkBytes,
  cid32,
  concat,
  deploymentPrefix,
  publicKeyOf,
  sealOpen,
  shareSize,
  utf8,
} from "./primitives.js";

export const RELEASE_VERSION = 1;
export const KIND_PUBLIC = 1;
export const KIND_SEALED = 2;
export const KIND_KEYS = 3;
export const MAX_RELEASE_PART = 98304;
export const KEY_SEAL_SIZE = 4 + KEY_SIZE + SEAL_OVERHEAD;
const RELEASE_AD_LABEL = "spartacus/v2/release";
const HEADER_SIZE = 6;

function u32(value, what = "value") {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new InvalidRelease(`${what} ${value} does not fit into 32 bits`);
  }
  return new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

function readU32(bytes, offset) {
  return (
    ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3]
  );
}

/** "spartacus/v2/release" || chainId || registry || cid32 || custodianIndex (1 byte) || u32(round). */
export function releaseAd(deployment, campaignId, custodianIndex, round) {
  if (!Number.isInteger(custodianIndex) || custodianIndex < 0 || custodianIndex > 255) {
    throw new InvalidRelease(`custodian index ${custodianIndex} does not fit into a byte`);
  }
  return concat(
    utf8(RELEASE_AD_LABEL),
    deploymentPrefix(deployment),
    cid32(campaignId),
    new Uint8Array([custodianIndex]),
    u32(round, "round"),
  );
}

/** Split release data into { kind, round, body }; InvalidRelease if malformed. */
export function parseRelease(data) {
  if (!(data instanceof Uint8Array) || data.length < HEADER_SIZE) {
    throw new InvalidRelease("release data is shorter than its 6-byte header");
  }
  const [version, kind] = data;
  const round = readU32(data, 2);
  const body = data.slice(HEADER_SIZE);
  if (version !== RELEASE_VERSION)
    throw new InvalidRelease(`release format version ${version} is not supported`);
  if (![KIND_PUBLIC, KIND_SEALED, KIND_KEYS].includes(kind))
    throw new InvalidRelease(`release kind ${kind} is unknown`);
  if (kind === KIND_KEYS && (body.length === 0 || body.length % KEY_SEAL_SIZE)) {
    throw new InvalidRelease(`key seals are ${KEY_SEAL_SIZE} bytes each; got ${body.length} bytes`);
  }
  if (kind === KIND_SEALED && body.length < NONCE_SIZE + TAG_SIZE) {
    throw new InvalidRelease("sealed shares are shorter than their nonce and tag");
  }
  return { kind, round, body };
}

/** Parse entry* (u32(index) || share) into a Map index -> share. */
export function releaseEntries(body, t) {
  const size = 4 + shareSize(t);
  if (body.length % size)
    throw new InvalidRelease(`release entries are ${size} bytes each; got ${body.length} bytes`);
  const entries = new Map();
  for (let offset = 0; offset < body.length; offset += size) {
    const index = readU32(body, offset);
    if (entries.has(index)) throw new InvalidRelease(`pledge ${index} appears twice in one release part`);
    entries.set(index, body.slice(offset + 4, offset + size));
  }
  return entries;
}

/** R sealed to pledge `index`, or null if the part has none; InvalidRelease if it does not open. */
export function openKeySeal(part, index, memberSecret) {
  if (part.kind !== KIND_KEYS) throw new InvalidRelease("part does not hold key seals");
  const [secretKey, publicKey] = publicKeyOf(memberSecret, "the member secret key");
  let found = false;
  for (let offset = 0; offset + KEY_SEAL_SIZE <= part.body.length; offset += KEY_SEAL_SIZE) {
    if (readU32(part.body, offset) !== index) continue;
    found = true;
    const key = sealOpen(part.body.subarray(offset + 4, offset + KEY_SEAL_SIZE), secretKey, publicKey);
    if (key !== null && key.length === KEY_SIZE) return key;
  }
  if (found) throw new InvalidRelease(`the key seal for pledge ${index} does not open with this member key`);
  return null;
}

/** Decrypt a sealed-shares part with its round's release key; InvalidRelease on failure. */
export function openSealedShares(part, releaseKey, deployment, campaignId, custodianIndex, t) {
  if (part.kind !== KIND_SEALED || part.body.length < NONCE_SIZE + TAG_SIZE) {
    throw new InvalidRelease("part does not hold sealed shares");
  }
  const key = checkBytes(releaseKey, KEY_SIZE, "the release key", InvalidKey);
  const ad = releaseAd(deployment, campaignId, custodianIndex, part.round);
  let plain;
  try {
    plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      part.body.subarray(NONCE_SIZE),
      ad,
      part.body.subarray(0, NONCE_SIZE),
      key,
    );
  } catch {
    throw new InvalidRelease(
      `sealed shares of custodian ${custodianIndex}, round ${part.round}, fail authentication ` +
        "(wrong release key, or altered, or from another campaign, registry or chain)",
    );
  }
  return releaseEntries(plain, t);
}
