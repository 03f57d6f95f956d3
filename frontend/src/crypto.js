// Spartacus protocol crypto for the browser: the pledger's and reader's side of
// spartacus/crypto.py, byte for byte (docs/protocol.md, pinned by tests/vectors/protocol.json).
//
// Bytes are Uint8Array; campaign ids, rounds and nonces may be number, bigint or decimal
// string. Call `await ready()` once before anything else (libsodium loads asynchronously).
// Errors are instances of CryptoError subclasses named as in spartacus/exceptions.py.

import sodium from "libsodium-wrappers";
import { combine as shamirCombine, split as shamirSplit } from "shamir-secret-sharing";
import { TypedDataEncoder, computeAddress, getAddress, isAddress, sha256 as ethSha256 } from "ethers";

// ------------------------------------------------------------------------ constants

export const SECRET_SIZE = 32;
export const KEY_SIZE = 32;
export const NONCE_SIZE = 24;
export const TAG_SIZE = 16;
export const SEAL_OVERHEAD = 48;
export const BINDING_SIZE = 32;
export const PLEDGE_BLOCK = 256;
export const PLEDGE_CIPHERTEXT_SIZE = NONCE_SIZE + PLEDGE_BLOCK + TAG_SIZE;
export const MAX_INSTRUCTION_BLOCKS = 16;
export const MAX_CUSTODIANS = 5;
export const ZERO_ACCOUNT = "0x0000000000000000000000000000000000000000";
export const KIND_PUBLIC = 1;
export const KIND_SEALED = 2;
export const KIND_KEYS = 3;
export const RELEASE_VERSION = 1;
export const MAX_RELEASE_PART = 98304;
export const KEY_SEAL_SIZE = 4 + KEY_SIZE + SEAL_OVERHEAD;
export const RECEIPT_PREFIX = "sp1";

const COMMITMENT_DOMAIN = "spartacus/pledge-key/v1";
const ACCOUNT_LABEL = "spartacus/v1/pledge-account";
const MEMBER_LABEL = "spartacus/v1/member-key";
const PLEDGE_KEY_LABEL = "spartacus/v1/pledge-key";
const RELEASE_AD_LABEL = "spartacus/release/v1";
const RECEIPT_DOMAIN = "spartacus/receipt/v1";
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MAX_UINT256 = (1n << 256n) - 1n;
const HEADER_SIZE = 6;

// ------------------------------------------------------------------------ errors

export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}
export class InvalidSecret extends CryptoError {}
export class PayloadTooLarge extends CryptoError {}
export class InvalidPayload extends CryptoError {}
export class InvalidKey extends CryptoError {}
export class InvalidCiphertext extends CryptoError {}
export class BoxOpenError extends CryptoError {}
export class BindingMismatch extends CryptoError {}
export class InvalidShare extends CryptoError {}
export class CommitmentMismatch extends CryptoError {}
export class InvalidRelease extends CryptoError {}
export class InvalidReceipt extends CryptoError {}

// ------------------------------------------------------------------------ byte helpers

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Resolves once libsodium is loaded; every other function needs it. */
export async function ready() {
  await sodium.ready;
}

