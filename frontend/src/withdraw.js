// Withdrawing from a campaign's page, and the receipt codes its withdraw and roster forms
// offer: pasted, or chosen among those kept in this browser.

import * as protocol from "./protocol/index.js";
import { withdrawBody } from "./bodies.js";
import { forgetReceipt, storedReceipts } from "./receipts.js";
import { connect, pickedWallet, sendFromWallet } from "./wallets.js";
import { chainNow, recorded } from "./pledge-check.js";
import { $, FieldError, Unsure, el, refused, say, show } from "./ui.js";

export function fillStored(slot) {
  const stored = storedReceipts(localStorage, slot);
  for (const prefix of ["withdraw", "roster"]) {
    const select = $(`#${prefix}-stored`);
    if (!select) continue;
    select.replaceChildren(el("option", "Paste a code below", { value: "" }));
    stored.forEach((r, i) => {
      const label = r.role === "organiser" ? "organiser" : "member";
      select.append(el("option", `Receipt saved ${r.savedAt.slice(0, 10)} (${label})`, { value: String(i) }));
    });
    if (stored.length) select.value = "0";
    show($(`#${prefix}-stored-field`), stored.length > 0);
  }
  if (stored.length) openWithdraw();
}

/** Unfold the withdraw form: a receipt is in this browser, so withdrawing applies. */
export function openWithdraw() {
  const details = $("#withdraw-details");
  if (details) details.open = true;
}

export function chosenReceipt(prefix, slot, campaignId) {
  const pasted = $(`#${prefix}-code`).value.trim();
  let code = pasted;
  if (!code) {
    const stored = storedReceipts(localStorage, slot);
    const choice = $(`#${prefix}-stored`)?.value;
    code = choice ? stored[Number(choice)]?.code : "";
  }
  const field = `#${prefix}-code`;
  if (!code) throw new FieldError(field, "Paste your receipt code, or choose one saved in this browser.");
  let decoded;
  try {
    decoded = protocol.decodeReceipt(code);
  } catch (error) {
    throw new FieldError(pasted ? field : `#${prefix}-stored`, `This is not a whole receipt code: ${error?.message ?? error}.`);
  }
  const { campaignId: forCampaign, secret } = decoded;
  if (String(forCampaign) !== String(campaignId)) {
    throw new FieldError(pasted ? field : `#${prefix}-stored`, `This receipt code is for campaign ${forCampaign}, not this one (${campaignId}).`);
  }
  return { code, keys: protocol.deriveKeys(secret) };
}

export async function withdraw(source, page, info, slot) {
  await protocol.ready();
  const { code, keys } = chosenReceipt("withdraw", slot, page.campaignId);
  let wallet = pickedWallet("withdraw");
  if (wallet) wallet = await connect(wallet, page.chainId);
  const account = await source.pledgeOf(page.campaignId, keys.account);
  if (!account.active) {
    throw new Error("This receipt has no active pledge in this campaign: it was withdrawn, or it was never recorded (or not yet: a pledge sent without a clear answer can take a few minutes).");
  }
  const validUntil = chainNow(info) + protocol.SIGNATURE_VALIDITY;
  const body = withdrawBody(page.chainId, page.registry, page.campaignId, keys, account.nonce, validUntil);
  let counted = "";
  try {
    if (wallet) {
      // The member's own wallet sends it: leaving does not depend on the site's relayer.
      say($("#withdraw-result"), `Asking ${wallet.info.name} to send the withdrawal...`);
      await sendFromWallet(wallet, page.chainId, page.registry, "withdrawWithSig", [body.campaignId, body.account, body.validUntil, body.signature]);
      if (!(await recorded(source, page.campaignId, keys.account, 10, false))) {
        throw new Unsure(`the transaction was mined, but campaign ${page.campaignId} on chain ${page.chainId} still shows the pledge active`);
      }
    } else {
      const result = await source.relay("withdraw", body);
      counted = ` Active pledges now: ${result.active}.`;
    }
  } catch (error) {
    // The receipt is kept either way: it is dropped only once the withdrawal is recorded.
    if (refused(error)) throw error;
    throw new Error(`No clear answer came back (${error.message}). Your withdrawal may still be recorded: keep the receipt code and press Withdraw again in a few minutes; it will say whether the pledge is still active.`);
  } finally {
    say($("#withdraw-result"), "");
  }
  forgetReceipt(localStorage, slot, code);
  fillStored(slot);
  $("#withdraw-code").value = "";
  say($("#withdraw-result"), `Your pledge is withdrawn; its details stay sealed for good.${counted}`);
}
