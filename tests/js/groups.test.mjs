// Membership groups in JavaScript, held to tests/vectors/groups.json (made by Python): the
// invitation's EIP-712 redemption signed with ethers as a browser will sign it, and a
// Semaphore identity's backup code giving the same commitment with the pinned npm version.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Wallet, TypedDataEncoder } from "ethers";
import { Identity } from "@semaphore-protocol/identity";

import { backupText, readBackup } from "../../frontend/src/identities.js";
import { parseInvitation, signRedemption } from "../../frontend/src/membership.js";

const VECTORS = JSON.parse(readFileSync(new URL("../vectors/groups.json", import.meta.url), "utf8"));
const DOMAIN = (v) => ({ name: "SpartacusGroups", version: "1", chainId: v.chainId, verifyingContract: v.groups });
const TYPES = { Invitation: [{ name: "groupId", type: "uint256" }, { name: "commitment", type: "uint256" }] };

test("an invitation code's key signs the redemption Python signs", async () => {
  const v = VECTORS.invitation;
  const [group, key64] = v.code.split("-");
  assert.equal(Number(group), v.groupId);
  const key = Buffer.from(key64, "base64url");
  assert.equal("0x" + key.toString("hex"), v.key);
  const wallet = new Wallet(v.key);
  assert.equal(wallet.address, v.address);
  const message = { groupId: v.groupId, commitment: BigInt(v.commitment) };
  assert.equal(TypedDataEncoder.hash(DOMAIN(v), TYPES, message), v.digest);
  assert.equal(await wallet.signTypedData(DOMAIN(v), TYPES, message), v.signature);
});

test("an identity backup code restores its commitment", () => {
  const v = VECTORS.identity;
  const identity = Identity.import(v.backup);
  assert.equal(identity.commitment.toString(), v.commitment);
  assert.equal(identity.export(), v.backup);
});

// The page's own code (frontend/src/membership.js, identities.js) on the same vectors.

test("the group page reads an invitation code and signs the redemption Python signs", async () => {
  const v = VECTORS.invitation;
  const invitation = parseInvitation(` ${v.code} `);
  assert.equal(invitation.groupId, BigInt(v.groupId));
  assert.equal(invitation.wallet.address, v.address);
  assert.equal(await signRedemption(invitation, v.chainId, v.groups.toLowerCase(), v.commitment), v.signature);
  assert.throws(() => parseInvitation("3-ERERER"), /copied whole/);
  assert.throws(() => parseInvitation(`3-${"A".repeat(43)}`), /no valid key/); // key 0
});

test("a browser backup is the CLI's identity file, and an altered one is refused", () => {
  const v = VECTORS.identity;
  const groups = VECTORS.invitation.groups;
  // What spartacus/cli/group.py writes: json.dumps(record, indent=1) + "\n".
  const cli = `{\n "chainId": 31337,\n "groups": "${groups}",\n "group": 3,\n "commitment": "${v.commitment}",\n "backup": "${v.backup}"\n}\n`;
  const kept = readBackup(cli, 31337, groups.toLowerCase(), 3);
  assert.equal(kept.commitment, v.commitment);
  assert.equal(backupText(kept), cli);
  const altered = cli.replace(v.commitment, "12345");
  assert.throws(() => readBackup(altered, 31337, groups, 3), /does not match its code/);
  assert.throws(() => readBackup(cli, 31337, groups, 4), /for group 3, not group 4/);
  assert.throws(() => readBackup(cli, 10, groups, 3), /is for chain 31337/);
  assert.throws(() => readBackup("{}", 31337, groups, 3), /not a membership backup/);
});