export function utf8(text) {
  return encoder.encode(text);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  const clean = text.startsWith("0x") ? text.slice(2) : text;
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) {
    throw new CryptoError(`not hex: ${text.slice(0, 20)}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function checkBytes(value, size, what, ErrorClass) {
  if (!(value instanceof Uint8Array)) {
    throw new ErrorClass(`${what} must be a Uint8Array`);
  }
  if (value.length !== size) {
    throw new ErrorClass(`${what} must be ${size} bytes, not ${value.length}`);
  }
  return new Uint8Array(value);
}

function toBigInt(value, what) {
  try {
    return BigInt(value);
  } catch {
    throw new CryptoError(`${what} ${value} is not an integer`);
  }
}

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

/** The campaign id as 32 bytes big-endian (abi.encode(uint256)). */
export function cid32(campaignId) {
  const id = toBigInt(campaignId, "campaign id");
  if (id < 0n || id > MAX_UINT256) throw new CryptoError(`campaign id ${campaignId} is not a uint256`);
  return fromHex(id.toString(16).padStart(64, "0"));
}

export function accountBytes(account) {
  if (typeof account !== "string" || !isAddress(account)) {
    throw new InvalidKey(`${account} is not an Ethereum address (or its checksum is wrong)`);
  }
  return fromHex(getAddress(account));
}

function checkPublicKey(key, what) {
  const raw = checkBytes(key, KEY_SIZE, what, InvalidKey);
  if (raw.every((b) => b === 0)) throw new InvalidKey(`${what} is zero`);
  return raw;
}

export function sha256(bytes) {
  return fromHex(ethSha256(bytes));
}

function seal(message, publicKey, what) {
  const key = checkPublicKey(publicKey, what);
  try {
    return sodium.crypto_box_seal(message, key);
  } catch {
    throw new InvalidKey(`${what} is not a usable X25519 public key`);
  }
}

function sealOpen(box, secretKey, publicKey) {
  try {
    return sodium.crypto_box_seal_open(box, publicKey, secretKey);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------ sizes

function checkThreshold(t) {
  if (!Number.isInteger(t) || t < 1 || t > MAX_CUSTODIANS) {
    throw new InvalidShare(`the custodian threshold must be from 1 to ${MAX_CUSTODIANS}, not ${t}`);
  }
}

export function checkCustodians(n, t) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CUSTODIANS) {
    throw new InvalidShare(`a campaign has 1 to ${MAX_CUSTODIANS} custodians, not ${n}`);
  }
  if (!Number.isInteger(t) || t < 1 || t > n) {
    throw new InvalidShare(`the custodian threshold must be between 1 and ${n}, not ${t}`);
  }
}

export function shareSize(t) {
  checkThreshold(t);
  return t === 1 ? KEY_SIZE : KEY_SIZE + 1;
}

export function boxSize(t) {
  return shareSize(t) + BINDING_SIZE + SEAL_OVERHEAD;
}

// ------------------------------------------------------------------------ keys

export function kdf(secret, label) {
  return sodium.crypto_generichash(32, utf8(label), secret);
}

/** Everything derived from a 32-byte pledge secret (docs/protocol.md). */
export function deriveKeys(secret) {
  const raw = checkBytes(secret, SECRET_SIZE, "a pledge secret", InvalidSecret);
  const accountKey = kdf(raw, ACCOUNT_LABEL);
  const scalar = BigInt("0x" + toHex(accountKey));
  if (scalar === 0n || scalar >= SECP256K1_ORDER) {
    throw new InvalidSecret("this secret derives an unusable account key; draw a new secret");
  }
  const memberSecret = kdf(raw, MEMBER_LABEL);
  return {
    secret: raw,
    accountKey,
    account: computeAddress("0x" + toHex(accountKey)),
    memberSecret,
    memberKey: sodium.crypto_scalarmult_base(memberSecret),
    pledgeKey: kdf(raw, PLEDGE_KEY_LABEL),
  };
}

export function newSecret() {
  for (;;) {
    const candidate = sodium.randombytes_buf(SECRET_SIZE);
    try {
      deriveKeys(candidate);
      return candidate;
    } catch (error) {
      if (!(error instanceof InvalidSecret)) throw error;
    }
  }
}

// ------------------------------------------------------------------------ payloads

/** sodium_pad(data, 256): 0x80 then zeros up to a multiple of 256 bytes. */
export function pad(data) {
  const size = (Math.floor(data.length / PLEDGE_BLOCK) + 1) * PLEDGE_BLOCK;
  const out = new Uint8Array(size);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

/** Undo pad; InvalidPayload unless whole blocks with valid padding in the last block. */
export function unpad(plain) {
  if (!(plain instanceof Uint8Array) || plain.length === 0 || plain.length % PLEDGE_BLOCK) {
    throw new InvalidPayload(`a padded payload is whole ${PLEDGE_BLOCK}-byte blocks`);
  }
  let end = plain.length - 1;
  const stop = plain.length - PLEDGE_BLOCK;
  while (end >= stop && plain[end] === 0) end--;
  if (end < stop || plain[end] !== 0x80) throw new InvalidPayload("the payload's padding is invalid");
  return plain.slice(0, end);
}

function wellFormed(text) {
  return (
    typeof text === "string" &&
    !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)
  );
}

/** Canonical JSON of a contact: {"name","contact","message"}, no spaces. */
export function contactJson(contact) {
  const { name, contact: address, message = "" } = contact;
  if (![name, address, message].every((v) => typeof v === "string")) {
    throw new InvalidPayload("name, contact and message must be strings");
  }
  if (!name || !address) throw new InvalidPayload("a pledge needs a non-empty name and contact");
  if (![name, address, message].every(wellFormed)) {
    throw new InvalidPayload("the contact details are not valid Unicode text");
  }
  return utf8(JSON.stringify({ name, contact: address, message }));
}

export function encodeContact(contact) {
  const data = contactJson(contact);
  const limit = PLEDGE_BLOCK - 1;
  if (data.length > limit) {
    throw new PayloadTooLarge(
      `the contact details take ${data.length} bytes as JSON, but at most ${limit} fit ` +
        "into a pledge: shorten the message, name or contact",
    );
  }
  return pad(data);
}

export function decodeContact(plain) {
  if (!(plain instanceof Uint8Array) || plain.length !== PLEDGE_BLOCK) {
    throw new InvalidPayload(`a pledge's plaintext is exactly ${PLEDGE_BLOCK} bytes`);
  }
  const data = unpad(plain);
  let value;
  try {
    value = JSON.parse(strictDecoder.decode(data));
  } catch {
    throw new InvalidPayload("the pledge's contact details are not UTF-8 JSON");
  }
  if (
    value === null ||
    typeof value !== "object" ||
    Array.isArray(value) ||
    Object.keys(value).join(",") !== "name,contact,message"
  ) {
    throw new InvalidPayload("the pledge's contact details lack name, contact and message");
  }
  const contact = { name: value.name, contact: value.contact, message: value.message };
  if (!equalBytes(contactJson(contact), data)) {
    throw new InvalidPayload("the pledge's contact details are not in canonical form");
  }
  return contact;
}

