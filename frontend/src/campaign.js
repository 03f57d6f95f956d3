// The campaign page: live count, pledge-rate chart, grace countdown, and the wiring of its
// join (join.js), withdraw (withdraw.js) and "my roster" (roster-view.js) forms, all in the
// browser. The server only ever receives sealed bytes and signatures (see bodies.js). Where
// the campaign's data comes from is a `source`: the Flask app's JSON API (serverSource), or
// the chain itself through a JSON-RPC node and a relayer URL (static-site.js, for the
// exported static copy): one client, two hosts.

import * as protocol from "./protocol/index.js";
import { join } from "./join.js";
import { dropUnlanded } from "./pledge-check.js";
import { chosenReceipt, fillStored, openWithdraw, withdraw } from "./withdraw.js";
import { AutoRoster, readRoster } from "./roster-view.js";
import { campaignSlot } from "./receipts.js";
import { showReceipt } from "./receipt-ui.js";
import { restoreFromLink } from "./receipt-link.js";
import { offerWallets, watchWallets } from "./wallets.js";
import { showKeyCheck } from "./custodians.js";
import { $, api, busy, copyText, el, formatDate, formatDuration, pageData, ready, show } from "./ui.js";
import { t } from "./i18n.js";
import { countJoinBytes } from "./join-counter.js";

const STATUS_WORDS = { open: "statusOpen", pending: "statusPending", revealed: "statusRevealed", expired: "statusExpired" };

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
    countJoinBytes();
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
    countdown.textContent = t("revealCountdown", { left: formatDuration(info.graceEnd - now), when: formatDate(info.graceEnd), threshold: info.threshold });
  } else if (info.status === "open") {
    countdown.textContent = t("deadlineCountdown", { left: formatDuration(info.deadline - now), when: formatDate(info.deadline) });
  } else {
    countdown.textContent = "";
  }
  if (clockOnly) return;
  $("#count").textContent = String(info.active);
  const recent = recentText(info.recentPledges);
  if (recent) $("#recent-counts").textContent = recent;
  const bar = $("#progress");
  bar.max = info.threshold;
  bar.value = Math.min(info.active, info.threshold);
  $("#status").textContent = STATUS_WORDS[info.status] ? t(STATUS_WORDS[info.status]) : info.status;
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

/** Pledges in the last hour and day, as the server writes them (web/i18n.py recent_text). */
function recentText(recent) {
  if (!recent) return "";
  const more = recent.atLeast ? "+" : "";
  return t("recentText", { hour: `${recent.lastHour}${more}`, day: `${recent.lastDay}${more}` });
}

function drawRate(rate) {
  const box = $("#rate-chart");
  if (!box) return;
  box.replaceChildren();
  if (!rate || rate.length < 2) {
    box.append(el("p", t("rateEmpty"), { class: "muted" }));
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
  svg.setAttribute("aria-label", t("rateLabel", { from: rate[0].active, to: rate[rate.length - 1].active }));
  const points = rate.map((p) => `${((p.time - t0) / span) * (w - 4) + 2},${h - 2 - (p.active / top) * (h - 4)}`);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", "rate-line");
  svg.append(line);
  box.append(svg);
}
