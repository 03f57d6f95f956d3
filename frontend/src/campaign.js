// The campaign page: live count, pledge-rate chart, grace countdown; join, withdraw and
// "my roster", all in the browser. The server only ever receives sealed bytes and
// signatures (see bodies.js). Where the campaign's data comes from is a `source`: the Flask
// app's JSON API (serverSource), or the chain itself through a JSON-RPC node and a relayer
// URL (static-site.js, for the exported static copy): one client, two hosts.

import * as protocol from "./protocol/index.js";
import { pledgeBody, withdrawBody } from "./bodies.js";
import { pledgeProof } from "./membership.js";
import { AutoRoster, readRoster } from "./roster-view.js";
import { campaignSlot, forgetReceipt, storeReceipt, storedReceipts } from "./receipts.js";
import { showReceipt } from "./receipt-ui.js";
import { restoreFromLink } from "./receipt-link.js";
import { connect, offerWallets, pickedWallet, sendFromWallet, watchWallets } from "./wallets.js";
import { checkCustodianKeys, showKeyCheck } from "./custodians.js";
import {
  $, FieldError, Unsure, api, busy, copyText, el, formatDate, formatDuration, pageData, ready, refused, say, show,
} from "./ui.js";

const STATUS_WORDS = {
  open: "Open: pledges are sealed; nothing is revealed until the threshold is reached.",
  pending: "Threshold reached: the grace period is running. Pledges can still be withdrawn.",
  revealed: "Revealed: members can now read the roster and the next steps.",
  expired: "Expired: the deadline passed first. Nothing will ever be revealed.",
};

/** The campaign's data and the relayer, from the site that served the page. */
export function serverSource() {
  return {
    campaign: (id) => api(`/api/campaigns/${id}`),
    watch: (id, onSummary) => new Live(id, onSummary).start(),
    // pledgeOf for a pledge account, asked in a POST body: no identifier in any URL.
    pledgeOf: (id, account) => api(`/api/campaigns/${id}/account`, { account }),
    records: (id) => api(`/api/campaigns/${id}/records`),
    relay: (kind, body) => api(`/api/relay/${kind}`, body),
  };
}

export async function campaignPage(source = serverSource(), page = pageData()) {
  const id = page.campaignId;
  const slot = campaignSlot(page.registry, page.chainId, id);
  await protocol.ready();
  let info = await source.campaign(id);
  // The roster of a member whose receipt is in this browser is read by itself at the reveal,
  // from the same live stream that moves the count: no reload, no click.
  const roster = new AutoRoster(source, page, slot);
  const update = () => {
    render(info, false, page);
    roster.check(info);
  };
  update();
  drawRate(info.rate);
  showKeyCheck(page, info);
  source.watch(id, (summary) => {
    info = { ...info, ...summary };
    update();
  });
  // "Join" on the first screen: to the form, the focus on its first field (without touching
  // the address's fragment, which carries receipt links and the static copy's routes).
  $("#join-now")?.addEventListener("click", (event) => {
    event.preventDefault();
    $("#join-section").scrollIntoView({ block: "start" });
    $("#join-name")?.focus({ preventScroll: true });
  });
  const shareUrl = $("#share-url");
  $("#share-copy")?.addEventListener("click", () => copyText(shareUrl.value, $("#share-status")));
  setInterval(() => render(info, true, page), 1000);

  watchWallets((list) => {
    offerWallets("join", list);
    offerWallets("withdraw", list);
  });
  const joinForm = $("#join-form");
  if (joinForm) {
    joinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      busy($("#join-submit"), $("#join-error"), () => join(source, page, info, slot));
    });
  }
  fillStored(slot);
  const restore = () => restoreFromLink(page.campaignId, (code, role) => {
    showReceipt(code, { slot, role, onKept: () => fillStored(slot) });
    openWithdraw();
    roster.check(info);
  }, page.cleanUrl);
  restore();
  // The private link clicked on its own page is a jump within it: read it and clear it too.
  window.addEventListener("hashchange", restore);
  dropUnlanded(source, page, info, slot).then(() => fillStored(slot));
  $("#withdraw-form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#withdraw-submit"), $("#withdraw-error"), () => withdraw(source, page, info, slot));
  });
  $("#roster-form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#roster-submit"), $("#roster-error"), () => readRoster(source, page, info, chosenReceipt("roster", slot, page.campaignId).keys));
  });
  ready($("#join-submit"), $("#withdraw-submit"), $("#roster-submit"));
}

