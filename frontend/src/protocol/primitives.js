// Primitives (docs/protocol.md): sizes, errors, byte helpers and checks, sealed boxes and
// the key derivation function. Mirrors spartacus/protocol/primitives.py; the errors are
// named as in spartacus/exceptions.py.
//
// Bytes are Uint8Array; campaign ids, chain ids, rounds and nonces may be number, bigint or
// decimal string. A deployment is { chainId, registry }: the registry a campaign lives in. Call `await ready()` once before anything else (libsodium loads asynchronously).

import sodium from "libsodium-wrappers";
import { getAddress, isAddress, sha256 as ethSha256 } from "ethers";

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
export const COMMITMENT_DOMAIN = "spartacus/pledge-key/v1";
export const ACCOUNT_LABEL = "spartacus/v2/pledge-account";
export const MEMBER_LABEL = "spartacus/v2/member-key";
export const PLEDGE_KEY_LABEL = "spartacus/v2/pledge-key";
export const DEPLOYMENT_SIZE = 52;
export const MAX_UINT256 = (1n << 256n) - 1n;
export const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

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

export function sha256(bytes) {
  return fromHex(ethSha256(bytes));
}

// ------------------------------------------------------------------------ checks

/** A copy of `value`, a Uint8Array of exactly `size` bytes, or ErrorClass naming `what`. */
export function checkBytes(value, size, what, ErrorClass) {
  if (!(value instanceof Uint8Array)) {
    throw new ErrorClass(`${what} must be a Uint8Array`);
  }
  if (value.length !== size) {
    throw new ErrorClass(`${what} must be ${size} bytes, not ${value.length}`);
  }
  return new Uint8Array(value);
}

export function toBigInt(value, what) {
  try {
    return BigInt(value);
  } catch {
    throw new CryptoError(`${what} ${value} is not an integer`);
  }
}

/** The campaign id as 32 bytes big-endian (abi.encode(uint256)). */
export function cid32(campaignId) {
  const id = toBigInt(campaignId, "campaign id");
  if (id < 0n || id > MAX_UINT256) throw new CryptoError(`campaign id ${campaignId} is not a uint256`);
  return fromHex(id.toString(16).padStart(64, "0"));
}

/** The 20 raw bytes of an Ethereum address (a mixed-case address must be checksummed). */
export function accountBytes(account) {
  if (typeof account !== "string" || !isAddress(account)) {
    throw new InvalidKey(`${account} is not an Ethereum address (or its checksum is wrong)`);
  }
  return fromHex(getAddress(account));
}

/**
 * chainId (32 bytes big-endian) || registry (20 bytes): the prefix that binds every byte
 * format naming a campaign to its registry and chain (protocol v2). `deployment` is
 * { chainId, registry }.
 */
export function deploymentPrefix(deployment) {
  const chainId = toBigInt(deployment?.chainId, "chain id");
  if (chainId < 1n || chainId > MAX_UINT256) {
    throw new CryptoError(`chain id ${deployment.chainId} is not a positive uint256`);
  }
  return concat(fromHex(chainId.toString(16).padStart(64, "0")), accountBytes(deployment.registry));
}

/** A 32-byte X25519 public key that is not zero. */
export function checkPublicKey(key, what) {
  const raw = checkBytes(key, KEY_SIZE, what, InvalidKey);
  if (raw.every((b) => b === 0)) throw new InvalidKey(`${what} is zero`);
  return raw;
}

/** [secret key, X25519 public key] for a 32-byte secret key. */
export function publicKeyOf(secretKey, what) {
  const raw = checkBytes(secretKey, KEY_SIZE, what, InvalidKey);
  return [raw, sodium.crypto_scalarmult_base(raw)];
}

// ------------------------------------------------------------------------ sizes

export function checkThreshold(t) {
  if (!Number.isInteger(t) || t < 1 || t > MAX_CUSTODIANS) {
    throw new InvalidShare(`the custodian threshold must be from 1 to ${MAX_CUSTODIANS}, not ${t}`);
  }
}

/** Refuse custodian counts outside 1..5 and thresholds outside 1..n. */
export function checkCustodians(n, t) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CUSTODIANS) {
    throw new InvalidShare(`a campaign has 1 to ${MAX_CUSTODIANS} custodians, not ${n}`);
  }
  if (!Number.isInteger(t) || t < 1 || t > n) {
    throw new InvalidShare(`the custodian threshold must be between 1 and ${n}, not ${t}`);
  }
}

/** Bytes in one custodian's share: the key itself for t = 1, a Shamir share otherwise. */
export function shareSize(t) {
  checkThreshold(t);
  return t === 1 ? KEY_SIZE : KEY_SIZE + 1;
}

/** Bytes in one custodian box: seal(share || binding). */
export function boxSize(t) {
  return shareSize(t) + BINDING_SIZE + SEAL_OVERHEAD;
}

// ------------------------------------------------------------------------ sealed boxes

/** crypto_box_seal(message, publicKey); InvalidKey for an unusable key. */
export function seal(message, publicKey, what) {
  const key = checkPublicKey(publicKey, what);
  try {
    return sodium.crypto_box_seal(message, key);
  } catch {
    throw new InvalidKey(`${what} is not a usable X25519 public key`);
  }
}

/** crypto_box_seal_open, or null when the box does not open. */
export function sealOpen(box, secretKey, publicKey) {
  try {
    return sodium.crypto_box_seal_open(box, publicKey, secretKey);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------ keys

/** KDF(s, label): keyed BLAKE2b with a 32-byte output. */
export function kdf(secret, label) {
  return sodium.crypto_generichash(32, utf8(label), secret);
}
