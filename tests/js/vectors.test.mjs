// frontend/src/protocol/ against tests/vectors/protocol.json (the vectors the Python tests use).
// Run from the repository root: node --test tests/js/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";

import sodium from "libsodium-wrappers";
import { combine as shamirCombine } from "shamir-secret-sharing";

import * as c from "../../frontend/src/protocol/index.js";

const V = JSON.parse(readFileSync(new URL("../vectors/protocol.json", import.meta.url), "utf8"));
const h = c.fromHex;
const hex = c.toHex;

const record = (r) => ({
  index: r.index,
  account: r.account,
  memberKey: h(r.member_key),
  ciphertext: h(r.ciphertext),
  boxes: h(r.boxes),
  commitment: h(r.commitment),
});
const deployment = (d) => ({ chainId: d.chain_id, registry: d.registry });
const D = deployment(V.deployment);
const OTHER_REGISTRY = { ...D, registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" };
const OTHER_CHAIN = { ...D, chainId: 10 };
const custodianSecret = (i) => h(V.custodians[i].secret_key);
const custodianPublic = (i) => h(V.custodians[i].public_key);

function* combinations(items, k, start = 0, prefix = []) {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i < items.length; i++) yield* combinations(items, k, i + 1, [...prefix, items[i]]);
}

before(async () => {
  await c.ready();
  await sodium.ready;
});

describe("keys", () => {
  test("deriveKeys matches every KDF vector", () => {
    for (const v of V.kdf) {
      const keys = c.deriveKeys(h(v.secret));
      assert.equal(hex(keys.accountKey), v.account_key);
      assert.equal(keys.account, v.account);
      assert.equal(hex(keys.memberSecret), v.member_secret);
      assert.equal(hex(keys.memberKey), v.member_key);
      assert.equal(hex(keys.pledgeKey), v.pledge_key);
    }
  });

  test("deriveKeys refuses a secret of the wrong length", () => {
    assert.throws(() => c.deriveKeys(new Uint8Array(31)), c.InvalidSecret);
  });

  test("custodian public keys derive from their secret keys", () => {
    for (const custodian of V.custodians) {
      assert.equal(hex(sodium.crypto_scalarmult_base(h(custodian.secret_key))), custodian.public_key);
    }
  });
});

describe("payloads", () => {
  test("pad and unpad match the vectors", () => {
    for (const v of V.pad) {
      assert.equal(hex(c.pad(h(v.data))), v.padded);
      assert.equal(hex(c.unpad(h(v.padded))), v.data);
    }
  });

  test("encodeContact and decodeContact match the vectors", () => {
    for (const v of V.contacts.valid) {
      const contact = { name: v.name, contact: v.contact, message: v.message };
      if (v.mail) contact.mail = true;
      assert.equal(new TextDecoder().decode(c.contactJson(contact)), v.json);
      assert.equal(hex(c.encodeContact(contact)), v.plain);
      assert.deepEqual(c.decodeContact(h(v.plain)), contact);
    }
  });

  test("encodeContact refuses what the vectors refuse", () => {
    for (const v of V.contacts.too_large) {
      assert.throws(
        () => c.encodeContact(v),
        (e) => e instanceof c.PayloadTooLarge && e.message.includes(`${v.json_bytes} bytes`),
      );
    }
    for (const v of V.contacts.invalid) assert.throws(() => c.encodeContact(v), c.InvalidPayload);
    assert.throws(() => c.encodeContact({ name: "a", contact: "\ud800" }), c.InvalidPayload);
  });

  test("decodeContact refuses every bad plaintext vector", () => {
    for (const plain of V.contacts.bad_plaintexts)
      assert.throws(() => c.decodeContact(h(plain)), c.InvalidPayload);
  });

  test("encodeInstructions matches the vectors", () => {
    for (const v of V.instructions) {
      assert.equal(hex(c.encodeInstructions(v.text)), v.plain);
      assert.equal(c.decodeInstructions(h(v.plain)), v.text);
    }
    assert.throws(() => c.encodeInstructions("x".repeat(4096)), c.PayloadTooLarge);
  });
});

