// Receipt codes kept in this browser, only when the person asked for it.
// localStorage["spartacus.receipts"] = {"<registry>:<chainId>:<campaignId>": [{code, role, savedAt}]}

export const STORAGE_KEY = "spartacus.receipts";

export function campaignSlot(registry, chainId, campaignId) {
  return `${String(registry).toLowerCase()}:${chainId}:${campaignId}`;
}

function load(storage) {
  try {
    const data = JSON.parse(storage.getItem(STORAGE_KEY) ?? "{}");
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

export function storedReceipts(storage, slot) {
  const list = load(storage)[slot];
  return Array.isArray(list) ? list.filter((r) => r && typeof r.code === "string") : [];
}

/** Keep a receipt; `validUntil` (a pledge's signature expiry) lets the page drop it once the
 * pledge can no longer land (see pledge-check.js, dropUnlanded). */
export function storeReceipt(storage, slot, code, role, now = new Date(), validUntil = undefined) {
  const data = load(storage);
  const list = storedReceipts(storage, slot).filter((r) => r.code !== code);
  list.push(validUntil ? { code, role, savedAt: now.toISOString(), validUntil } : { code, role, savedAt: now.toISOString() });
  data[slot] = list;
  storage.setItem(STORAGE_KEY, JSON.stringify(data));
}

export function forgetReceipt(storage, slot, code) {
  const data = load(storage);
  data[slot] = storedReceipts(storage, slot).filter((r) => r.code !== code);
  if (!data[slot].length) delete data[slot];
  storage.setItem(STORAGE_KEY, JSON.stringify(data));
}

/** Every receipt kept for this registry and chain: [{campaignId, code, role, savedAt}]. */
export function keptReceipts(storage, registry, chainId) {
  const prefix = campaignSlot(registry, chainId, "");
  const out = [];
  for (const slot of Object.keys(load(storage))) {
    if (!slot.startsWith(prefix) || !/^\d+$/.test(slot.slice(prefix.length))) continue;
    for (const r of storedReceipts(storage, slot)) {
      out.push({ campaignId: slot.slice(prefix.length), code: r.code, role: r.role, savedAt: String(r.savedAt ?? "") });
    }
  }
  return out;
}