export function encodeInstructions(text) {
  if (!wellFormed(text)) throw new InvalidPayload("the instructions are not valid Unicode text");
  const data = utf8(text);
  const limit = PLEDGE_BLOCK * MAX_INSTRUCTION_BLOCKS - 1;
  if (data.length > limit) {
    throw new PayloadTooLarge(
      `the instructions take ${data.length} bytes in UTF-8, but at most ${limit} fit: shorten them`,
    );
  }
  return pad(data);
}

export function decodeInstructions(plain) {
  if (!(plain instanceof Uint8Array) || plain.length > PLEDGE_BLOCK * MAX_INSTRUCTION_BLOCKS) {
    throw new InvalidPayload(`instructions are at most ${MAX_INSTRUCTION_BLOCKS} blocks`);
  }
  try {
    return strictDecoder.decode(unpad(plain));
  } catch (error) {
    if (error instanceof CryptoError) throw error;
    throw new InvalidPayload("the instructions are not UTF-8 text");
  }
}

// ------------------------------------------------------------------------ pledge crypto

/** cid32 || P || a: the AEAD associated data of a pledge (84 bytes). */
export function pledgeAd(campaignId, memberKey, account) {
  return concat(cid32(campaignId), checkPublicKey(memberKey, "the member key"), accountBytes(account));
}

export function binding(campaignId, memberKey, account, ciphertext) {
  return sha256(concat(pledgeAd(campaignId, memberKey, account), ciphertext));
}

export function commitment(pledgeKey) {
  return sha256(concat(utf8(COMMITMENT_DOMAIN), checkBytes(pledgeKey, KEY_SIZE, "a pledge key", InvalidKey)));
}

function checkCiphertextSize(ciphertext) {
  if (!(ciphertext instanceof Uint8Array)) throw new InvalidCiphertext("the ciphertext must be bytes");
  const body = ciphertext.length - NONCE_SIZE - TAG_SIZE;
  const blocks = body / PLEDGE_BLOCK;
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > MAX_INSTRUCTION_BLOCKS) {
    throw new InvalidCiphertext(
      `a ciphertext is 40 + 256 * k bytes (1 <= k <= ${MAX_INSTRUCTION_BLOCKS}), not ${ciphertext.length}`,
    );
  }
}

export function encryptPayload(pledgeKey, campaignId, memberKey, account, plain, nonce = null) {
  const key = checkBytes(pledgeKey, KEY_SIZE, "a pledge key", InvalidKey);
  const iv = checkBytes(
    nonce ?? sodium.randombytes_buf(NONCE_SIZE),
    NONCE_SIZE,
    "the nonce",
    InvalidCiphertext,
  );
  const blocks = plain.length / PLEDGE_BLOCK;
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > MAX_INSTRUCTION_BLOCKS) {
    throw new InvalidPayload(`a plaintext is 1 to ${MAX_INSTRUCTION_BLOCKS} blocks of 256 bytes`);
  }
  const ad = pledgeAd(campaignId, memberKey, account);
  return concat(iv, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, iv, key));
}