describe("pledges", () => {
  for (const v of V.pledges) {
    test(`${v.label}: ciphertext, binding, commitment, boxes and shares match`, async () => {
      const keys = c.deriveKeys(h(v.keys.secret));
      const rec = record(v.record);
      const cid = rec.index === 0 ? 0 : v.campaign_id;
      assert.equal(hex(c.pledgeAd(D, cid, keys.memberKey, rec.account)), v.ad);
      const ciphertext = c.encryptPayload(
        keys.pledgeKey,
        D,
        cid,
        keys.memberKey,
        rec.account,
        h(v.plain),
        h(v.nonce),
      );
      assert.equal(hex(ciphertext), v.record.ciphertext);
      assert.equal(hex(c.binding(D, cid, keys.memberKey, rec.account, ciphertext)), v.binding);
      assert.equal(hex(c.commitment(keys.pledgeKey)), v.record.commitment);
      const plain = c.decryptPayload(keys.pledgeKey, D, cid, keys.memberKey, rec.account, ciphertext);
      assert.equal(hex(plain), v.plain);
      for (const elsewhere of [OTHER_REGISTRY, OTHER_CHAIN]) {
        assert.throws(
          () => c.decryptPayload(keys.pledgeKey, elsewhere, cid, keys.memberKey, rec.account, ciphertext),
          c.InvalidCiphertext,
        );
      }
      if (rec.index === 0) assert.equal(c.decodeInstructions(plain), v.instructions);
      else assert.deepEqual(c.decodeContact(plain), v.contact);
      const shares = [];
      for (let i = 0; i < v.n; i++)
        shares.push(c.openBox(custodianSecret(i), D, v.campaign_id, rec, i, v.n, v.t));
      assert.deepEqual(shares.map(hex), v.shares);
      for (const subset of combinations(shares, v.t)) {
        assert.equal(hex(await c.combineShares(subset, v.t)), v.keys.pledge_key);
      }
    });
  }

  test("decryptPayload refuses truncated, extended and altered ciphertexts", () => {
    const v = V.pledges[0];
    const keys = c.deriveKeys(h(v.keys.secret));
    const ct = h(v.record.ciphertext);
    const flipped = new Uint8Array(ct);
    flipped[100] ^= 1;
    for (const bad of [ct.slice(0, -1), c.concat(ct, new Uint8Array(1)), flipped]) {
      assert.throws(
        () => c.decryptPayload(keys.pledgeKey, D, v.campaign_id, keys.memberKey, keys.account, bad),
        c.InvalidCiphertext,
      );
    }
  });

  test("every tampered box vector is refused", () => {
    for (const v of V.tampered_boxes) {
      for (let i = 0; i < v.n; i++) {
        assert.throws(
          () => c.openBox(custodianSecret(i), deployment(v.deployment), v.campaign_id, record(v.record), i, v.n, v.t),
          c[v.error],
        );
      }
    }
  });

  for (const [label, n, t] of [
    ["t=1", 1, 1],
    ["2-of-3", 3, 2],
  ]) {
    test(`${label}: a pledge sealed in JS opens with the custodian secret keys of the vectors`, async () => {
      const keys = c.deriveKeys(c.newSecret());
      const contact = { name: "JS Pledger", contact: "js@example.org", message: "from the browser" };
      const publicKeys = Array.from({ length: n }, (_, i) => custodianPublic(i));
      const sealed = await c.sealPledge(D, 9, keys, contact, publicKeys, t);
      assert.equal(sealed.ciphertext.length, c.PLEDGE_CIPHERTEXT_SIZE);
      assert.equal(sealed.boxes.length, n * c.boxSize(t));
      const bind = c.binding(D, 9, keys.memberKey, keys.account, sealed.ciphertext);
      const boxes = c.splitBoxes(sealed.boxes, n, t);
      const shares = boxes.map((box, i) => {
        // Open with libsodium directly, as the Python custodian does, and check the binding.
        const plain = sodium.crypto_box_seal_open(box, custodianPublic(i), custodianSecret(i));
        assert.equal(plain.length, c.shareSize(t) + 32);
        assert.equal(hex(plain.subarray(c.shareSize(t))), hex(bind));
        return plain.slice(0, c.shareSize(t));
      });
      const key = await c.combineShares(shares.slice(0, t), t);
      assert.equal(hex(key), hex(keys.pledgeKey));
      assert.equal(hex(c.commitment(key)), hex(sealed.commitment));
      const plain = c.decryptPayload(key, D, 9, keys.memberKey, keys.account, sealed.ciphertext);
      assert.deepEqual(c.decodeContact(plain), contact);
      const moved = { index: 2, account: c.deriveKeys(c.newSecret()).account, ...sealed };
      assert.throws(() => c.openBox(custodianSecret(0), D, 9, moved, 0, n, t), c.BindingMismatch);
      const pledged = { index: 2, account: keys.account, ...sealed };
      assert.equal(hex(c.openBox(custodianSecret(0), D, 9, pledged, 0, n, t)), hex(shares[0]));
      for (const elsewhere of [OTHER_REGISTRY, OTHER_CHAIN]) {
        assert.throws(() => c.openBox(custodianSecret(0), elsewhere, 9, pledged, 0, n, t), c.BindingMismatch);
      }
    });
  }
});

