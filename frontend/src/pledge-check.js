// What the chain says of a pledge account, asked through the page's source: whether its
// pledge is recorded (after a join or a withdrawal), and which kept receipts belong to
// pledges that never landed and never can. Times are the chain's, as the site last read it.

import * as protocol from "./protocol/index.js";
import { forgetReceipt, storedReceipts } from "./receipts.js";

/** The chain's time as the site last read it (the browser's clock if the site said none). */
export function chainNow(info) {
  return Number(info?.now ?? Math.floor(Date.now() / 1000));
}

/**
 * Drop stored member receipts whose pledge never landed and never can: validUntil has passed
 * (by the chain's time) and the account has no pledge in the campaign (nonce 0). A receipt
 * whose pledge may still land is kept until then.
 */
export async function dropUnlanded(source, page, info, slot) {
  const now = chainNow(info);
  for (const r of storedReceipts(localStorage, slot)) {
    if (r.role !== "member" || !r.validUntil || r.validUntil >= now) continue;
    try {
      const { secret } = protocol.decodeReceipt(r.code);
      const account = await source.pledgeOf(page.campaignId, protocol.deriveKeys(secret).account);
      if (!account.active && Number(account.nonce) === 0) forgetReceipt(localStorage, slot, r.code);
    } catch {
      /* no answer: keep it, and ask again next time */
    }
  }
}

/**
 * Whether the account's pledge is `active` (true: joined; false: withdrawn), asking up to
 * `tries` times a second apart, as the site's node may be a block behind the wallet's.
 * False when that cannot be told.
 */
export async function recorded(source, campaignId, account, tries = 1, active = true) {
  for (let i = 0; i < tries; i++) {
    if (i) await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      if ((await source.pledgeOf(campaignId, account)).active === active) return true;
    } catch {
      /* ask again */
    }
  }
  return false;
}