export function decryptPayload(pledgeKey, campaignId, memberKey, account, ciphertext) {
  const key = checkBytes(pledgeKey, KEY_SIZE, "a pledge key", InvalidKey);
  checkCiphertextSize(ciphertext);
  const ad = pledgeAd(campaignId, memberKey, account);
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      ciphertext.subarray(NONCE_SIZE),
      ad,
      ciphertext.subarray(0, NONCE_SIZE),
      key,
    );
  } catch {
    throw new InvalidCiphertext("the ciphertext fails authentication: wrong key, or it was altered or moved");
  }
}

// ------------------------------------------------------------------------ Shamir

export async function splitKey(key, n, t) {
  const raw = checkBytes(key, KEY_SIZE, "a pledge key", InvalidKey);
  checkCustodians(n, t);
  if (t === 1) return Array.from({ length: n }, () => new Uint8Array(raw));
  return shamirSplit(raw, n, t);
}

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

// ------------------------------------------------------------------------ sealing

async function sealPayload(campaignId, account, keys, plain, custodianKeys, t, nonce) {
  const n = custodianKeys.length;
  checkCustodians(n, t);
  const publicKeys = custodianKeys.map((key, i) => checkPublicKey(key, `custodian key ${i}`));
  if (new Set(publicKeys.map(toHex)).size !== n) {
    throw new InvalidKey("the same custodian key is listed twice");
  }
  const ciphertext = encryptPayload(keys.pledgeKey, campaignId, keys.memberKey, account, plain, nonce);
  const bind = binding(campaignId, keys.memberKey, account, ciphertext);
  const shares = await splitKey(keys.pledgeKey, n, t);
  const boxes = concat(
    ...shares.map((share, i) => seal(concat(share, bind), publicKeys[i], `custodian key ${i}`)),
  );
  return { memberKey: keys.memberKey, ciphertext, boxes, commitment: commitment(keys.pledgeKey) };
}

/** Seal a pledge for the campaign's custodians (in custodian order). */
export async function sealPledge(campaignId, keys, contact, custodianKeys, t, { nonce = null } = {}) {
  if (toBigInt(campaignId, "campaign id") < 1n) {
    throw new CryptoError(`pledges go to campaigns 1 and up, not ${campaignId}`);
  }
  return sealPayload(campaignId, keys.account, keys, encodeContact(contact), custodianKeys, t, nonce);
}

/** Seal the organiser's instructions: campaign id 0 and the zero account in ad/binding. */
export async function sealInstructions(keys, text, custodianKeys, t, { nonce = null } = {}) {
  return sealPayload(0, ZERO_ACCOUNT, keys, encodeInstructions(text), custodianKeys, t, nonce);
}

export function splitBoxes(boxes, n, t) {
  checkCustodians(n, t);
  const size = boxSize(t);
  if (!(boxes instanceof Uint8Array) || boxes.length !== n * size) {
    throw new BoxOpenError(`boxes must be ${n} x ${size} = ${n * size} bytes, not ${boxes?.length}`);
  }
  return Array.from({ length: n }, (_, i) => boxes.slice(i * size, (i + 1) * size));
}

function recordContext(campaignId, record) {
  return record.index === 0 ? [0, ZERO_ACCOUNT] : [campaignId, record.account];
}

/** The custodian's side, for tests and tools: open a box and check its binding. */
export function openBox(campaignSecret, campaignId, record, custodianIndex, n, t) {
  const secretKey = checkBytes(campaignSecret, KEY_SIZE, "the campaign secret key", InvalidKey);
  const publicKey = sodium.crypto_scalarmult_base(secretKey);
  if (!Number.isInteger(custodianIndex) || custodianIndex < 0 || custodianIndex >= n) {
    throw new CryptoError(`custodian index ${custodianIndex} is not in 0..${n - 1}`);
  }
  const box = splitBoxes(record.boxes, n, t)[custodianIndex];
  const plain = sealOpen(box, secretKey, publicKey);
  const size = shareSize(t);
  if (plain === null || plain.length !== size + BINDING_SIZE) {
    throw new BoxOpenError(
      `pledge ${record.index}: box ${custodianIndex} does not open with this campaign key`,
    );
  }
  const [campaign, account] = recordContext(campaignId, record);
  if (!equalBytes(plain.subarray(size), binding(campaign, record.memberKey, account, record.ciphertext))) {
    throw new BindingMismatch(
      `pledge ${record.index}: the box's binding names another pledge (a copied box); its share is withheld`,
    );
  }
  return plain.slice(0, size);
}

