// The receipt box shown after joining or creating, or when a private receipt link is
// opened: the code, copy, download, the private link (bookmark, share sheet, e-mail to
// oneself), "keep in this browser", and the plain warning about what it is.

import { receiptLink } from "./receipt-link.js";
import { storeReceipt, storedReceipts } from "./receipts.js";
import { t } from "./i18n.js";
import { $, copyText, download, say, show } from "./ui.js";

// A downloaded file's name says nothing about the site or the campaign: a downloads folder
// is what someone going through a device looks at first.
export const RECEIPT_FILENAME = "code.txt";

/**
 * Show `code` in the #receipt box. `slot` and `role` let the person keep it in this browser
 * with one click (#receipt-keep), shown only while it is not kept there; `onKept` runs then.
 */
export function showReceipt(code, { slot = null, role = "member", onKept = null } = {}) {
  const box = $("#receipt");
  $("#receipt-code").textContent = code;
  $("#receipt-copy").onclick = () => copyText(code, $("#receipt-status"));
  $("#receipt-download").onclick = () => {
    download(RECEIPT_FILENAME, `${t("receiptFile")}\n\n${code}\n`);
    say($("#receipt-status"), t("downloaded"));
  };
  offerLink(code, role);
  const keep = $("#receipt-keep");
  if (keep) {
    const kept = slot !== null && storedReceipts(localStorage, slot).some((r) => r.code === code);
    show(keep, slot !== null && !kept);
    keep.onclick = () => {
      storeReceipt(localStorage, slot, code, role);
      show(keep, false);
      say($("#receipt-status"), t("keptHere"));
      onKept?.();
    };
  }
  show(box);
  box.scrollIntoView({ block: "center" });
  $("#receipt-code").focus();
}

/** The private link: to bookmark, to share with the share sheet, or to e-mail to oneself. */
function offerLink(code, role) {
  const anchor = $("#receipt-link");
  if (!anchor) return;
  const link = receiptLink(location.href, code, role, { staticCopy: document.body.dataset.page === "static" });
  anchor.href = link;
  $("#receipt-link-copy").onclick = () => copyText(link, $("#receipt-status"));
  const text = t("linkText");
  const subject = t("linkSubject");
  // A mailto: link the person opens themselves; no recipient is filled in, nothing is sent
  // by the site, and the subject names neither the site nor the campaign.
  $("#receipt-mail").href = `mailto:?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(`${text}\n\n${link}\n`)}`;
  const share = $("#receipt-share");
  show(share, typeof navigator.share === "function");
  share.onclick = async () => {
    try {
      await navigator.share({ title: subject, text, url: link });
    } catch {
      /* closed without sharing */
    }
  };
}
