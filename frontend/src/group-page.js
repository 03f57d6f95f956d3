// Entry point of the group pages' script (bundled by frontend/build.mjs into
// spartacus/web/static/dist/groups.js): /g/<id> and /g/<id>/join#<invitation code>.
//
// Element ids the page and the end-to-end tests share:
//   #group-size #group-admin #group-invitations
//   join:     #redeem-form #redeem-submit #redeem-progress #redeem-error #redeem-done
//             #redeem-missing
//   identity: #identity-none #identity-kept #identity-commitment #identity-warning
//             #identity-download #identity-status #restore-form #restore-file #restore-error
//   any page: #page-error
// The page also offers `window.spartacus.proveMembership(groupId, scope, message)` and
// `membershipScope(registry, campaignId)` (see membership.js): a proof from the identity kept
// here, for campaigns gated to the group.

import { BACKUP_FILENAME, backupText, forgetIdentity, keepIdentity, keptIdentity, newRecord, readBackup } from "./identities.js";
import { groupMembers, membershipScope, parseInvitation, proveMembership, signRedemption } from "./membership.js";
import { t } from "./i18n.js";
import { $, api, busy, download, pageData, ready, refused, say, show } from "./ui.js";

function showIdentity(page) {
  const kept = keptIdentity(localStorage, page.chainId, page.groups, page.groupId);
  show($("#identity-none"), !kept);
  show($("#identity-kept"), Boolean(kept));
  if (!kept) return;
  $("#identity-commitment").textContent = kept.commitment;
  $("#identity-download").onclick = () => {
    download(BACKUP_FILENAME, backupText(kept), "application/json");
    say($("#identity-status"), t("backupDownloaded"));
  };
}

async function isMember(groupId, commitment) {
  const group = await groupMembers(groupId);
  return group.indexOf(BigInt(commitment)) >= 0;
}

async function redeem(page, invitation) {
  const progress = $("#redeem-progress");
  let kept = keptIdentity(localStorage, page.chainId, page.groups, page.groupId);
  if (kept && (await isMember(page.groupId, kept.commitment))) return kept;
  const made = !kept;
  if (made) {
    say(progress, t("makingIdentity"));
    kept = newRecord(page.chainId, page.groups, page.groupId);
    keepIdentity(localStorage, kept); // before sending: never lost once it may be in the group
  }
  say(progress, t("joiningGroup"));
  const signature = await signRedemption(invitation, page.chainId, page.groups, kept.commitment);
  try {
    const answer = await api(`/api/groups/${page.groupId}/redeem`, { commitment: kept.commitment, signature });
    $("#group-size").textContent = String(answer.size);
    return kept;
  } catch (error) {
    // A refusal means nothing was added, unless this very redemption was sent by someone
    // else first (a copy from the mempool adds the same commitment): check the group.
    if (refused(error) && !(await isMember(page.groupId, kept.commitment).catch(() => false))) {
      if (made) forgetIdentity(localStorage, page.chainId, page.groups, page.groupId);
      throw error;
    }
    if (!refused(error)) {
      throw new Error(t("identityKeptReload", { reason: error.message }));
    }
    return kept;
  } finally {
    say(progress, "");
  }
}

function joinForm(page, code) {
  const form = $("#redeem-form");
  if (!form) return;
  if (!code) {
    show($("#redeem-missing"));
    show(form, false);
    return;
  }
  let invitation;
  try {
    invitation = parseInvitation(code);
  } catch (error) {
    say($("#redeem-error"), t("invitationDamaged", { reason: error.message }));
    return;
  }
  if (String(invitation.groupId) !== String(page.groupId)) {
    say($("#redeem-error"), t("invitationOtherGroup", { other: invitation.groupId, id: page.groupId }));
    return;
  }
  form.onsubmit = (event) => {
    event.preventDefault();
    busy($("#redeem-submit"), $("#redeem-error"), async () => {
      await redeem(page, invitation);
      show(form, false);
      show($("#redeem-done"));
      $("#redeem-done").focus();
      showIdentity(page);
    });
  };
  ready($("#redeem-submit"));
}

function restoreForm(page) {
  const input = $("#restore-file");
  input.onchange = async () => {
    say($("#restore-error"), "");
    const file = input.files?.[0];
    if (!file) return;
    try {
      const kept = readBackup(await file.text(), page.chainId, page.groups, page.groupId);
      const before = keptIdentity(localStorage, page.chainId, page.groups, page.groupId);
      if (before && before.backup !== kept.backup) {
        throw new Error(t("anotherIdentity"));
      }
      keepIdentity(localStorage, kept);
      showIdentity(page);
      if (!(await isMember(page.groupId, kept.commitment))) {
        say($("#restore-error"), t("restoredNotMember"));
      }
    } catch (error) {
      say($("#restore-error"), error?.message ?? String(error));
    } finally {
      input.value = "";
    }
  };
}

function main() {
  document.documentElement.classList.add("js");
  const page = pageData();
  // The invitation code is in the fragment: take it out of the address bar and history at once.
  const code = location.hash.length > 1 ? decodeURIComponent(location.hash.slice(1)) : null;
  if (code) history.replaceState(history.state, "", location.pathname + location.search);
  try {
    showIdentity(page);
    joinForm(page, code);
    restoreForm(page);
    window.spartacus = {
      proveMembership: (groupId, scope, message) =>
        proveMembership({ chainId: page.chainId, groups: page.groups, groupId, scope, message }),
      membershipScope: (registry, campaignId) => membershipScope(page.chainId, registry, campaignId).toString(),
    };
  } catch (error) {
    say($("#page-error"), t("pageCouldNotStart", { reason: error?.message ?? error }));
  }
}

main();
