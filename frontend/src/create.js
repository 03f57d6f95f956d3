// The creator's page: endorsed keys from the custodians, the instructions sealed in this
// browser, the campaign submitted through the relayer, and the organiser's receipt code.

import * as protocol from "./protocol/index.js";
import { createBody, deadlineFrom } from "./bodies.js";
import { campaignSlot, storeReceipt } from "./receipts.js";
import { showReceipt } from "./receipt-ui.js";
import { t } from "./i18n.js";
import { $, $$, ApiError, FieldError, api, busy, el, pageData, ready, say, show } from "./ui.js";

/** The relayer and the campaign index of the site that served the page. */
export function serverCreateSource() {
  return { post: (path, body) => api(path, body), visible, link: (result) => result.url };
}

/** `source`: where the relayer is (post), when the new campaign is readable (visible) and
 * its page's link (serverCreateSource, or the static copy's in static-site.js). */
export async function createPage(source = serverCreateSource(), page = pageData()) {
  await protocol.ready();
  $("#create-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#create-submit"), $("#create-error"), () => create(source, page));
  });
  ready($("#create-submit"));
}

/** The endorsements pasted into the form (checked, not yet sent anywhere). */
function pastedEndorsements(page) {
  const pasted = $("#create-endorsement").value.trim();
  if (!pasted) return [];
  let parsed;
  try {
    parsed = JSON.parse(pasted);
  } catch {
    throw new FieldError("#create-endorsement", t("endorsementNotJson"));
  }
  const out = Array.isArray(parsed) ? parsed : [parsed];
  for (const e of out) {
    if (String(e.chainId) !== String(page.chainId) || String(e.registry).toLowerCase() !== page.registry.toLowerCase()) {
      throw new FieldError("#create-endorsement", t("endorsementOtherChain"));
    }
  }
  return out;
}

/**
 * Fresh endorsed keys from the chosen custodians, in the order: configured, URL, pasted.
 * Each key asked for is used up, so this runs only once the whole form has been checked.
 */
async function endorsements(source, chosen, url, pasted, progress) {
  const out = [];
  for (const box of chosen) {
    say(progress, t("askingCustodian", { name: box.dataset.name }));
    out.push(await source.post("/api/endorsements", { custodian: Number(box.value) }));
  }
  if (url) {
    say(progress, t("askingCustodian", { name: url }));
    out.push(await source.post("/api/endorsements", { url }));
  }
  return [...out, ...pasted];
}

async function create(source, page) {
  const progress = $("#create-progress");
  const threshold = Number($("#create-threshold").value);
  const graceHours = Number($("#create-grace").value || 0);
  const releasing = Number($("#create-t").value || 1); // t: custodians that must release
  const least = page.rules.minThreshold;
  if (!Number.isInteger(threshold) || threshold < least) throw new FieldError("#create-threshold", t("thresholdWhole", { least }));
  const date = $("#create-date").value.trim();
  let deadline;
  try {
    deadline = deadlineFrom($("#create-days").value, date, Date.now(), page.rules.minDeadline);
  } catch (error) {
    throw new FieldError(date ? "#create-date" : "#create-days", error.message);
  }
  const instructions = $("#create-instructions").value.trim();
  if (!instructions) throw new FieldError("#create-instructions", t("writeNextSteps"));
  const chosen = $$(".create-custodian:checked");
  const url = $("#create-custodian-url").value.trim();
  const pasted = pastedEndorsements(page);
  const count = chosen.length + (url ? 1 : 0) + pasted.length;
  const firstCustodian = $(".create-custodian") ?? $("#create-custodian-url");
  if (!count) throw new FieldError(firstCustodian, t("chooseCustodian"));
  const most = page.rules.maxCustodians;
  if (count > most) throw new FieldError(firstCustodian, t("atMostCustodians", { most }));
  if (!(releasing >= 1 && releasing <= count)) throw new FieldError("#create-t", t("custodianThresholdRange", { count }));
  const terms = {
    title: $("#create-title").value.trim(),
    description: $("#create-description").value.trim(),
    plan: $("#create-plan").value.trim(),
    threshold,
    deadline,
    gracePeriod: Math.round(graceHours * 3600),
    custodianThreshold: releasing,
    rosterMode: $("#create-mode").value,
  };
  say(progress, t("checkingCampaign"));
  try {
    await source.post("/api/relay/create/check", { terms, custodians: count });
  } catch (error) {
    throw refusedField(error);
  }
  const endorsed = await endorsements(source, chosen, url, pasted, progress);
  say(progress, t("sealingInstructions"));
  const secret = protocol.newSecret();
  const keys = protocol.deriveKeys(secret);
  const sealed = await protocol.sealInstructions({ chainId: page.chainId, registry: page.registry }, keys, instructions, endorsed.map((e) => protocol.fromHex(e.campaignKey)), releasing);
  say(progress, t("creatingRelayer"));
  const result = await source.post("/api/relay/create", createBody(terms, sealed, endorsed));
  const code = protocol.encodeReceipt(result.campaignId, secret);
  const slot = campaignSlot(page.registry, page.chainId, result.campaignId);
  if ($("#create-store").checked) storeReceipt(localStorage, slot, code, "organiser");
  show($("#create-form"), false);
  showReceipt(code, { slot, role: "organiser" });
  say(progress, t("createdWaiting", { id: result.campaignId }));
  const seen = await source.visible(result.campaignId);
  say(progress, seen
    ? t("created", { id: result.campaignId })
    : t("createdNotRead", { id: result.campaignId }));
  const link = $("#create-link");
  link.replaceChildren(el("a", t("openYourCampaign"), { href: source.link(result), id: "create-open" }));
  show(link);
}

// The site's refusals name the term they are about first ("title has 300 bytes; ...",
// spartacus.chain.rules): that term's field is the one to fix.
const TERM_FIELDS = {
  title: "#create-title", description: "#create-description", plan: "#create-plan",
  threshold: "#create-threshold", deadline: "#create-days", gracePeriod: "#create-grace",
  custodianThreshold: "#create-t",
};

/** The site's refusal of the terms, tied to the field it names (else as it came). */
function refusedField(error) {
  if (!(error instanceof ApiError) || !error.fromSite) return error;
  const term = /^(?:the )?(?:terms\.)?([A-Za-z]+)/.exec(error.message)?.[1];
  const field = TERM_FIELDS[term];
  return field && $(field) ? new FieldError(field, error.message) : error;
}

/**
 * Wait (up to a minute) until the site's index lists the new campaign, so its page opens.
 * The list answers 200 meanwhile, where the campaign's own URL would answer 503.
 */
async function visible(campaignId) {
  for (let i = 0; i < 60; i++) {
    try {
      const { campaigns } = await api("/api/campaigns");
      if (campaigns.some((c) => String(c.id) === String(campaignId))) return true;
    } catch {
      /* not ready yet: ask again */
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}
