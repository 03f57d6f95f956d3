// The browser code's pure parts: relay bodies (no plaintext), roster downloads, receipts.
// Run from the repository root: node --test tests/js/

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { Wallet, TypedDataEncoder, verifyTypedData } from "ethers";

import * as c from "../../frontend/src/protocol/index.js";
import { createBody, deadlineFrom, pledgeBody, withdrawBody } from "../../frontend/src/bodies.js";
import { ApiError, NotSent, Unsure, refused } from "../../frontend/src/ui.js";
import { csvField, rosterCsv, rosterVcard, vcardText } from "../../frontend/src/files.js";
import { STORAGE_KEY, campaignSlot, forgetReceipt, keptReceipts, storeReceipt, storedReceipts } from "../../frontend/src/receipts.js";
import { receiptFromFragment, receiptLink } from "../../frontend/src/receipt-link.js";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CUSTODIAN = c.fromHex("8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f");

before(async () => {
  await c.ready();
});

describe("relay bodies", () => {
  const contact = { name: "Zoé Lefèvre", contact: "zoe@example.org", message: "count me in" };

  test("a pledge body carries sealed bytes and a valid signature, never the contact", async () => {
    const keys = c.deriveKeys(c.newSecret());
    const sealed = await c.sealPledge({ chainId: 31337, registry: REGISTRY }, 7, keys, contact, [CUSTODIAN], 1);
    const body = pledgeBody(31337, REGISTRY, 7, keys, sealed, 0, 1_900_000_000);
    const text = JSON.stringify(body);
    for (const secret of [contact.name, contact.contact, contact.message, "Zo", "example.org"]) {
      assert.ok(!text.includes(secret), secret);
    }
    assert.ok(!text.includes(c.toHex(keys.secret)) && !text.includes(c.toHex(keys.pledgeKey)));
    assert.deepEqual(Object.keys(body).sort(), ["account", "boxes", "campaignId", "ciphertext", "commitment", "memberKey", "signature", "validUntil"]);
    assert.equal(c.fromHex(body.ciphertext).length, 296);
    const typed = c.pledgeTypedData(31337, REGISTRY, 7, sealed, 0, 1_900_000_000);
    assert.equal(verifyTypedData(typed.domain, typed.types, typed.message, body.signature), keys.account);
  });

  test("the signature is the one ethers' Wallet makes (same digest, same key)", async () => {
    const keys = c.deriveKeys(c.newSecret());
    const body = withdrawBody(1, REGISTRY, 3, keys, 5, 1_900_000_000);
    const typed = c.withdrawTypedData(1, REGISTRY, 3, 5, 1_900_000_000);
    const wallet = new Wallet("0x" + c.toHex(keys.accountKey));
    assert.equal(body.signature, await wallet.signTypedData(typed.domain, typed.types, typed.message));
    assert.equal(TypedDataEncoder.hash(typed.domain, typed.types, typed.message), "0x" + c.toHex(c.typedDataDigest(typed)));
  });

  test("a create body holds the sealed instructions, not their text", async () => {
    const keys = c.deriveKeys(c.newSecret());
    const sealed = await c.sealInstructions({ chainId: 31337, registry: REGISTRY }, keys, "Meet at the back door at six", [CUSTODIAN], 1);
    const body = createBody({ title: "T" }, sealed, [{ custodian: REGISTRY, campaignKey: "0x00", expiry: "9", signature: "0x01" }]);
    assert.ok(!JSON.stringify(body).includes("back door"));
    assert.equal(body.endorsements[0].expiry, 9);
  });
});

