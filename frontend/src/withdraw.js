// Withdrawing from a campaign's page, and the receipt codes its withdraw and roster forms
// offer: pasted, or chosen among those kept in this browser.

import * as protocol from "./protocol/index.js";
import { withdrawBody } from "./bodies.js";
import { forgetReceipt, storedReceipts } from "./receipts.js";
import { connect, pickedWallet, sendFromWallet } from "./wallets.js";
import { chainNow, recorded } from "./pledge-check.js";
import { $, FieldError, Unsure, el, refused, say, show } from "./ui.js";
import { t } from "./i18n.js";

export function fillStored(slot) {
  const stored = storedReceipts(localStorage, slot);
  for (const prefix of ["withdraw", "roster"]) {
    const select = $(`#${prefix}-stored`);
    if (!select) continue;
    select.replaceChildren(el("option", t("pasteACode"), { value: "" }));
    stored.forEach((r, i) => {
      const role = t(r.role === "organiser" ? "roleOrganiser" : "roleMember");
      select.append(el("option", t("receiptSaved", { date: r.savedAt.slice(0, 10), role }), { value: String(i) }));
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
  if (!code) throw new FieldError(field, t("needCode"));
  let decoded;
  try {
    decoded = protocol.decodeReceipt(code);
  } catch (error) {
    throw new FieldError(pasted ? field : `#${prefix}-stored`, t("notWholeCode", { reason: error?.message ?? error }));
  }
  const { campaignId: forCampaign, secret } = decoded;
  if (String(forCampaign) !== String(campaignId)) {
    throw new FieldError(pasted ? field : `#${prefix}-stored`, t("codeOtherCampaign", { other: forCampaign, id: campaignId }));
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
    throw new Error(t("noActivePledge"));
  }
  const validUntil = chainNow(info) + protocol.SIGNATURE_VALIDITY;
  const body = withdrawBody(page.chainId, page.registry, page.campaignId, keys, account.nonce, validUntil);
  let counted = "";
  try {
    if (wallet) {
      // The member's own wallet sends it: leaving does not depend on the site's relayer.
      say($("#withdraw-result"), t("askingWalletWithdraw", { wallet: wallet.info.name }));
      await sendFromWallet(wallet, page.chainId, page.registry, "withdrawWithSig", [body.campaignId, body.account, body.validUntil, body.signature]);
      if (!(await recorded(source, page.campaignId, keys.account, 10, false))) {
        throw new Unsure(t("minedStillActive", { id: page.campaignId, chain: page.chainId }));
      }
    } else {
      const result = await source.relay("withdraw", body);
      counted = t("activeNow", { active: result.active });
    }
  } catch (error) {
    // The receipt is kept either way: it is dropped only once the withdrawal is recorded.
    if (refused(error)) throw error;
    throw new Error(t("withdrawUnclear", { reason: error.message }));
  } finally {
    say($("#withdraw-result"), "");
  }
  forgetReceipt(localStorage, slot, code);
  fillStored(slot);
  $("#withdraw-code").value = "";
  say($("#withdraw-result"), t("withdrawn", { counted }));
}
