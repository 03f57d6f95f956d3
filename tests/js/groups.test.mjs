// Membership groups in JavaScript, held to tests/vectors/groups.json (made by Python): the
// invitation's EIP-712 redemption signed with ethers as a browser will sign it, and a
// Semaphore identity's backup code giving the same commitment with the pinned npm version.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Wallet, TypedDataEncoder } from "ethers";
import { Identity } from "@semaphore-protocol/identity";

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