// ------------------------------------------------------------------------ releases

export function releaseAd(campaignId, custodianIndex, round) {
  if (!Number.isInteger(custodianIndex) || custodianIndex < 0 || custodianIndex > 255) {
    throw new InvalidRelease(`custodian index ${custodianIndex} does not fit into a byte`);
  }
  return concat(
    utf8(RELEASE_AD_LABEL),
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
  const secretKey = checkBytes(memberSecret, KEY_SIZE, "the member secret key", InvalidKey);
  const publicKey = sodium.crypto_scalarmult_base(secretKey);
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

export function openSealedShares(part, releaseKey, campaignId, custodianIndex, t) {
  if (part.kind !== KIND_SEALED || part.body.length < NONCE_SIZE + TAG_SIZE) {
    throw new InvalidRelease("part does not hold sealed shares");
  }
  const key = checkBytes(releaseKey, KEY_SIZE, "the release key", InvalidKey);
  const ad = releaseAd(campaignId, custodianIndex, part.round);
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
        "(wrong release key, or altered)",
    );
  }
  return releaseEntries(plain, t);
}

// ------------------------------------------------------------------------ the roster

function* combinations(items, k, start = 0, prefix = []) {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i < items.length; i++) yield* combinations(items, k, i + 1, [...prefix, items[i]]);
}

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

