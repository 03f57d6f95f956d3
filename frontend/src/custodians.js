// A campaign's custodians, checked in this browser before anything is sealed to them
// (mirrors spartacus/chain/key_check.py and spartacus/chain/directory.py's labels).
//
// The site serves the custodians as the CustodianAssigned logs name them: each with its
// campaign key and the endorsement (expiry, EIP-712 signature) the log carries (protocol v2),
// and its custodian directory. A node lying to the site can change the keys, but not a
// custodian's signature: each key must be the one the custodian signed (EIP-712
// Endorsement, recovered here), and a custodian is named only when the directory knows the
// account that signed. This protects against a lying node behind an honest site; a lying
// site serves this script too (#14).

import { endorsementSigner, fromHex } from "./protocol/index.js";
import { t } from "./i18n.js";

// In the page's language (English where there is no page, as in the node tests).
export const UNKNOWN = t("unknownCustodian");
const nothingSent = () => t("keysMayLie");

/** A custodian key does not match what the custodian signed, or cannot be checked. */
export class KeyCheckFailed extends Error {}

/** How a custodian is shown: the directory's name, or unknown; and if the site runs it. */
export function custodianLabel(account, directory = [], operator = null) {
  const wanted = String(account).toLowerCase();
  const entry = (directory ?? []).find((e) => String(e.account).toLowerCase() === wanted) ?? null;
  const isOperator = Boolean(entry?.operator) || (operator !== null && operator !== undefined && String(operator).toLowerCase() === wanted);
  let label = entry ? t("listedBySite", { name: entry.name }) : t("unknownCustodian");
  if (isOperator) label += t("runByOperator");
  return { name: entry?.name ?? null, listed: entry !== null, operator: isOperator, label };
}

/**
 * Check each custodian key of `campaign` (the site's /api/campaigns/<id> answer) against the
 * endorsement signature its CustodianAssigned log carries. Returns the custodians in order,
 * each with its key as bytes and its label; throws KeyCheckFailed naming the custodian
 * otherwise.
 */
export function checkCustodianKeys(chainId, registry, campaign, directory = [], operator = null) {
  const custodians = [...(campaign.custodians ?? [])].sort((a, b) => a.index - b.index);
  if (!custodians.length || custodians.some((c, i) => c.index !== i)) {
    throw new KeyCheckFailed(t("custodianPositions", { positions: custodians.map((c) => c.index + 1).join(", ") || t("none"), lying: nothingSent() }));
  }
  return custodians.map((c) => {
    const label = custodianLabel(c.account, directory, operator);
    const who = t("custodianWho", { number: c.index + 1, name: label.name ?? c.account });
    const served = String(c.campaignKey).toLowerCase();
    if (!c.signature || c.signature === "0x") {
      const why = campaign.keyCheck?.problem ?? "the site sent no endorsement signature";
      throw new KeyCheckFailed(t("cannotCheckKeys", { reason: why }));
    }
    let signer;
    try {
      signer = endorsementSigner(chainId, registry, fromHex(served), c.expiry, c.signature);
    } catch (error) {
      throw new KeyCheckFailed(`${who}: ${error.message}. ${nothingSent()}`);
    }
    if (signer.toLowerCase() !== String(c.account).toLowerCase()) {
      throw new KeyCheckFailed(t("keyNotSigned", { who, served, signer, lying: nothingSent() }));
    }
    return { index: c.index, account: c.account, campaignKey: fromHex(served), ...label };
  });
}

/** Show this browser's own check under the custodians, and label each one by it. */
export function showKeyCheck(page, campaign) {
  const area = document.querySelector("#custodian-check");
  if (!area) return;
  try {
    const checked = checkCustodianKeys(page.chainId, page.registry, campaign, page.directory, page.relayer);
    for (const c of checked) {
      const label = document.querySelector(`#custodian-${c.index} .custodian-label`);
      if (label) label.textContent = c.label;
    }
    area.textContent = t("keysChecked");
    area.className = "muted";
  } catch (error) {
    area.textContent = error.message;
    area.className = "error";
    // A key that fails the check is no detail: the folded custodians' box opens on it.
    const fold = area.closest("details");
    if (fold) fold.open = true;
  }
  area.hidden = false;
}
