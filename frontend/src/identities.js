// Semaphore membership identities kept in this browser, one per (chain, groups contract,
// group), and their backup files (docs/web.md, "Groups").
//
// localStorage["spartacus.identities"] = {"<chainId>:<groups lowercase>:<groupId>": record}
// record (and the backup file) = the CLI's identity file, key for key
// (spartacus/cli/group.py, _save_identity):
//   {"chainId": 31337, "groups": "0x…", "group": 1, "commitment": "<decimal>", "backup": "<44 base64>"}
// so a member moves between `spartacus group redeem` / `group restore` and the browser with
// the same file. `backup` is Semaphore's Identity.export(): whoever holds it is the member.

import { Identity } from "@semaphore-protocol/identity";
import { getAddress } from "ethers";

export const STORAGE_KEY = "spartacus.identities";
// Neutral: a downloads folder says nothing about the site or the group.
export const BACKUP_FILENAME = "key.json";
const BACKUP = /^[A-Za-z0-9+/]{43}=$/;

export function identitySlot(chainId, groups, groupId) {
  return `${Number(chainId)}:${String(groups).toLowerCase()}:${Number(groupId)}`;
}

function load(storage) {
  try {
    const data = JSON.parse(storage.getItem(STORAGE_KEY) ?? "{}");
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

/** A new identity for a group, as the record kept and backed up. */
export function newRecord(chainId, groups, groupId) {
  const identity = new Identity();
  return record(chainId, groups, groupId, identity);
}

function record(chainId, groups, groupId, identity) {
  return {
    chainId: Number(chainId),
    groups: getAddress(groups),
    group: Number(groupId),
    commitment: identity.commitment.toString(),
    backup: identity.export(),
  };
}

export function keptIdentity(storage, chainId, groups, groupId) {
  const found = load(storage)[identitySlot(chainId, groups, groupId)];
  return found && typeof found.backup === "string" ? found : null;
}

export function keepIdentity(storage, kept) {
  const data = load(storage);
  data[identitySlot(kept.chainId, kept.groups, kept.group)] = kept;
  storage.setItem(STORAGE_KEY, JSON.stringify(data));
}

export function forgetIdentity(storage, chainId, groups, groupId) {
  const data = load(storage);
  delete data[identitySlot(chainId, groups, groupId)];
  storage.setItem(STORAGE_KEY, JSON.stringify(data));
}

/** The backup file's text: the CLI's format (json.dumps(record, indent=1) + "\n"). */
export function backupText(kept) {
  const { chainId, groups, group, commitment, backup } = kept;
  return `${JSON.stringify({ chainId, groups, group, commitment, backup }, null, 1)}\n`;
}

/**
 * Read a backup file (this page's or the CLI's) for group `groupId` of `groups` on
 * `chainId`; throws an Error saying what is wrong. The commitment is recomputed from the
 * backup code, never trusted from the file.
 */
export function readBackup(text, chainId, groups, groupId) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error("this file is not a membership backup (it is not JSON)");
  }
  if (!data || typeof data.backup !== "string" || !BACKUP.test(data.backup.trim())) {
    throw new Error("this file is not a membership backup (no 44-character backup code in it)");
  }
  if (Number(data.chainId) !== Number(chainId) || String(data.groups ?? "").toLowerCase() !== String(groups).toLowerCase()) {
    throw new Error(`this backup is for chain ${data.chainId}, groups contract ${data.groups}; this site uses chain ${chainId}, ${groups}`);
  }
  if (Number(data.group) !== Number(groupId)) {
    throw new Error(`this backup is for group ${data.group}, not group ${groupId}`);
  }
  const identity = Identity.import(data.backup.trim());
  if (data.commitment !== undefined && String(data.commitment) !== identity.commitment.toString()) {
    throw new Error("this backup's commitment does not match its code: the file was altered");
  }
  return record(chainId, groups, groupId, identity);
}

export function identityOf(kept) {
  return Identity.import(kept.backup);
}