/** Find t shares (Map custodian -> share) that rebuild a key matching `expected`. */
export async function recoverKey(shares, t, expected) {
  const custodians = [...shares.keys()].sort((a, b) => a - b);
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

const names = (list) => list.join(", ");

/**
 * Rebuild every readable pledge key from the releases and decrypt the pledges, as
 * spartacus.crypto.read_roster does. `records` are the ACTIVE pledges plus the
 * instructions (index 0), each { index, account, memberKey, ciphertext, boxes, commitment };
 * `releases` are { custodianIndex, data }. `reader` (derived keys) null reads public parts
 * only. Returns { members: [{ index, account, contact }], instructions, missing, problems }.
 */
export async function readRoster(
  campaignId,
  n,
  t,
  records,
  releases,
  { reader = null, readerIndex = null } = {},
) {
  checkCustodians(n, t);
  const problems = [];
  const active = new Map();
  for (const record of records) {
    if (active.has(record.index)) problems.push(`pledge ${record.index} is listed twice; the first is used`);
    else active.set(record.index, record);
  }
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
      if (!(error instanceof InvalidRelease)) throw error;
      problems.push(`custodian ${custodian}: release ${number} is malformed: ${error.message}`);
    }
  });

  const byIndex = new Map();
  const unknown = new Map();
  const conflicts = new Map();
  const add = (custodian, entries) => {
    for (const [index, share] of entries) {
      if (!active.has(index)) {
        if (!unknown.has(custodian)) unknown.set(custodian, new Set());
        unknown.get(custodian).add(index);
        continue;
      }
      if (!byIndex.has(index)) byIndex.set(index, new Map());
      const held = byIndex.get(index);
      if (!held.has(custodian)) held.set(custodian, share);
      else if (!equalBytes(held.get(custodian), share)) {
        if (!conflicts.has(custodian)) conflicts.set(custodian, new Set());
        conflicts.get(custodian).add(index);
      }
    }
  };

  for (const [custodian, part] of parts) {
    if (part.kind !== KIND_PUBLIC) continue;
    try {
      add(custodian, releaseEntries(part.body, t));
    } catch (error) {
      if (!(error instanceof InvalidRelease)) throw error;
      problems.push(`custodian ${custodian}, round ${part.round}: ${error.message}`);
    }
  }

  if (reader !== null) {
    let index = readerIndex;
    if (index === null) index = records.find((r) => equalBytes(r.memberKey, reader.memberKey))?.index ?? null;
    if (index === null) {
      problems.push("the reader's member key is not among the active pledges");
    } else {
      const keys = new Map();
      for (const [custodian, part] of parts) {
        if (part.kind !== KIND_KEYS) continue;
        let key;
        try {
          key = openKeySeal(part, index, reader.memberSecret);
        } catch (error) {
          if (!(error instanceof InvalidRelease)) throw error;
          problems.push(`custodian ${custodian}, round ${part.round}: ${error.message}`);
          continue;
        }
        const slot = `${custodian}/${part.round}`;
        if (!keys.has(slot)) keys.set(slot, []);
        if (key !== null && !keys.get(slot).some((k) => equalBytes(k, key))) keys.get(slot).push(key);
      }
      for (const [custodian, part] of parts) {
        if (part.kind !== KIND_SEALED) continue;
        const errors = [];
        let opened = false;
        for (const key of keys.get(`${custodian}/${part.round}`) ?? []) {
          try {
            add(custodian, openSealedShares(part, key, campaignId, custodian, t));
            opened = true;
            break;
          } catch (error) {
            if (!(error instanceof InvalidRelease)) throw error;
            errors.push(error.message);
          }
        }
        if (!opened && errors.length) problems.push(errors[0]);
      }
    }
  }
  const sortedEntries = (map) => [...map.entries()].sort((a, b) => a[0] - b[0]);
  for (const [c, indices] of sortedEntries(unknown)) {
    problems.push(
      `custodian ${c} released shares for pledges ${names([...indices].sort((a, b) => a - b))}, which are not active pledges`,
    );
  }
  for (const [c, indices] of sortedEntries(conflicts)) {
    problems.push(
      `custodian ${c} released two different shares for pledges ${names([...indices].sort((a, b) => a - b))}; the first is used`,
    );
  }

  const members = [];
  const missing = [];
  let instructions = null;
  const misfits = new Map();
  for (const [index, record] of sortedEntries(active)) {
    const held = byIndex.get(index) ?? new Map();
    const what = index === 0 ? "the instructions" : `pledge ${index}`;
    let key = null;
    if (held.size >= t) {
      const found = await recoverKey(held, t, record.commitment);
      key = found.key;
      for (const c of found.bad) {
        if (!misfits.has(c)) misfits.set(c, []);
        misfits.get(c).push(index);
      }
      if (key === null) {
        const holders = [...held.keys()].sort((a, b) => a - b);
        problems.push(
          `${what}: the shares from custodians ${names(holders)} rebuild no key matching its commitment`,
        );
      }
    }
    if (key === null) {
      if (index !== 0) missing.push(index);
      continue;
    }
    const [campaign, account] = recordContext(campaignId, record);
    try {
      const plain = decryptPayload(key, campaign, record.memberKey, account, record.ciphertext);
      if (index === 0) instructions = decodeInstructions(plain);
      else members.push({ index, account: record.account, contact: decodeContact(plain) });
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      problems.push(`${what}: its key matches its commitment, but ${error.message}`);
      if (index !== 0) missing.push(index);
    }
  }
  for (const [c, indices] of sortedEntries(misfits)) {
    problems.push(`custodian ${c} released shares that match no commitment for pledges ${names(indices)}`);
  }
  return { members, instructions, missing, problems };
}

// ------------------------------------------------------------------------ receipt codes

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const LOOKALIKES = { 0: "O", 1: "I", 8: "B" };