describe("roster downloads", () => {
  const members = [
    { index: 1, account: "0x1", contact: { name: 'Ann "A", Jr', contact: "ann@example.org", message: "line\nbreak" } },
    { index: 2, account: "0x2", contact: { name: "=HYPERLINK(\"x\")", contact: "+33 6 12 34 56 78", message: "" } },
  ];

  test("CSV quotes commas, quotes and newlines, and defuses formulas", () => {
    assert.equal(csvField('a,"b"'), '"a,""b"""');
    assert.equal(csvField("=1+1"), "'=1+1");
    assert.equal(csvField("-2"), "'-2");
    const csv = rosterCsv(members);
    assert.equal(csv.split("\r\n")[0], "index,name,contact,message,account");
    assert.ok(csv.includes('"Ann ""A"", Jr"'));
    assert.ok(csv.includes('"line\nbreak"'));
    assert.ok(csv.includes(`"'=HYPERLINK(""x"")"`));
  });

  test("vCard escapes its special characters and types e-mail and phone", () => {
    assert.equal(vcardText("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    const card = rosterVcard(members, "Heating");
    assert.equal((card.match(/BEGIN:VCARD/g) ?? []).length, 2);
    assert.ok(card.includes("EMAIL:ann@example.org"));
    assert.ok(card.includes("TEL:+33 6 12 34 56 78"));
    assert.ok(card.includes('FN:Ann "A"\\, Jr'));
    assert.ok(!/\n(?!\s)[^\r]*\nbreak/.test(card), "a newline in a value would start a new property");
  });
});

describe("receipts kept in the browser", () => {
  const storage = () => {
    const data = new Map();
    return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v), data };
  };

  test("stored per registry, chain and campaign; forgotten on withdrawal", () => {
    const s = storage();
    const slot = campaignSlot(REGISTRY, 31337, 4);
    assert.equal(slot, `${REGISTRY.toLowerCase()}:31337:4`);
    storeReceipt(s, slot, "sp2-4-AAAA", "member", new Date("2026-11-23T00:00:00Z"));
    storeReceipt(s, slot, "sp2-4-AAAA", "member");
    storeReceipt(s, campaignSlot(REGISTRY, 31337, 5), "sp2-5-BBBB", "organiser");
    assert.deepEqual(storedReceipts(s, slot).map((r) => r.code), ["sp2-4-AAAA"]);
    forgetReceipt(s, slot, "sp2-4-AAAA");
    assert.deepEqual(storedReceipts(s, slot), []);
    assert.deepEqual(Object.keys(JSON.parse(s.data.get(STORAGE_KEY))), [campaignSlot(REGISTRY, 31337, 5)]);
  });

  test("my campaigns: every code kept for this registry and chain, none of another", () => {
    const s = storage();
    storeReceipt(s, campaignSlot(REGISTRY, 31337, 4), "sp2-4-AAAA", "member", new Date("2026-11-23T00:00:00Z"));
    storeReceipt(s, campaignSlot(REGISTRY, 31337, 5), "sp2-5-BBBB", "organiser", new Date("2026-11-24T00:00:00Z"));
    storeReceipt(s, campaignSlot(REGISTRY, 1, 4), "sp2-4-CCCC", "member");
    storeReceipt(s, campaignSlot("0x" + "11".repeat(20), 31337, 4), "sp2-4-DDDD", "member");
    assert.deepEqual(keptReceipts(s, REGISTRY.toUpperCase().replace("0X", "0x"), 31337), [
      { campaignId: "4", code: "sp2-4-AAAA", role: "member", savedAt: "2026-11-23T00:00:00.000Z" },
      { campaignId: "5", code: "sp2-5-BBBB", role: "organiser", savedAt: "2026-11-24T00:00:00.000Z" },
    ]);
    assert.deepEqual(keptReceipts(storage(), REGISTRY, 31337), []);
  });

  test("a damaged store reads as empty instead of breaking the page", () => {
    const s = storage();
    s.setItem(STORAGE_KEY, "{not json");
    assert.deepEqual(storedReceipts(s, "x"), []);
    s.setItem(STORAGE_KEY, "[1,2]");
    assert.deepEqual(storedReceipts(s, "x"), []);
  });
});

