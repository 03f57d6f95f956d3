// Joining a campaign from its page: seal the details in this browser, show the receipt code
// before anything is sent, prove membership for a gated campaign, then send the pledge from
// the person's own wallet or through the site's relayer, and say "joined" only once the
// chain shows the pledge active.

import * as protocol from "./protocol/index.js";
import { pledgeBody } from "./bodies.js";
import { pledgeProof } from "./membership.js";
import { forgetReceipt, storeReceipt } from "./receipts.js";
import { showReceipt } from "./receipt-ui.js";
import { connect, pickedWallet, sendFromWallet } from "./wallets.js";
import { checkCustodianKeys } from "./custodians.js";
import { chainNow, recorded } from "./pledge-check.js";
import { fillStored, openWithdraw } from "./withdraw.js";
import { $, FieldError, Unsure, refused, say, show } from "./ui.js";
import { t } from "./i18n.js";

/** The registry and chain this page serves: every sealed byte is bound to them. */
function deploymentOf(page) {
  return { chainId: page.chainId, registry: page.registry };
}

export async function join(source, page, info, slot) {
  const name = $("#join-name").value.trim();
  const contact = $("#join-contact").value.trim();
  const message = $("#join-message").value.trim();
  const mailBox = $("#join-mail");
  const mail = Boolean(mailBox?.checked && !$("#join-mail-field").hidden);
  // A first check only: the custodian mails only what spartacus.mail.email_address accepts.
  if (mail && !/^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/.test(contact)) {
    throw new FieldError("#join-contact", t("mailNeedsAddress"));
  }
  const progress = $("#join-progress");
  say(progress, "");
  // A wallet is asked for an account on this campaign's chain before anything is sealed:
  // one that cannot or will not switch stops the join here, with no code and nothing sent.
  let wallet = pickedWallet("join");
  if (wallet) {
    say(progress, t("askingWalletAccount", { wallet: wallet.info.name }));
    wallet = await connect(wallet, page.chainId);
  }
  // Each key must be the one its custodian signed: a lying node behind the site gets nothing.
  const custodianKeys = checkCustodianKeys(page.chainId, page.registry, info, page.directory, page.relayer).map((c) => c.campaignKey);
  say(progress, t("sealing"));
  const secret = protocol.newSecret();
  const keys = protocol.deriveKeys(secret);
  const sealed = await protocol.sealPledge(deploymentOf(page), page.campaignId, keys, { name, contact, message, mail }, custodianKeys, info.custodianThreshold);
  const code = protocol.encodeReceipt(page.campaignId, secret);
  // The receipt code is the pledge's only backup: show it before anything is sent, so an
  // answer lost on the way back does not lose a pledge that was recorded.
  // The signature is valid for SIGNATURE_VALIDITY from the chain's time (as the site last
  // read it): past validUntil a pledge that has not landed never will, and its receipt can go.
  const validUntil = chainNow(info) + protocol.SIGNATURE_VALIDITY;
  // The pledge account is new, so the registry expects its first nonce: nothing to ask.
  const body = pledgeBody(page.chainId, page.registry, page.campaignId, keys, sealed, 0, validUntil);
  if (page.group) {
    // A gated campaign: prove membership for this very pledge (before any code is shown: a
    // pledge that cannot be proved is never sent).
    say(progress, t("proving"));
    body.proof = await pledgeProof(page, sealed, keys.account, 0, validUntil);
  }
  if ($("#join-store").checked) storeReceipt(localStorage, slot, code, "member", new Date(), validUntil);
  showReceipt(code, { slot, onKept: () => fillStored(slot) });
  openWithdraw();
  try {
    if (wallet) {
      say(progress, t("askingWalletSend", { wallet: wallet.info.name }));
      const args = [
        body.campaignId, body.account,
        [body.memberKey, body.ciphertext, body.boxes, body.commitment], body.validUntil, body.signature,
      ];
      const p = body.proof;
      await sendFromWallet(wallet, page.chainId, page.registry, p ? "pledgeGatedWithSig" : "pledgeWithSig", p
        ? [...args, [p.merkleTreeDepth, p.merkleTreeRoot, p.nullifier, p.message, p.scope, p.points]]
        : args);
    } else {
      // The relayer holds pledges for a random time (its mixing window, up to a few minutes)
      // and sends them together: the answer comes once the batch is mined.
      say(progress, t("sendingRelayer"));
      await source.relay("pledge", body);
    }
    // A mined transaction is not a pledge (a wallet on another chain mines one too): the
    // person is told "joined" only once this campaign's registry shows the pledge active.
    say(progress, t("checkingActive"));
    if (!(await recorded(source, page.campaignId, keys.account, 10))) {
      throw new Unsure(t("sentNotActive", { id: page.campaignId, chain: page.chainId }));
    }
  } catch (error) {
    say(progress, "");
    if (refused(error)) {
      // The site said nothing was sent: this code belongs to no pledge, so drop it.
      forgetReceipt(localStorage, slot, code);
      show($("#receipt"), false);
      fillStored(slot);
      throw new Error(t("notJoined", { reason: error.message }));
    }
    // Anything else (no answer, a proxy's error page, a wallet error) may have landed, or
    // may still land: the code is kept and shown, unless the pledge is found recorded.
    fillStored(slot);
    if (!(await recorded(source, page.campaignId, keys.account))) {
      throw new Error(t("joinUnclear", { reason: error.message }));
    }
  }
  say(progress, t("joined"));
  $("#join-form").reset();
  fillStored(slot);
}
