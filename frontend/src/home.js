// The home page's "my campaigns": the campaigns whose receipt codes the person chose to
// keep in this browser, with each one's live status. The site is never told which they
// are: the page reads the public list of every campaign (GET /api/campaigns, the same for
// every visitor) every 10 s and picks them out here.

import { keptReceipts } from "./receipts.js";
import { t } from "./i18n.js";
import { $, api, el, pageData, say, show } from "./ui.js";

const REFRESH_MS = 10_000;

const STATUS = { open: "homeOpen", pending: "homePending", revealed: "homeRevealed", expired: "homeExpired" };

export async function homePage() {
  const page = pageData();
  const kept = keptReceipts(localStorage, page.registry, page.chainId);
  if (!kept.length) return;
  show($("#my-campaigns"));
  const refresh = async () => {
    try {
      const { campaigns } = await api("/api/campaigns");
      render(kept, new Map(campaigns.map((c) => [String(c.id), c])));
      say($("#my-campaigns-error"), "");
    } catch (error) {
      say($("#my-campaigns-error"), t("homeStatusUnreadable", { reason: error.message }));
    }
  };
  render(kept, new Map());
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

function render(kept, byId) {
  const list = $("#my-campaigns-list");
  list.replaceChildren(...kept.map((r) => {
    const c = byId.get(r.campaignId);
    const item = el("li", null, { class: "card", "data-campaign": r.campaignId });
    // A plain link: the page preselects the kept code in its withdraw and roster forms.
    item.append(el("a", c ? c.title : t("campaignN", { id: r.campaignId }), { href: `/c/${r.campaignId}`, dir: "auto" }));
    const words = c
      ? `${t("countOf", { active: c.active, threshold: c.threshold })} · ${STATUS[c.status] ? t(STATUS[c.status]) : c.status}`
      : t(byId.size ? "notListed" : "statusLoading");
    item.append(el("span", words, { class: "muted my-status", "data-status": c?.status ?? "" }));
    const kept = r.role === "organiser" ? "yourOrganiserReceipt" : "yourMemberReceipt";
    item.append(el("span", t(kept, { date: r.savedAt.slice(0, 10) }), { class: "muted" }));
    return item;
  }));
}