// ---------------------------------------------------------------- live count

class Live {
  constructor(id, onSummary) {
    this.id = id;
    this.onSummary = onSummary;
    this.timer = null;
  }

  start() {
    if (!window.EventSource) return this.poll();
    const source = new EventSource(`/api/campaigns/${this.id}/events`);
    source.addEventListener("campaign", (event) => this.onSummary(JSON.parse(event.data)));
    source.onerror = () => {
      // The server is full or gone: poll every 5 s until a stream works again.
      if (source.readyState === EventSource.CLOSED) this.poll();
    };
  }

  poll() {
    if (this.timer) return;
    this.timer = setInterval(async () => {
      try {
        this.onSummary(await api(`/api/campaigns/${this.id}`));
      } catch {
        /* keep the last figures; the next poll may work */
      }
    }, 5000);
  }
}

let lastActive = null;

/** Whether this campaign takes pledges now (a revealed one only with late joining). */
function joinable(info, page) {
  if (page.hidden) return false;
  return info.status === "open" || info.status === "pending" || (info.status === "revealed" && Boolean(info.lateJoining));
}

function render(info, clockOnly = false, page = {}) {
  const now = Math.max(info.now ?? 0, Math.floor(Date.now() / 1000));
  const countdown = $("#countdown");
  if (info.status === "pending" && info.graceEnd) {
    countdown.textContent = `The reveal can happen in ${formatDuration(info.graceEnd - now)} (${formatDate(info.graceEnd)}) if ${info.threshold} pledges are still active then.`;
  } else if (info.status === "open") {
    countdown.textContent = `Deadline in ${formatDuration(info.deadline - now)} (${formatDate(info.deadline)}).`;
  } else {
    countdown.textContent = "";
  }
  if (clockOnly) return;
  $("#count").textContent = String(info.active);
  if (info.recentText) $("#recent-counts").textContent = info.recentText;
  const bar = $("#progress");
  bar.max = info.threshold;
  bar.value = Math.min(info.active, info.threshold);
  $("#status").textContent = STATUS_WORDS[info.status] ?? info.status;
  $("#status").dataset.status = info.status;
  document.body.dataset.status = info.status;
  if (lastActive !== null && lastActive !== info.active && info.rate) {
    info.rate = [...info.rate, { time: info.now, active: info.active }];
    drawRate(info.rate);
  }
  lastActive = info.active;
  // Only the actions that apply now: Join while the campaign takes pledges, the roster once
  // it is revealed, Withdraw until then (folded unless a receipt is in this browser).
  const revealed = info.status === "revealed";
  show($("#revealed-banner"), revealed);
  show($("#join-closed"), info.status === "expired");
  show($("#join-after-reveal"), revealed);
  const canJoin = joinable(info, page);
  show($("#join-now"), canJoin);
  // Not hidden under a join made here (whose pledge may be the one that revealed it).
  const joinedHere = $("#join-submit")?.hasAttribute("aria-busy") || $("#join-progress")?.hidden === false;
  show($("#join-section"), canJoin || joinedHere);
  show($("#roster-section"), revealed);
  // Only a campaign with one custodian can have its roster mailed by that custodian (t = 1);
  // whether the creator asked it to is kept with the custodian, so the label says "if".
  const mailField = $("#join-mail-field");
  if (mailField) show(mailField, info.custodianThreshold === 1);
  show($("#withdraw-section"), !revealed && info.status !== "expired");
}

