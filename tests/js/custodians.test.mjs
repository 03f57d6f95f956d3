// Custodian keys checked in the browser before sealing (frontend/src/custodians.js) and the
// endorsement signer (frontend/src/protocol/eip712.js). Run: node --test tests/js/

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { Wallet } from "ethers";

import * as c from "../../frontend/src/protocol/index.js";
import { KeyCheckFailed, UNKNOWN, checkCustodianKeys, custodianLabel } from "../../frontend/src/custodians.js";

const CHAIN = 31337;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const EXPIRY = 2000000000;
// The same endorsement made by Python (tests/protocol/test_endorsement.py): account key 0x11..11.
const SIGNER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
const PY_SIGNATURE = "0xb782d7c02cf754093cd80f36e2e86ba265c7255929348d56bad2b382cfc475a77aed541a20c77a8a6af3d253b518d71937c74d4ca712dde720f67127937d7f801b";
const DIRECTORY = [{ name: "Legal Aid Collective", account: SIGNER.toLowerCase(), url: null, contact: null, operator: false }];

before(async () => {
  await c.ready();
});

async function endorse(wallet, key) {
  const t = c.endorsementTypedData(CHAIN, REGISTRY, key, EXPIRY);
  return wallet.signTypedData(t.domain, t.types, t.message);
}

// As the site serves it: each custodian with the endorsement its CustodianAssigned log carries.
function campaign(signature, { served = KEY, account = SIGNER } = {}) {
  return {
    custodians: [{ index: 0, account, campaignKey: "0x" + c.toHex(served), expiry: EXPIRY, signature }],
    keyCheck: { ok: true, problem: null },
  };
}

describe("endorsement signer", () => {
  test("recovers the account that signed, the same for Python's and ethers' signatures", async () => {
    const wallet = new Wallet("0x" + "11".repeat(32));
    assert.equal(wallet.address, SIGNER);
    assert.equal(c.endorsementSigner(CHAIN, REGISTRY, KEY, EXPIRY, PY_SIGNATURE), SIGNER);
    assert.equal(c.endorsementSigner(CHAIN, REGISTRY, KEY, EXPIRY, await endorse(wallet, KEY)), SIGNER);
  });

  test("another key, expiry, chain or registry recovers someone else", () => {
    const other = KEY.slice();
    other[0] ^= 1;
    for (const args of [[CHAIN, REGISTRY, other, EXPIRY], [CHAIN, REGISTRY, KEY, EXPIRY + 1], [1, REGISTRY, KEY, EXPIRY],
      [CHAIN, "0x000000000000000000000000000000000000dEaD", KEY, EXPIRY]]) {
      assert.notEqual(c.endorsementSigner(...args, PY_SIGNATURE), SIGNER);
    }
  });

  test("a malformed signature is a CryptoError", () => {
    assert.throws(() => c.endorsementSigner(CHAIN, REGISTRY, KEY, EXPIRY, "0x1234"), c.CryptoError);
    assert.throws(() => c.endorsementSigner(CHAIN, REGISTRY, KEY, EXPIRY, "0x" + "00".repeat(65)), c.CryptoError);
  });
});

describe("custodian keys before sealing", () => {
  test("matching keys pass, named from the directory", () => {
    const [checked] = checkCustodianKeys(CHAIN, REGISTRY, campaign(PY_SIGNATURE), DIRECTORY);
    assert.deepEqual(checked.campaignKey, KEY);
    assert.equal(checked.label, "Legal Aid Collective (listed by this site)");
    const [unknown] = checkCustodianKeys(CHAIN, REGISTRY, campaign(PY_SIGNATURE), []);
    assert.equal(unknown.label, UNKNOWN);
  });

  test("a swapped key is refused, naming the custodian", () => {
    const attacker = c.fromHex("aa".repeat(32));
    assert.throws(
      () => checkCustodianKeys(CHAIN, REGISTRY, campaign(PY_SIGNATURE, { served: attacker }), DIRECTORY),
      (e) => e instanceof KeyCheckFailed && /Custodian 1 \(Legal Aid Collective\): the key this site served \(0xaaaa.*\) was not signed by this custodian \(the signature is by 0x/.test(e.message) && /Nothing was sealed or sent/.test(e.message),
    );
  });

  test("an invented custodian with its own signature is consistent but unknown", async () => {
    const impostor = Wallet.createRandom();
    const [checked] = checkCustodianKeys(CHAIN, REGISTRY, campaign(await endorse(impostor, KEY), { account: impostor.address }), DIRECTORY);
    assert.equal(checked.label, UNKNOWN);
    assert.equal(checked.listed, false);
  });

  test("a custodian with no endorsement signature, or no custodians, is refused", () => {
    const unsigned = { ...campaign("0x"), keyCheck: { ok: false, problem: "no signatures in the logs" } };
    assert.throws(() => checkCustodianKeys(CHAIN, REGISTRY, unsigned, DIRECTORY), /cannot check the custodians' keys of this campaign: no signatures in the logs/);
    const none = { ...campaign(PY_SIGNATURE), custodians: [] };
    assert.throws(() => checkCustodianKeys(CHAIN, REGISTRY, none, DIRECTORY), /lists custodians at positions none/);
  });

  test("the operator's relayer or a flagged entry is said to be the site's own", () => {
    assert.equal(custodianLabel(SIGNER, [], SIGNER.toLowerCase()).label, `${UNKNOWN}; run by this site's operator`);
    const flagged = [{ ...DIRECTORY[0], operator: true }];
    assert.equal(custodianLabel(SIGNER, flagged).label, "Legal Aid Collective (listed by this site); run by this site's operator");
  });
});
