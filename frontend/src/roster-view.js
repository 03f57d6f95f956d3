// A member's roster, read and shown in this browser: on demand (the "My roster" form) or by
// itself at the reveal for a receipt this browser knows (AutoRoster, driven by the page's
// live updates). The records are public chain data; only a receipt's keys open them.

import * as protocol from "./protocol/index.js";
import { recordFromJson } from "./bodies.js";
import { rosterCsv, rosterVcard } from "./files.js";
import { storedReceipts } from "./receipts.js";
import { t } from "./i18n.js";
import { $, download, el, say, show } from "./ui.js";

/** The receipts this page knows: the one on screen (joined or restored here), then the kept ones. */
function knownCodes(slot) {
  const shown = $("#receipt")?.hidden === false ? $("#receipt-code")?.textContent.trim() : "";
  return [...new Set([shown, ...storedReceipts(localStorage, slot).map((r) => r.code)].filter(Boolean))];
}

/**
 * Reads the roster by itself once the campaign is revealed, with a receipt this browser
 * knows: on every live update while the custodians' releases are still coming in (a few
 * seconds apart at the most), until every pledge is read.
 */
export class AutoRoster {
  constructor(source, page, slot) {
    Object.assign(this, { source, page, slot, running: false, done: false, timer: null, tries: 0 });
  }

  check(info) {
    if (this.done || this.running || info.status !== "revealed") return;
    const keys = knownCodes(this.slot).map((code) => {
      try {
        const decoded = protocol.decodeReceipt(code);
        return String(decoded.campaignId) === String(this.page.campaignId) ? protocol.deriveKeys(decoded.secret) : null;
      } catch {
        return null;
      }
    }).find(Boolean);
    if (!keys) return;
    this.running = true;
    clearTimeout(this.timer);
    readRoster(this.source, this.page, info, keys)
      .then((roster) => {
        this.done = roster.missing.length === 0;
      })
      .catch(() => {
        /* not readable yet (the site's index a block behind): the next update asks again */
      })
      .finally(() => {
        this.running = false;
        if (!this.done && ++this.tries < 200) this.timer = setTimeout(() => this.check(info), 3000);
      });
  }
}

export async function readRoster(source, page, info, keys) {
  await protocol.ready();
  const data = await source.records(page.campaignId);
  if (data.status !== "revealed") {
    throw new Error(t("rosterSealed"));
  }
  const records = [data.instructions, ...data.pledges].map((r) => recordFromJson(r, protocol.fromHex));
  const releases = data.releases.map((r) => ({ custodianIndex: r.custodianIndex, data: protocol.fromHex(r.data) }));
  const roster = await protocol.readRoster({ chainId: page.chainId, registry: page.registry }, page.campaignId, data.n, data.t, records, releases, { reader: keys });
  showRoster(info, roster);
  return roster;
}

function showRoster(info, roster) {
  const body = $("#roster-table tbody");
  body.replaceChildren();
  for (const m of roster.members) {
    const row = el("tr");
    for (const value of [m.contact.name, m.contact.contact, m.contact.message]) row.append(el("td", value, { dir: "auto" }));
    body.append(row);
  }
  $("#roster-instructions").textContent = roster.instructions ?? t("instructionsNotYet");
  const waiting = roster.missing.length
    ? t("pledgesMissing", { count: roster.missing.length })
    : "";
  say($("#roster-missing"), waiting);
  const problems = $("#roster-problems");
  problems.replaceChildren(...roster.problems.map((p) => el("li", p)));
  show(problems, roster.problems.length > 0);
  // Neutral file names: nothing names the site or the campaign in a downloads folder.
  $("#roster-csv").onclick = () => download("contacts.csv", rosterCsv(roster.members), "text/csv");
  $("#roster-vcard").onclick = () => download("contacts.vcf", rosterVcard(roster.members, info.title), "text/vcard");
  show($("#roster-result"));
}