function base32Encode(bytes) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text) {
  const out = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    value = ((value << 5) | BASE32.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

function receiptChecksum(campaignId, secret) {
  return sha256(concat(utf8(RECEIPT_DOMAIN), cid32(campaignId), secret)).slice(0, 3);
}

/** sp1-<campaignId>-<base32 of secret || checksum, in 7 groups of 8>. */
export function encodeReceipt(campaignId, secret) {
  const raw = checkBytes(secret, SECRET_SIZE, "a pledge secret", InvalidSecret);
  const text = base32Encode(concat(raw, receiptChecksum(campaignId, raw)));
  const groups = text.match(/.{8}/g);
  return [RECEIPT_PREFIX, toBigInt(campaignId, "campaign id").toString(), ...groups].join("-");
}

/** { campaignId (bigint), secret } from a receipt code; ignores case, spaces and hyphens. */
export function decodeReceipt(code) {
  if (typeof code !== "string") throw new InvalidReceipt("a receipt code is text");
  const compact = code.replace(/\s+/g, "");
  const first = compact.indexOf("-");
  if (first < 0 || compact.slice(0, first).toLowerCase() !== RECEIPT_PREFIX) {
    throw new InvalidReceipt(`a receipt code starts with '${RECEIPT_PREFIX}-'`);
  }
  const rest = compact.slice(first + 1);
  const second = rest.indexOf("-");
  const number = second < 0 ? rest : rest.slice(0, second);
  if (second < 0 || !/^(0|[1-9][0-9]{0,77})$/.test(number)) {
    throw new InvalidReceipt(
      `after '${RECEIPT_PREFIX}-' a receipt code names the campaign id, a number, then '-'; found '${number}'`,
    );
  }
  const campaignId = BigInt(number);
  if (campaignId > MAX_UINT256) throw new InvalidReceipt(`campaign id ${number} is too large`);
  const text = rest
    .slice(second + 1)
    .replaceAll("-", "")
    .toUpperCase();
  const wrong = [...new Set(text)].filter((c) => !BASE32.includes(c)).sort();
  if (wrong.length) {
    const described = wrong.map((c) => (c in LOOKALIKES ? `'${c}' (perhaps '${LOOKALIKES[c]}')` : `'${c}'`));
    throw new InvalidReceipt(
      `a receipt code uses only the letters A-Z and the digits 2-7; found ${described.join(", ")}`,
    );
  }
  if (text.length !== 56) {
    throw new InvalidReceipt(
      `a receipt code has 56 letters and digits after the campaign id (7 groups of 8); this one has ${text.length}`,
    );
  }
  const raw = base32Decode(text);
  const secret = raw.slice(0, SECRET_SIZE);
  if (!equalBytes(raw.slice(SECRET_SIZE), receiptChecksum(campaignId, secret))) {
    throw new InvalidReceipt(
      "the receipt code's checksum does not match: a character is mistyped, or the campaign id is wrong",
    );
  }
  return { campaignId, secret };
}

// ------------------------------------------------------------------------ EIP-712

export const EIP712_TYPES = {
  Endorsement: [
    { name: "campaignKey", type: "bytes32" },
    { name: "expiry", type: "uint64" },
  ],
  Pledge: [
    { name: "campaignId", type: "uint256" },
    { name: "memberKey", type: "bytes32" },
    { name: "ciphertext", type: "bytes" },
    { name: "boxes", type: "bytes" },
    { name: "commitment", type: "bytes32" },
    { name: "nonce", type: "uint256" },
  ],
  Withdraw: [
    { name: "campaignId", type: "uint256" },
    { name: "nonce", type: "uint256" },
  ],
};

export function eip712Domain(chainId, registry) {
  return {
    name: "Spartacus",
    version: "1",
    chainId: toBigInt(chainId, "chain id"),
    verifyingContract: getAddress(registry),
  };
}

const hex0x = (bytes) => "0x" + toHex(bytes);

function typed(chainId, registry, primaryType, message) {
  return {
    domain: eip712Domain(chainId, registry),
    types: { [primaryType]: EIP712_TYPES[primaryType] },
    primaryType,
    message,
  };
}

/** Typed data for ethers: `signer.signTypedData(t.domain, t.types, t.message)`. */
export function endorsementTypedData(chainId, registry, campaignKey, expiry) {
  return typed(chainId, registry, "Endorsement", {
    campaignKey: hex0x(checkBytes(campaignKey, KEY_SIZE, "the campaign key", InvalidKey)),
    expiry: toBigInt(expiry, "expiry"),
  });
}

export function pledgeTypedData(chainId, registry, campaignId, sealed, nonce) {
  return typed(chainId, registry, "Pledge", {
    campaignId: toBigInt(campaignId, "campaign id"),
    memberKey: hex0x(sealed.memberKey),
    ciphertext: hex0x(sealed.ciphertext),
    boxes: hex0x(sealed.boxes),
    commitment: hex0x(sealed.commitment),
    nonce: toBigInt(nonce, "nonce"),
  });
}

export function withdrawTypedData(chainId, registry, campaignId, nonce) {
  return typed(chainId, registry, "Withdraw", {
    campaignId: toBigInt(campaignId, "campaign id"),
    nonce: toBigInt(nonce, "nonce"),
  });
}

/** The 32-byte digest a signature over the typed data signs. */
export function typedDataDigest(data) {
  return fromHex(TypedDataEncoder.hash(data.domain, data.types, data.message));
}