describe("Shamir across languages", () => {
  test("shares made by pyshamir combine in JS", async () => {
    for (const v of V.shamir) {
      const shares = v.shares.map(h);
      for (const subset of combinations(shares, v.t)) {
        assert.equal(hex(await shamirCombine(subset)), v.secret);
        assert.equal(hex(await c.combineShares(subset, v.t)), v.secret);
      }
      await assert.rejects(c.combineShares(shares.slice(0, v.t - 1), v.t), c.InvalidShare);
    }
  });
});

describe("releases", () => {
  const R = V.releases;

  test("public parts parse into the vector's shares", () => {
    const gathered = new Map();
    for (const data of R.public.parts) {
      const part = c.parseRelease(h(data));
      assert.equal(part.kind, c.KIND_PUBLIC);
      for (const [i, s] of c.releaseEntries(part.body, R.t)) gathered.set(String(i), hex(s));
    }
    assert.deepEqual(Object.fromEntries(gathered), R.shares);
  });

  test("sealed parts open with the vector's release key", () => {
    assert.equal(hex(c.releaseAd(D, R.campaign_id, R.custodian_index, R.sealed.round)), R.sealed.ad);
    const part = c.parseRelease(h(R.sealed.parts[0]));
    assert.equal(part.kind, c.KIND_SEALED);
    assert.equal(part.round, R.sealed.round);
    const entries = c.openSealedShares(part, h(R.sealed.release_key), D, R.campaign_id, R.custodian_index, R.t);
    assert.deepEqual(Object.fromEntries([...entries].map(([i, s]) => [String(i), hex(s)])), R.shares);
    assert.throws(
      () => c.openSealedShares(part, h(R.sealed.release_key), D, R.campaign_id, 0, R.t),
      c.InvalidRelease,
    );
    for (const elsewhere of [OTHER_REGISTRY, OTHER_CHAIN]) {
      assert.throws(
        () => c.openSealedShares(part, h(R.sealed.release_key), elsewhere, R.campaign_id, R.custodian_index, R.t),
        c.InvalidRelease,
      );
    }
  });

  test("key seals open for members and not for an outsider", () => {
    const part = c.parseRelease(h(R.key_seals.part));
    assert.equal(part.kind, c.KIND_KEYS);
    for (const m of R.key_seals.members) {
      assert.equal(hex(c.openKeySeal(part, m.index, h(m.member_secret))), R.key_seals.release_key);
    }
    assert.equal(c.openKeySeal(part, 4, h(R.key_seals.outsider_member_secret)), null);
    assert.throws(
      () => c.openKeySeal(part, R.key_seals.members[0].index, h(R.key_seals.outsider_member_secret)),
      c.InvalidRelease,
    );
  });

  test("malformed release data is refused", () => {
    for (const data of R.malformed) assert.throws(() => c.parseRelease(h(data)), c.InvalidRelease);
  });
});

describe("roster", () => {
  const v = V.roster;
  for (const mode of ["members_mode", "public_mode"]) {
    test(`${mode}: readRoster shows what Python shows`, async () => {
      const records = v.records.map(record);
      const releases = v[mode].releases.map((r) => ({ custodianIndex: r.custodian_index, data: h(r.data) }));
      for (const expected of v[mode].expected) {
        const reader = expected.reader_secret === null ? null : c.deriveKeys(h(expected.reader_secret));
        const roster = await c.readRoster(D, v.campaign_id, v.n, v.t, records, releases, {
          reader,
          readerIndex: expected.reader_index,
        });
        assert.deepEqual(roster.problems, []);
        assert.deepEqual(
          roster.members.map((m) => ({ index: m.index, account: m.account, ...m.contact })),
          expected.members,
        );
        assert.equal(roster.instructions, expected.instructions);
        assert.deepEqual(roster.missing, expected.missing);
      }
    });
  }

  test("a wrong share is named and nothing garbage is shown", async () => {
    const records = v.records.map(record);
    const releases = v.public_mode.releases.map((r) => ({
      custodianIndex: r.custodian_index,
      data: h(r.data),
    }));
    const tampered = releases.map((r) => {
      if (r.custodianIndex !== 2) return r;
      const data = new Uint8Array(r.data);
      data[6 + 4] ^= 0xff; // first y-byte of the first entry
      return { ...r, data };
    });
    const roster = await c.readRoster(D, v.campaign_id, v.n, v.t, records, tampered);
    const firstIndex = c
      .releaseEntries(c.parseRelease(releases.find((r) => r.custodianIndex === 2).data).body, v.t)
      .keys()
      .next().value;
    assert.deepEqual(roster.problems, [
      `${firstIndex === 0 ? "the instructions" : `pledge ${firstIndex}`}: the shares from custodians 0, 2 rebuild no key matching its commitment`,
    ]);
    assert.ok(!roster.members.some((m) => m.index === firstIndex));
  });
});