describe("private receipt links", () => {
  test("the code rides in the fragment, to the campaign it names, and reads back", async () => {
    await c.ready();
    const code = c.encodeReceipt(7, new Uint8Array(32).fill(3));
    const link = receiptLink("https://spartacus.example/c/2?x=1#old", code);
    assert.equal(link, `https://spartacus.example/c/7#receipt=${code}`);
    const url = new URL(link);
    assert.equal(url.pathname + url.search, "/c/7");  // what a server would be sent
    assert.deepEqual(receiptFromFragment(url.hash), { code, role: "member" });
    const organiser = receiptLink("https://spartacus.example/", code, "organiser");
    assert.deepEqual(receiptFromFragment(new URL(organiser).hash), { code, role: "organiser" });
    assert.equal(receiptFromFragment(""), null);
    assert.equal(receiptFromFragment("#main"), null);
  });

  test("the static copy's link is its own page with the same fragment, never a route", async () => {
    await c.ready();
    const code = c.encodeReceipt(7, new Uint8Array(32).fill(3));
    const link = receiptLink("https://copy.example/site/index.html#/c/7", code, "member", { staticCopy: true });
    assert.equal(link, `https://copy.example/site/index.html#receipt=${code}`);
    assert.deepEqual(receiptFromFragment(new URL(link).hash), { code, role: "member" });
    const file = receiptLink("file:///home/me/copy/index.html#/c/2", code, "organiser", { staticCopy: true });
    assert.equal(file, `file:///home/me/copy/index.html#receipt=${code}&role=organiser`);
    // The copy's routes are no receipt, even one whose query looks like it.
    assert.equal(receiptFromFragment("#/c/7"), null);
    assert.equal(receiptFromFragment(`#/c/7?receipt=${code}`), null);
    assert.equal(receiptFromFragment("#/"), null);
  });
});

describe("create form: the deadline", () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);

  test("days from now, or a local date and time that wins over the days", () => {
    assert.equal(deadlineFrom("14", "", now), now / 1000 + 14 * 86400);
    assert.equal(deadlineFrom("0.5", "", now), now / 1000 + 43200);
    const typed = "2026-12-01T18:30";
    assert.equal(deadlineFrom("14", typed, now), Math.floor(new Date(typed).getTime() / 1000));
  });

  test("refuses a deadline in the past, too close, or not a number", () => {
    assert.throws(() => deadlineFrom("0.01", "", now), /at least an hour/);
    // The page passes rules.minDeadline from spartacus/chain/rules.py.
    assert.throws(() => deadlineFrom("0.5", "", now, 86400), /at least 1440 minutes/);
    assert.throws(() => deadlineFrom("14", "2020-01-01T00:00", now), /at least an hour/);
    assert.throws(() => deadlineFrom("", "", now), /number of days/);
    assert.throws(() => deadlineFrom("-3", "", now), /number of days/);
    assert.throws(() => deadlineFrom("14", "next tuesday", now), /not a date/);
  });
});

describe("a failed join", () => {
  test("only the site's own refusal means nothing was recorded; anything else may have been", () => {
    for (const status of [400, 403, 404, 409, 413, 429, 502, 503]) {
      assert.equal(refused(new ApiError("no", status, true)), true, status);
    }
    for (const status of [500, 504]) assert.equal(refused(new ApiError("sent, check first", status, true)), false, status);
    // A proxy's error page (no JSON error from the site): 502, 503, Cloudflare's 52x...
    for (const status of [0, 400, 502, 503, 504, 520, 522, 524]) assert.equal(refused(new ApiError("?", status)), false, status);
    assert.equal(refused(new Unsure("not mined yet")), false);
    // A wallet error: the wallet may have sent the transaction before it failed.
    assert.equal(refused(new Error("User rejected the request")), false);
    assert.equal(refused(Object.assign(new Error("wallet disconnected"), { code: 4900 })), false);
    // Stopped before the wallet was asked to send (it declined to switch chains).
    assert.equal(refused(new NotSent("the switch was declined")), true);
  });
});

describe("the join form's byte counter", () => {
  test("counts exactly the bytes encodeContact seals, and its limit is encodeContact's", async () => {
    const { CONTACT_LIMIT, contactBytes } = await import("../../frontend/src/join-counter.js");
    const cases = [
      { name: "Iñaki Núñez", contact: "iñaki@example.org", message: "¡Sí! 🚩" },
      { name: 'Quote " and \\ back', contact: "+34 600", message: "tab\there" },
      { name: "Zoë", contact: "zoe@example.net", message: "😀".repeat(10), mail: true },
    ];
    for (const contact of cases) assert.equal(contactBytes(contact), c.contactJson(contact).length);
    const fits = { name: "ñ".repeat(108), contact: "a", message: "" };
    assert.equal(contactBytes(fits), 254);
    assert.equal(c.encodeContact(fits).length, c.PLEDGE_BLOCK);
    const over = { ...fits, contact: "ab" }; // 255 bytes: the last that fits
    assert.equal(contactBytes(over), CONTACT_LIMIT);
    c.encodeContact(over);
    assert.throws(() => c.encodeContact({ ...over, contact: "abc" }), c.PayloadTooLarge);
  });
});
