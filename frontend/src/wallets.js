// The person's own wallets (EIP-1193), found the way EIP-6963 says: every wallet announces
// itself with "eip6963:announceProvider" when the page sends "eip6963:requestProvider", so
// several wallets can live side by side; window.ethereum is used only when none announces.
// Before anything is sent the wallet must be on the site's chain: the page asks it to switch
// (wallet_switchEthereumChain, never wallet_addEthereumChain) and refuses if it does not.

import { Interface } from "ethers";

import { t } from "./i18n.js";
import { $, NotSent, Unsure, el, show } from "./ui.js";

const REGISTRY_ABI = [
  "function pledgeWithSig(uint256 campaignId, address account, (bytes32 memberKey, bytes ciphertext, bytes boxes, bytes32 commitment) sealedPledge, uint64 validUntil, bytes signature)",
  "function pledgeGatedWithSig(uint256 campaignId, address account, (bytes32 memberKey, bytes ciphertext, bytes boxes, bytes32 commitment) sealedPledge, uint64 validUntil, bytes signature, (uint256 merkleTreeDepth, uint256 merkleTreeRoot, uint256 nullifier, uint256 message, uint256 scope, uint256[8] points) proof)",
  "function withdrawWithSig(uint256 campaignId, address account, uint64 validUntil, bytes signature)",
];

const FALLBACK = "window.ethereum";
const announced = new Map(); // uuid -> { info: { uuid, name }, provider }

/** The wallets found so far: those announced, else window.ethereum if there is one. */
export function wallets() {
  const list = [...announced.values()];
  if (!list.length && window.ethereum && typeof window.ethereum.request === "function") {
    list.push({ info: { uuid: FALLBACK, name: "your browser's wallet" }, provider: window.ethereum });
  }
  return list;
}

/** Listen for wallets (now and later), and call `onChange` with the list each time. */
export function watchWallets(onChange) {
  window.addEventListener("eip6963:announceProvider", (event) => {
    const { info, provider } = event.detail ?? {};
    if (typeof info?.uuid !== "string" || typeof provider?.request !== "function") return;
    const name = typeof info.name === "string" && info.name.trim() ? info.name.trim().slice(0, 60) : "a wallet";
    announced.set(info.uuid, { info: { uuid: info.uuid, name }, provider });
    onChange(wallets());
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  onChange(wallets());
}

/**
 * Show the "pay with my own wallet" field of a form (`prefix` is join or withdraw) when a
 * wallet is there, with a picker (#<prefix>-wallet-choice) when several answered.
 */
export function offerWallets(prefix, list) {
  show($(`#${prefix}-wallet-field`), list.length > 0);
  const picker = $(`#${prefix}-wallet-choice`);
  if (!picker) return;
  const chosen = picker.value;
  picker.replaceChildren(...list.map((w) => el("option", w.info.name, { value: w.info.uuid })));
  if (list.some((w) => w.info.uuid === chosen)) picker.value = chosen;
  show($(`#${prefix}-wallet-picker`), list.length > 1);
}

/** The wallet picked in a form, or null when the person did not ask to use one. */
export function pickedWallet(prefix) {
  if (!$(`#${prefix}-wallet`)?.checked) return null;
  const list = wallets();
  const uuid = $(`#${prefix}-wallet-choice`)?.value;
  const wallet = list.find((w) => w.info.uuid === uuid) ?? (list.length === 1 ? list[0] : null);
  if (!wallet) throw new NotSent(t("chooseWallet"));
  return wallet;
}

function reason(error) {
  const code = error?.code !== undefined ? ` (${error.code})` : "";
  return `${error?.message ?? error}${code}`;
}

async function chainOf(wallet) {
  let answer;
  try {
    answer = await wallet.provider.request({ method: "eth_chainId" });
  } catch (error) {
    throw new NotSent(t("walletNoChain", { wallet: wallet.info.name, reason: reason(error) }));
  }
  try {
    return BigInt(answer);
  } catch {
    throw new NotSent(t("walletBadChain", { wallet: wallet.info.name, answer }));
  }
}

/** Make sure the wallet is on chain `chainId`, asking it to switch once; NotSent otherwise. */
async function onChain(wallet, chainId) {
  const want = BigInt(chainId);
  const current = await chainOf(wallet);
  if (current === want) return;
  try {
    await wallet.provider.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: `0x${want.toString(16)}` }],
    });
  } catch (error) {
    throw new NotSent(t("walletSwitchFailed", { wallet: wallet.info.name, current, want, reason: reason(error) }));
  }
  const now = await chainOf(wallet);
  if (now !== want) {
    throw new NotSent(t("walletStillWrong", { wallet: wallet.info.name, now, want }));
  }
}

/** An account of the wallet, on the site's chain: asked before anything is sealed or sent. */
export async function connect(wallet, chainId) {
  let accounts;
  try {
    accounts = await wallet.provider.request({ method: "eth_requestAccounts" });
  } catch (error) {
    throw new NotSent(t("walletNoAccountWhy", { wallet: wallet.info.name, reason: reason(error) }));
  }
  if (!Array.isArray(accounts) || typeof accounts[0] !== "string") {
    throw new NotSent(t("walletNoAccount", { wallet: wallet.info.name }));
  }
  await onChain(wallet, chainId);
  return { ...wallet, from: accounts[0] };
}

/**
 * Send a registry call (pledgeWithSig, pledgeGatedWithSig or withdrawWithSig) from a connected wallet and wait
 * until it is mined. The chain is checked again just before: a wallet switched meanwhile
 * sends nothing. A mined transaction proves nothing about the pledge: callers read it back.
 */
export async function sendFromWallet(wallet, chainId, registry, method, args) {
  await onChain(wallet, chainId);
  const data = new Interface(REGISTRY_ABI).encodeFunctionData(method, args);
  const chain = `0x${BigInt(chainId).toString(16)}`;
  const hash = await wallet.provider.request({
    method: "eth_sendTransaction",
    params: [{ from: wallet.from, to: registry, data, chainId: chain }],
  });
  for (let i = 0; i < 120; i++) {
    const receipt = await wallet.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) {
      if (receipt.status !== "0x1") throw new Error(t("txFailed", { hash }));
      return hash;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Unsure(t("txNotMined", { hash }));
}
