// Entry point of the pages' script (bundled by frontend/build.mjs into
// spartacus/web/static/dist/app.js). document.body.dataset.page picks the controller.
//
// Element ids the pages and the end-to-end tests share:
//   campaign: #count #progress #status #countdown #rate-chart
//             #join-form #join-name #join-contact #join-message #join-store #join-wallet
//             #join-submit #join-progress #join-error #join-closed #join-after-reveal
//             #hidden-notice
//             #receipt #receipt-code #receipt-copy #receipt-download #receipt-status
//             #withdraw-form #withdraw-stored #withdraw-code #withdraw-submit
//             #withdraw-result #withdraw-error
//             #roster-form #roster-stored #roster-code #roster-submit #roster-error
//             #roster-result #roster-table #roster-instructions #roster-missing
//             #roster-problems #roster-csv #roster-vcard
//             #share-url #share-copy #share-status
//   create:   #create-form #create-title #create-description #create-plan
//             #create-instructions #create-threshold #create-days #create-date #create-grace
//             .create-custodian #create-custodian-url #create-endorsement #create-t
//             #create-mode #create-store #create-submit #create-progress #create-error
//             #create-link (then #create-open, once the site has read the new campaign)
//             and the #receipt box
//             #receipt-link #receipt-link-copy #receipt-share #receipt-mail #receipt-keep
//             (a private link /c/<id>#receipt=<code> opens the page with the receipt ready)
//             #join-wallet-picker #join-wallet-choice #withdraw-wallet-picker
//             #withdraw-wallet-choice (shown when several EIP-6963 wallets answer)
//   home:     #my-campaigns #my-campaigns-list (li[data-campaign] .my-status)
//             #my-campaigns-error
//   report:   #report-form #report-reason #report-details #report-submit, then #report-done
//             (a plain form; no script)
//   any page: #page-error (the script could not start); error page: #error-message
//   static copy (index.html of `spartacus export-site`, static-site.js): #view, #config-form
//             #config-rpc #config-relayer #config-save #config-reset #config-note
//             #config-registry; home: #campaign-list #campaign-none; the campaign and
//             create views hold the ids above, and the campaign view #report-field
//             #report-link #report-host (the relayer's report form, if there is a relayer);
//             a private link <copy>/#receipt=<code> opens the campaign the code names

import { campaignPage } from "./campaign.js";
import { createPage } from "./create.js";
import { homePage } from "./home.js";
import { staticSite } from "./static-site.js";
import { t } from "./i18n.js";
import { $, say } from "./ui.js";

const pages = { campaign: () => campaignPage(), create: () => createPage(), home: homePage, static: staticSite };

async function main() {
  document.documentElement.classList.add("js");
  const run = pages[document.body.dataset.page];
  if (!run) return;
  try {
    await run();
  } catch (error) {
    say($("#page-error"), t("pageCouldNotStart", { reason: error?.message ?? error }));
  }
}

main();
