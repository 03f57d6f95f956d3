// Receipt codes: a pledge secret and its campaign id, typed back by hand. Mirrors
// spartacus/protocol/receipt_code.py.
//
// Format (docs/protocol.md, "Receipt code"): sp2-<campaignId>-<base32 in groups of 8>, the
// base32 encoding of s || sha256("spartacus/v2/receipt" || cid32 || s)[0:3]. The prefix names
// the protocol version: a v1 code (sp1-) derives other keys and is refused saying so.

import {
  InvalidReceipt,
  InvalidSecret,
  MAX_UINT256,
  SECRET_SIZE,
  checkBytes,
  cid32,
  concat,
  equalBytes,
  sha256,
  toBigInt,
  utf8,
} from "./primitives.js";

export const RECEIPT_PREFIX = "sp2";
const RECEIPT_DOMAIN = "spartacus/v2/receipt";
const RETIRED_PREFIXES = new Set(["sp1"]);
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

/** sp2-<campaignId>-<base32 of secret || checksum, in 7 groups of 8>. */
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
  const prefix = (first < 0 ? compact : compact.slice(0, first)).toLowerCase();
  if (RETIRED_PREFIXES.has(prefix)) {
    throw new InvalidReceipt(
      `'${prefix}-' receipt codes belong to protocol v1, whose registries were replaced by v2 ` +
        `(codes start with '${RECEIPT_PREFIX}-'); a v1 secret derives no v2 key, so this code ` +
        "cannot withdraw or read a roster here",
    );
  }
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
