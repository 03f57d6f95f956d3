// What the browser sends to the relayer: sealed bytes, the pledge account and its
// signature. Built here, apart from the page code, so a node test can check that no
// plaintext contact detail is ever part of it.

import {
  SECRET_SIZE,
  pledgeTypedData,
  toHex,
  typedDataDigest,
  withdrawTypedData,
} from "./protocol/index.js";
import { SigningKey } from "ethers";

import { t } from "./i18n.js";

const hex = (bytes) => "0x" + toHex(bytes);

/** Sign EIP-712 typed data with a derived pledge account key; 65-byte 0x-hex (r, s, v). */
export function signTyped(accountKey, typed) {
  return new SigningKey(hex(accountKey)).sign(typedDataDigest(typed)).serialized;
}

/** The POST /api/relay/pledge body for a sealed pledge, signed valid until `validUntil`. */
export function pledgeBody(chainId, registry, campaignId, keys, sealed, nonce, validUntil) {
  const typed = pledgeTypedData(chainId, registry, campaignId, sealed, nonce, validUntil);
  return {
    campaignId: Number(campaignId),
    account: keys.account,
    memberKey: hex(sealed.memberKey),
    ciphertext: hex(sealed.ciphertext),
    boxes: hex(sealed.boxes),
    commitment: hex(sealed.commitment),
    validUntil: Number(validUntil),
    signature: signTyped(keys.accountKey, typed),
  };
}

/** The POST /api/relay/withdraw body, signed valid until `validUntil`. */
export function withdrawBody(chainId, registry, campaignId, keys, nonce, validUntil) {
  const typed = withdrawTypedData(chainId, registry, campaignId, nonce, validUntil);
  return {
    campaignId: Number(campaignId),
    account: keys.account,
    validUntil: Number(validUntil),
    signature: signTyped(keys.accountKey, typed),
  };
}

/** The POST /api/relay/create body. `terms` are the public terms as the form gave them. */
export function createBody(terms, sealed, endorsements) {
  return {
    terms,
    instructions: {
      memberKey: hex(sealed.memberKey),
      ciphertext: hex(sealed.ciphertext),
      boxes: hex(sealed.boxes),
      commitment: hex(sealed.commitment),
    },
    endorsements: endorsements.map((e) => ({
      custodian: e.custodian,
      campaignKey: e.campaignKey,
      expiry: Number(e.expiry),
      signature: e.signature,
    })),
  };
}

/**
 * The deadline (unix seconds) from the create form: a date and time typed as local time
 * ("YYYY-MM-DDTHH:MM", from <input type="datetime-local">) wins over a number of days.
 * `minSeconds` is the page's rules.minDeadline (spartacus/chain/rules.py MIN_DEADLINE).
 */
export function deadlineFrom(days, dateText, nowMs = Date.now(), minSeconds = 3600) {
  let deadline;
  if (dateText) {
    const ms = new Date(dateText).getTime();
    if (Number.isNaN(ms)) throw new Error(t("deadlineNotDate"));
    deadline = Math.floor(ms / 1000);
  } else {
    if (!(Number(days) > 0)) throw new Error(t("deadlineDays"));
    deadline = Math.floor(nowMs / 1000 + Number(days) * 86400);
  }
  if (deadline <= Math.floor(nowMs / 1000) + minSeconds) {
    const span = minSeconds === 3600 ? t("anHour") : t("nMinutes", { n: Math.ceil(minSeconds / 60) });
    throw new Error(t("deadlineTooSoon", { span }));
  }
  return deadline;
}

/** A record from GET /api/campaigns/<id>/records, as protocol.readRoster takes it. */
export function recordFromJson(r, fromHex) {
  return {
    index: r.index,
    account: r.account,
    memberKey: fromHex(r.memberKey),
    ciphertext: fromHex(r.ciphertext),
    boxes: fromHex(r.boxes),
    commitment: fromHex(r.commitment),
  };
}

export { SECRET_SIZE };
