// The receipt box shown after joining or creating: the code, copy, download, and the
// plain warning about what it is.

import { $, copyText, download, say, show } from "./ui.js";

export function showReceipt(code, filename) {
  const box = $("#receipt");
  $("#receipt-code").textContent = code;
  $("#receipt-copy").onclick = () => copyText(code, $("#receipt-status"));
  $("#receipt-download").onclick = () => {
    download(filename, `Spartacus receipt code (keep it secret, keep it safe)\n\n${code}\n`);
    say($("#receipt-status"), "Downloaded.");
  };
  show(box);
  box.scrollIntoView({ block: "center" });
  $("#receipt-code").focus();
}