function drawRate(rate) {
  const box = $("#rate-chart");
  if (!box) return;
  box.replaceChildren();
  if (!rate || rate.length < 2) {
    box.append(el("p", "The pledge rate appears here once there are a few pledges.", { class: "muted" }));
    return;
  }
  const ns = "http://www.w3.org/2000/svg";
  const w = 320;
  const h = 80;
  const t0 = rate[0].time;
  const span = Math.max(1, rate[rate.length - 1].time - t0);
  const top = Math.max(1, ...rate.map((p) => p.active));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Active pledges over time: from ${rate[0].active} to ${rate[rate.length - 1].active}`);
  const points = rate.map((p) => `${((p.time - t0) / span) * (w - 4) + 2},${h - 2 - (p.active / top) * (h - 4)}`);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", "rate-line");
  svg.append(line);
  box.append(svg);
}

// ---------------------------------------------------------------- join

/** The registry and chain this page serves: every sealed byte is bound to them. */
function deploymentOf(page) {
  return { chainId: page.chainId, registry: page.registry };
}

async function join(source, page, info, slot) {
  const name = $("#join-name").value.trim();
  const contact = $("#join-contact").value.trim();
  const message = $("#join-message").value.trim();
  const mailBox = $("#join-mail");
  const mail = Boolean(mailBox?.checked && !$("#join-mail-field").hidden);
  // A first check only: the custodian mails only what spartacus.mail.email_address accepts.
  if (mail && !/^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/.test(contact)) {
    throw new FieldError("#join-contact", "To be e-mailed the roster, give one e-mail address as your contact (not a work address), or untick the e-mail box.");
  }
  const progress = $("#join-progress");
  say(progress, "");
  // A wallet is asked for an account on this campaign's chain before anything is sealed:
  // one that cannot or will not switch stops the join here, with no code and nothing sent.
  let wallet = pickedWallet("join");
  if (wallet) {
    say(progress, `Asking ${wallet.info.name} for an account on this campaign's chain...`);
    wallet = await connect(wallet, page.chainId);
  }
  // Each key must be the one its custodian signed: a lying node behind the site gets nothing.
  const custodianKeys = checkCustodianKeys(page.chainId, page.registry, info, page.directory, page.relayer).map((c) => c.campaignKey);
  say(progress, "Sealing your details in this browser...");
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
    say(progress, "Proving in this browser that you are a member of the group (a few seconds)...");
    body.proof = await pledgeProof(page, sealed, keys.account, 0, validUntil);
  }
  if ($("#join-store").checked) storeReceipt(localStorage, slot, code, "member", new Date(), validUntil);
  showReceipt(code, { slot, onKept: () => fillStored(slot) });
  openWithdraw();
  try {
    if (wallet) {
      say(progress, `Asking ${wallet.info.name} to send the pledge...`);
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
      say(progress, "Sending the sealed pledge through the relayer. It waits up to a few minutes and sends pledges together, so that the time of your visit does not point to yours; your receipt code is already shown above.");
      await source.relay("pledge", body);
    }
    // A mined transaction is not a pledge (a wallet on another chain mines one too): the
    // person is told "joined" only once this campaign's registry shows the pledge active.
    say(progress, "Checking on the chain that your pledge is active...");
    if (!(await recorded(source, page.campaignId, keys.account, 10))) {
      throw new Unsure(`the transaction was sent, but campaign ${page.campaignId} on chain ${page.chainId} shows no active pledge for it yet`);
    }
  } catch (error) {
    say(progress, "");
    if (refused(error)) {
      // The site said nothing was sent: this code belongs to no pledge, so drop it.
      forgetReceipt(localStorage, slot, code);
      show($("#receipt"), false);
      fillStored(slot);
      throw new Error(`You have not joined: ${error.message}. Nothing was recorded; you can try again.`);
    }
    // Anything else (no answer, a proxy's error page, a wallet error) may have landed, or
    // may still land: the code is kept and shown, unless the pledge is found recorded.
    fillStored(slot);
    if (!(await recorded(source, page.campaignId, keys.account))) {
      throw new Error(`No clear answer came back (${error.message}). Your pledge may still be recorded: keep the receipt code shown above, it is the only way to withdraw it. Check this campaign's count in a few minutes before joining again: joining again would make a second pledge.`);
    }
  }
  say(progress, "You have joined. Keep your receipt code: it is the only way to withdraw or read the roster.");
  $("#join-form").reset();
  fillStored(slot);
}

/** The chain's time as the site last read it (the browser's clock if the site said none). */
function chainNow(info) {
  return Number(info?.now ?? Math.floor(Date.now() / 1000));
}

/**
 * Drop stored member receipts whose pledge never landed and never can: validUntil has passed
 * (by the chain's time) and the account has no pledge in the campaign (nonce 0). A receipt
 * whose pledge may still land is kept until then.
 */
async function dropUnlanded(source, page, info, slot) {
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
async function recorded(source, campaignId, account, tries = 1, active = true) {
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

// ---------------------------------------------------------------- withdraw and roster

function fillStored(slot) {
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
function openWithdraw() {
  const details = $("#withdraw-details");
  if (details) details.open = true;
}

function chosenReceipt(prefix, slot, campaignId) {
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

async function withdraw(source, page, info, slot) {
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
