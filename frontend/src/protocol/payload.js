// Payloads (docs/protocol.md, "Sealing a pledge" and "Sealed instructions"): padding, the
// contact and instructions encodings, the associated data, binding and commitment, and the
// XChaCha20-Poly1305 encryption of a payload. Mirrors spartacus/protocol/payload.py.

import sodium from "libsodium-wrappers";

import {
  COMMITMENT_DOMAIN,
  CryptoError,
  InvalidCiphertext,
  InvalidKey,
  InvalidPayload,
  KEY_SIZE,
  MAX_INSTRUCTION_BLOCKS,
  NONCE_SIZE,
  PLEDGE_BLOCK,
  PayloadTooLarge,
  TAG_SIZE,
  accountBytes,
  checkBytes,
  checkPublicKey,
  cid32,
  deploymentPrefix,
  concat,
  equalBytes,
  sha256,
  utf8,
} from "./primitives.js";

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

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

/** Canonical JSON of a contact: {"name","contact","message"}, no spaces; "mail":true last,
 *  present only when the member asked for the roster by e-mail. */
export function contactJson(contact) {
  const { name, contact: address, message = "", mail = false } = contact;
  if (![name, address, message].every((v) => typeof v === "string")) {
    throw new InvalidPayload("name, contact and message must be strings");
  }
  if (typeof mail !== "boolean") throw new InvalidPayload("the e-mail opt-in must be true or false");
  if (!name || !address) throw new InvalidPayload("a pledge needs a non-empty name and contact");
  if (![name, address, message].every(wellFormed)) {
    throw new InvalidPayload("the contact details are not valid Unicode text");
  }
  const fields = mail ? { name, contact: address, message, mail: true } : { name, contact: address, message };
  return utf8(JSON.stringify(fields));
}

/** The padded 256-byte plaintext of a pledge; PayloadTooLarge beyond 255 bytes of JSON. */
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

/** Parse a decrypted pledge; InvalidPayload unless it is exactly what encodeContact makes. */
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
    !["name,contact,message", "name,contact,message,mail"].includes(Object.keys(value).join(","))
  ) {
    throw new InvalidPayload("the pledge's contact details lack name, contact and message");
  }
  if ("mail" in value && value.mail !== true) {
    throw new InvalidPayload('the pledge\'s "mail" field is present only as true');
  }
  const contact = { name: value.name, contact: value.contact, message: value.message };
  if (value.mail === true) contact.mail = true;
  if (!equalBytes(contactJson(contact), data)) {
    throw new InvalidPayload("the pledge's contact details are not in canonical form");
  }
  return contact;
}

/** The padded plaintext of the sealed instructions: 1 to 16 blocks of 256 bytes. */
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

/** Parse decrypted instructions; InvalidPayload if malformed. */
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

/** chainId || registry || cid32 || P || a: the AEAD associated data of a pledge (136 bytes). */
export function pledgeAd(deployment, campaignId, memberKey, account) {
  return concat(
    deploymentPrefix(deployment),
    cid32(campaignId),
    checkPublicKey(memberKey, "the member key"),
    accountBytes(account),
  );
}

/**
 * sha256(chainId || registry || cid32 || P || a || ciphertext): names the pledge, campaign,
 * registry and chain a box belongs to.
 */
export function binding(deployment, campaignId, memberKey, account, ciphertext) {
  if (!(ciphertext instanceof Uint8Array)) throw new InvalidCiphertext("the ciphertext must be bytes");
  return sha256(concat(pledgeAd(deployment, campaignId, memberKey, account), ciphertext));
}

/** sha256("spartacus/pledge-key/v1" || k): lets members check a rebuilt key. */
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

/** nonce24 || XChaCha20-Poly1305(k, nonce24, plain, ad); a random nonce by default. */
export function encryptPayload(pledgeKey, deployment, campaignId, memberKey, account, plain, nonce = null) {
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
  const ad = pledgeAd(deployment, campaignId, memberKey, account);
  return concat(iv, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, iv, key));
}

/** Decrypt a pledge's (or the instructions') ciphertext; InvalidCiphertext on any fault. */
export function decryptPayload(pledgeKey, deployment, campaignId, memberKey, account, ciphertext) {
  const key = checkBytes(pledgeKey, KEY_SIZE, "a pledge key", InvalidKey);
  checkCiphertextSize(ciphertext);
  const ad = pledgeAd(deployment, campaignId, memberKey, account);
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      ciphertext.subarray(NONCE_SIZE),
      ad,
      ciphertext.subarray(0, NONCE_SIZE),
      key,
    );
  } catch {
    throw new InvalidCiphertext(
      "the ciphertext fails authentication: wrong key, or it was altered or moved " +
        "(to another pledge, campaign, registry or chain)",
    );
  }
}
