// Sealing a pledge (docs/protocol.md): the sealed record sent to the registry, custodian
// boxes, and the custodian's side, opening a box and checking its binding. Mirrors
// spartacus/protocol/sealing.py.

import {
  BINDING_SIZE,
  BindingMismatch,
  BoxOpenError,
  CryptoError,
  InvalidKey,
  ZERO_ACCOUNT,
  boxSize,
  checkCustodians,
  checkPublicKey,
  concat,
  equalBytes,
  publicKeyOf,
  seal,
  sealOpen,
  shareSize,
  toBigInt,
  toHex,
} from "./primitives.js";
import { binding, commitment, encodeContact, encodeInstructions, encryptPayload } from "./payload.js";
import { splitKey } from "./shamir.js";

// ------------------------------------------------------------------------ sealing

async function sealPayload(deployment, campaignId, account, keys, plain, custodianKeys, t, nonce) {
  const n = custodianKeys.length;
  checkCustodians(n, t);
  const publicKeys = custodianKeys.map((key, i) => checkPublicKey(key, `custodian key ${i}`));
  if (new Set(publicKeys.map(toHex)).size !== n) {
    throw new InvalidKey("the same custodian key is listed twice");
  }
  const ciphertext = encryptPayload(keys.pledgeKey, deployment, campaignId, keys.memberKey, account, plain, nonce);
  const bind = binding(deployment, campaignId, keys.memberKey, account, ciphertext);
  const shares = await splitKey(keys.pledgeKey, n, t);
  const boxes = concat(
    ...shares.map((share, i) => seal(concat(share, bind), publicKeys[i], `custodian key ${i}`)),
  );
  return { memberKey: keys.memberKey, ciphertext, boxes, commitment: commitment(keys.pledgeKey) };
}

/**
 * Seal a pledge for the campaign's custodians (in custodian order), bound to the campaign's
 * registry and chain (`deployment`, { chainId, registry }).
 */
export async function sealPledge(deployment, campaignId, keys, contact, custodianKeys, t, { nonce = null } = {}) {
  if (toBigInt(campaignId, "campaign id") < 1n) {
    throw new CryptoError(`pledges go to campaigns 1 and up, not ${campaignId}`);
  }
  return sealPayload(deployment, campaignId, keys.account, keys, encodeContact(contact), custodianKeys, t, nonce);
}

/**
 * Seal the organiser's instructions: campaign id 0 and the zero account in ad/binding, bound
 * to the registry and chain the campaign is created in.
 */
export async function sealInstructions(deployment, keys, text, custodianKeys, t, { nonce = null } = {}) {
  return sealPayload(deployment, 0, ZERO_ACCOUNT, keys, encodeInstructions(text), custodianKeys, t, nonce);
}

/** Cut a pledge's `boxes` into the n custodian boxes. */
export function splitBoxes(boxes, n, t) {
  checkCustodians(n, t);
  const size = boxSize(t);
  if (!(boxes instanceof Uint8Array) || boxes.length !== n * size) {
    throw new BoxOpenError(`boxes must be ${n} x ${size} = ${n * size} bytes, not ${boxes?.length}`);
  }
  return Array.from({ length: n }, (_, i) => boxes.slice(i * size, (i + 1) * size));
}

// ------------------------------------------------------------------------ custodian side

/** The campaign id and account a record's ad and binding use (0 and zero for index 0). */
export function recordContext(campaignId, record) {
  return record.index === 0 ? [0, ZERO_ACCOUNT] : [campaignId, record.account];
}

/** The custodian's side, for tests and tools: open a box and check its binding. */
export function openBox(campaignSecret, deployment, campaignId, record, custodianIndex, n, t) {
  const [secretKey, publicKey] = publicKeyOf(campaignSecret, "the campaign secret key");
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
  if (!equalBytes(plain.subarray(size), binding(deployment, campaign, record.memberKey, account, record.ciphertext))) {
    throw new BindingMismatch(
      `pledge ${record.index}: the box's binding names another pledge, campaign, registry or chain ` +
        "(a copied box); its share is withheld",
    );
  }
  return plain.slice(0, size);
}
