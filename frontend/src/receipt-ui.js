// The receipt box shown after joining or creating: the code, copy, download, and the
// plain warning about what it is.

import { $, copyText, download, say, show } from "./ui.js";

// A downloaded file's name says nothing about the site or the campaign: a downloads folder
// is what someone going through a device looks at first.
export const RECEIPT_FILENAME = "code.txt";

export function showReceipt(code) {
  const box = $("#receipt");
  $("#receipt-code").textContent = code;
  $("#receipt-copy").onclick = () => copyText(code, $("#receipt-status"));
  $("#receipt-download").onclick = () => {
    download(RECEIPT_FILENAME, `Receipt code (keep it secret, keep it safe)\n\n${code}\n`);
    say($("#receipt-status"), "Downloaded.");
  };
  show(box);
  box.scrollIntoView({ block: "center" });
  $("#receipt-code").focus();
}