describe("receipt codes", () => {
  test("encodeReceipt and decodeReceipt match the vectors", () => {
    for (const v of V.receipts.valid) {
      assert.equal(c.encodeReceipt(BigInt(v.campaign_id), h(v.secret)), v.code);
      for (const code of [v.code, ...v.equivalent]) {
        const { campaignId, secret } = c.decodeReceipt(code);
        assert.equal(campaignId, BigInt(v.campaign_id));
        assert.equal(hex(secret), v.secret);
      }
    }
  });

  test("decodeReceipt refuses every invalid vector", () => {
    for (const code of V.receipts.invalid) assert.throws(() => c.decodeReceipt(code), c.InvalidReceipt);
  });

  test("a v1 receipt code is refused as v1, not as a typo", () => {
    const v1 = V.receipts.valid[1].code.replace(/^sp2-/, "sp1-");
    assert.throws(() => c.decodeReceipt(v1), (error) => error instanceof c.InvalidReceipt && /protocol v1/.test(error.message));
  });
});

describe("EIP-712", () => {
  const E = V.eip712;
  const m = (name) => E[name].message;

  test("typed data digests match the vectors", () => {
    const cases = {
      Endorsement: c.endorsementTypedData(
        E.chain_id,
        E.verifying_contract,
        h(m("Endorsement").campaignKey),
        m("Endorsement").expiry,
      ),
      Pledge: c.pledgeTypedData(
        E.chain_id,
        E.verifying_contract,
        m("Pledge").campaignId,
        {
          memberKey: h(m("Pledge").memberKey),
          ciphertext: h(m("Pledge").ciphertext),
          boxes: h(m("Pledge").boxes),
          commitment: h(m("Pledge").commitment),
        },
        m("Pledge").nonce,
        m("Pledge").validUntil,
      ),
      Withdraw: c.withdrawTypedData(
        E.chain_id,
        E.verifying_contract,
        m("Withdraw").campaignId,
        m("Withdraw").nonce,
        m("Withdraw").validUntil,
      ),
    };
    for (const [name, data] of Object.entries(cases)) {
      assert.deepEqual(data.types, { [name]: E.types[name] });
      assert.equal(hex(c.typedDataDigest(data)), E[name].digest, name);
    }
  });
});

// The page's own functions (frontend/src/membership.js): what join.js proves for a gated
// pledge must be the scope and message spartacus/protocol/groups.py computes.
describe("gated pledges", () => {
  const G = V.gated;
  let membership;
  before(async () => {
    membership = await import("../../frontend/src/membership.js");
  });

  test("membershipScope matches every scope vector", () => {
    for (const v of G.scopes) {
      const scope = membership.membershipScope(v.chain_id, v.registry.toLowerCase(), v.campaign_id);
      assert.equal(scope.toString(), v.scope, `${v.chain_id} ${v.registry} ${v.campaign_id}`);
    }
  });

  test("membershipMessage and pledgeMessage match the message vector for the eip712 Pledge", () => {
    const v = G.message;
    const m = V.eip712.Pledge.message;
    assert.equal(v.pledge_digest, V.eip712.Pledge.digest);
    const message = membership.membershipMessage(h(v.pledge_digest), v.account.toLowerCase());
    assert.equal(message.toString(), v.message);
    const sealed = { memberKey: h(m.memberKey), ciphertext: h(m.ciphertext), boxes: h(m.boxes), commitment: h(m.commitment) };
    const page = { chainId: v.chain_id, registry: v.registry, campaignId: v.campaign_id };
    assert.equal(membership.pledgeMessage(page, sealed, v.account, v.nonce, v.valid_until).toString(), v.message);
    // Every input counts: another nonce, account or campaign gives another message.
    assert.notEqual(membership.pledgeMessage(page, sealed, v.account, v.nonce + 1, v.valid_until).toString(), v.message);
    assert.notEqual(membership.pledgeMessage({ ...page, campaignId: 8 }, sealed, v.account, v.nonce, v.valid_until).toString(), v.message);
    assert.notEqual(membership.pledgeMessage(page, sealed, D.registry, v.nonce, v.valid_until).toString(), v.message);
  });
});
