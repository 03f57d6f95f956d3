// Invitations and membership proofs in the browser (docs/protocol.md, "Membership groups").
//
// - parseInvitation / signRedemption: the invitation code `<group>-<base64url key>` and the
//   EIP-712 Invitation(groupId, commitment) its key signs (spartacus/protocol/groups.py).
// - proveMembership({groupId, scope, message}): a Semaphore v4 proof at depth 16 from the
//   identity kept in this browser and the group's members as read from the chain, in the
//   shape SpartacusGroups.verifyMembership takes. The proving files are this site's own
//   (static/dist/semaphore-16.{wasm,zkey}, copied from @zk-kit/semaphore-artifacts by the
//   build), checked against the sha256 the build wrote into this bundle: nothing comes from
//   a CDN. This is the seam gated pledges use (scope = MembershipScope.scope(registry,
//   campaignId), message = the pledge's digest with its account nonce).

import { Group } from "@semaphore-protocol/group";
import { generateProof } from "@semaphore-protocol/proof";
import { AbiCoder, Wallet, getAddress, hexlify, keccak256 } from "ethers";

import { identityOf, keptIdentity } from "./identities.js";
import { pledgeTypedData, typedDataDigest } from "./protocol/index.js";
import { t } from "./i18n.js";
import { api } from "./ui.js";

export const DEPTH = 16; // SpartacusGroups.DEPTH
// Written by frontend/build.mjs (esbuild define): the proving files' sha256, so this bundle's
// hash in the site manifest pins them too.
// Outside the bundle (node --test) there is none, and proving refuses to start.
const PROVING_SHA256 = typeof __SEMAPHORE_SHA256__ === "object" ? __SEMAPHORE_SHA256__ : null; // eslint-disable-line no-undef
const CODE = /^([1-9][0-9]{0,30})-([A-Za-z0-9_-]{43})$/;

/** The scope of a campaign's membership proofs (contracts/libraries/MembershipScope.sol,
 * SpartacusGroups.scopeOf): uint256(keccak256(abi.encode(chainId, registry, campaignId))). */
export function membershipScope(chainId, registry, campaignId) {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "uint256"],
    [BigInt(chainId), getAddress(registry), BigInt(campaignId)],
  );
  return BigInt(keccak256(encoded));
}

/** The message a gated pledge's proof carries (spartacus/protocol/groups.py
 * membership_message): uint256(keccak256(abi.encode(digest, account))), `digest` the EIP-712
 * digest of the Pledge the account signs (its bytes, nonce and validUntil). */
export function membershipMessage(pledgeDigest, account) {
  const encoded = AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [hexlify(pledgeDigest), getAddress(account)]);
  return BigInt(keccak256(encoded));
}

/** An invitation code's group and key; throws an Error saying what is wrong. */
export function parseInvitation(code) {
  const match = CODE.exec(String(code ?? "").trim());
  if (!match) {
    throw new Error(t("invitationShape"));
  }
  const b64 = match[2].replace(/-/g, "+").replace(/_/g, "/") + "=";
  const key = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  let wallet;
  try {
    wallet = new Wallet(hexlify(key));
  } catch {
    throw new Error(t("invitationNoKey"));
  }
  return { groupId: BigInt(match[1]), wallet };
}

/** The redemption signature: Invitation(groupId, commitment) in SpartacusGroups' domain. */
export async function signRedemption(invitation, chainId, groups, commitment) {
  const domain = { name: "SpartacusGroups", version: "1", chainId: BigInt(chainId), verifyingContract: getAddress(groups) };
  const types = { Invitation: [{ name: "groupId", type: "uint256" }, { name: "commitment", type: "uint256" }] };
  return invitation.wallet.signTypedData(domain, types, { groupId: invitation.groupId, commitment: BigInt(commitment) });
}

async function provingFile(url, expected) {
  const response = await fetch(url, { credentials: "omit" });
  if (!response.ok) throw new Error(t("provingFileLoad", { url, status: response.status }));
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== expected) throw new Error(t("provingFileOther", { url }));
  return bytes;
}

let files = null;
/** The depth-16 wasm and zkey, fetched once from this site and checked: they sit beside this
 * script (static/dist/, where the build puts both). */
export function provingFiles(base = new URL(".", import.meta.url).href.replace(/\/$/, "")) {
  if (!PROVING_SHA256) throw new Error(t("provingNoHashes"));
  files ??= Promise.all([
    provingFile(`${base}/semaphore-${DEPTH}.wasm`, PROVING_SHA256.wasm),
    provingFile(`${base}/semaphore-${DEPTH}.zkey`, PROVING_SHA256.zkey),
  ]).then(([wasm, zkey]) => ({ wasm, zkey }), (error) => {
    files = null;
    throw error;
  });
  return files;
}

/** The group's commitments in leaf order, as the chain's events hold them; the root they
 * make must be the one the chain reports. */
export async function groupMembers(groupId) {
  for (let attempt = 0; ; attempt += 1) {
    const answer = await api(`/api/groups/${groupId}/members`);
    const group = new Group(answer.members.map((m) => BigInt(m)));
    if (group.root.toString() === String(answer.root) || (group.size === 0 && answer.root === "0")) return group;
    if (attempt >= 2) throw new Error(t("groupRootMismatch", { group: groupId }));
  }
}

/**
 * Prove membership of group `groupId` for (`scope`, `message`) with the identity this
 * browser keeps for it (page data names the chain and groups contract). Returns
 * {merkleTreeDepth, merkleTreeRoot, nullifier, message, scope, points} with numbers as
 * decimal strings, as SpartacusGroups.verifyMembership and the relayer take them.
 */
export async function proveMembership({ chainId, groups, groupId, scope, message, storage = localStorage }) {
  const kept = keptIdentity(storage, chainId, groups, groupId);
  if (!kept) {
    throw new Error(t("onlyMembers", { group: groupId }));
  }
  const identity = identityOf(kept);
  const [group, artifacts] = await Promise.all([groupMembers(groupId), provingFiles()]);
  if (group.indexOf(identity.commitment) < 0) {
    throw new Error(t("notYetMember", { group: groupId }));
  }
  const proof = await generateProof(identity, group, BigInt(message), BigInt(scope), DEPTH, artifacts);
  return {
    merkleTreeDepth: Number(proof.merkleTreeDepth),
    merkleTreeRoot: proof.merkleTreeRoot.toString(),
    nullifier: proof.nullifier.toString(),
    message: proof.message.toString(),
    scope: proof.scope.toString(),
    points: proof.points.map((p) => p.toString()),
  };
}

/**
 * A gated pledge's proof: membership of the campaign's group (`page`: {chainId, registry,
 * campaignId, groups, group}) for its scope and the message binding `sealed`, `account`, its
 * `nonce` and `validUntil` (what the pledge signature signs).
 */
export function pledgeProof(page, sealed, account, nonce, validUntil) {
  return proveMembership({
    chainId: page.chainId,
    groups: page.groups,
    groupId: page.group,
    scope: membershipScope(page.chainId, page.registry, page.campaignId),
    message: pledgeMessage(page, sealed, account, nonce, validUntil),
  });
}

/** The message of a gated pledge's proof (page: {chainId, registry, campaignId}), held to
 * tests/vectors/protocol.json's "gated" section by tests/js. */
export function pledgeMessage(page, sealed, account, nonce, validUntil) {
  const typed = pledgeTypedData(page.chainId, page.registry, page.campaignId, sealed, nonce, validUntil);
  return membershipMessage(typedDataDigest(typed), account);
}
