// Private receipt links: /c/<id>#receipt=<code>[&role=organiser]. The code travels in the
// URL fragment, which browsers never send to a server (nor in a Referer). Opening the link
// restores the receipt on the campaign page and then removes the fragment from the address
// bar and from the history entry; nothing is kept in the browser unless the person asks.

import * as protocol from "./protocol/index.js";
import { $, say } from "./ui.js";

/** The private link for `code`, on the site of `here` (any URL of this site). */
export function receiptLink(here, code, role = "member") {
  const { campaignId } = protocol.decodeReceipt(code);
  const url = new URL(`/c/${campaignId}`, here);
  const params = new URLSearchParams({ receipt: code });
  if (role === "organiser") params.set("role", "organiser");
  url.hash = params.toString();
  return url.href;
}

/** {code, role} from a fragment such as "#receipt=sp2-...", or null. */
export function receiptFromFragment(hash) {
  const params = new URLSearchParams(String(hash).replace(/^#/, ""));
  const code = params.get("receipt");
  if (!code) return null;
  return { code: code.trim(), role: params.get("role") === "organiser" ? "organiser" : "member" };
}

/**
 * On a campaign page opened from a private link: take the code out of the address bar at
 * once, then put it in the withdraw and roster forms and show the receipt box (the callers'
 * `show(code, role)`). A code for another campaign is refused in #page-error.
 */
export function restoreFromLink(campaignId, show) {
  const found = receiptFromFragment(location.hash);
  if (!found) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  let forCampaign;
  try {
    ({ campaignId: forCampaign } = protocol.decodeReceipt(found.code));
  } catch (error) {
    say($("#page-error"), `The receipt link is damaged: ${error?.message ?? error}. Check that it was copied whole.`);
    return null;
  }
  if (String(forCampaign) !== String(campaignId)) {
    say($("#page-error"), `This receipt link is for campaign ${forCampaign}, not this one (${campaignId}).`);
    return null;
  }
  for (const id of ["#withdraw-code", "#roster-code"]) {
    const input = $(id);
    if (input) input.value = found.code;
  }
  show(found.code, found.role);
  return found;
}
