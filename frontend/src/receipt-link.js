// Private receipt links: the fragment is always `#receipt=<code>[&role=organiser]`, on either
// host: the Flask site's /c/<id>#receipt=..., or the static copy's page <copy>/#receipt=...
// (its views are `#/...` routes; a fragment that starts with "receipt=" is no route, and the
// code itself names its campaign, so the copy opens that campaign's view from it). The code
// travels in the URL fragment, which browsers never send to a server (nor in a Referer).
// Opening the link restores the receipt on the campaign page and then removes the code from
// the address bar and from the history entry; nothing is kept in the browser unless the
// person asks.

import * as protocol from "./protocol/index.js";
import { t } from "./i18n.js";
import { $, say } from "./ui.js";

/**
 * The private link for `code`, on the site of `here` (any URL of this site): its campaign's
 * page /c/<id>, or with `staticCopy` the static copy's one page (`here` without fragment).
 */
export function receiptLink(here, code, role = "member", { staticCopy = false } = {}) {
  const { campaignId } = protocol.decodeReceipt(code);
  const url = staticCopy ? new URL(here) : new URL(`/c/${campaignId}`, here);
  const params = new URLSearchParams({ receipt: code });
  if (role === "organiser") params.set("role", "organiser");
  url.hash = params.toString();
  return url.href;
}

/** {code, role} from a fragment such as "#receipt=sp2-...", or null (a route "#/c/7", ...). */
export function receiptFromFragment(hash) {
  if (/^#?\//.test(String(hash))) return null;
  const params = new URLSearchParams(String(hash).replace(/^#/, ""));
  const code = params.get("receipt");
  if (!code) return null;
  return { code: code.trim(), role: params.get("role") === "organiser" ? "organiser" : "member" };
}

/**
 * On a campaign page opened from a private link: take the code out of the address bar at
 * once, then put it in the withdraw and roster forms and show the receipt box (the callers'
 * `show(code, role)`). A code for another campaign is refused in #page-error. `clean` is
 * the address left in its place (the static copy's keeps its route, "#/c/<id>").
 */
export function restoreFromLink(campaignId, show, clean = () => location.pathname + location.search) {
  const found = receiptFromFragment(location.hash);
  if (!found) return null;
  history.replaceState(history.state, "", clean());
  let forCampaign;
  try {
    ({ campaignId: forCampaign } = protocol.decodeReceipt(found.code));
  } catch (error) {
    say($("#page-error"), t("linkDamaged", { reason: error?.message ?? error }));
    return null;
  }
  if (String(forCampaign) !== String(campaignId)) {
    say($("#page-error"), t("linkOtherCampaign", { other: forCampaign, id: campaignId }));
    return null;
  }
  for (const id of ["#withdraw-code", "#roster-code"]) {
    const input = $(id);
    if (input) input.value = found.code;
  }
  show(found.code, found.role);
  return found;
}
