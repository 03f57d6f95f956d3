// EIP-712 typed data for the registry's signatures (docs/protocol.md), in the shape ethers
// takes: `signer.signTypedData(t.domain, t.types, t.message)`. Mirrors
// spartacus/protocol/eip712.py.

import { TypedDataEncoder, getAddress, verifyTypedData } from "ethers";

import { CryptoError, InvalidKey, KEY_SIZE, checkBytes, fromHex, toBigInt, toHex } from "./primitives.js";

export const EIP712_TYPES = {
  Endorsement: [
    { name: "campaignKey", type: "bytes32" },
    { name: "expiry", type: "uint64" },
  ],
  Pledge: [
    { name: "campaignId", type: "uint256" },
    { name: "memberKey", type: "bytes32" },
    { name: "ciphertext", type: "bytes" },
    { name: "boxes", type: "bytes" },
    { name: "commitment", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "validUntil", type: "uint64" },
  ],
  Withdraw: [
    { name: "campaignId", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "validUntil", type: "uint64" },
  ],
};

export const DOMAIN_VERSION = "2";
/** Seconds a pledge or withdrawal signature stays valid unless told (validUntil = now + this). */
export const SIGNATURE_VALIDITY = 3600;

export function eip712Domain(chainId, registry) {
  return {
    name: "Spartacus",
    version: DOMAIN_VERSION,
    chainId: toBigInt(chainId, "chain id"),
    verifyingContract: getAddress(registry),
  };
}

const hex0x = (bytes) => "0x" + toHex(bytes);

function typed(chainId, registry, primaryType, message) {
  return {
    domain: eip712Domain(chainId, registry),
    types: { [primaryType]: EIP712_TYPES[primaryType] },
    primaryType,
    message,
  };
}

/** Endorsement(bytes32 campaignKey,uint64 expiry), signed by a custodian. */
export function endorsementTypedData(chainId, registry, campaignKey, expiry) {
  return typed(chainId, registry, "Endorsement", {
    campaignKey: hex0x(checkBytes(campaignKey, KEY_SIZE, "the campaign key", InvalidKey)),
    expiry: toBigInt(expiry, "expiry"),
  });
}

/**
 * The account that signed Endorsement(campaignKey, expiry) for this chain and registry
 * (checksummed). The page compares it with the custodian CustodianAssigned names, and with
 * the custodian's known account, before sealing to campaignKey. CryptoError if malformed.
 */
export function endorsementSigner(chainId, registry, campaignKey, expiry, signature) {
  const t = endorsementTypedData(chainId, registry, campaignKey, expiry);
  const raw = signature instanceof Uint8Array ? signature : fromHex(String(signature ?? ""));
  if (raw.length !== 65) throw new CryptoError("an endorsement signature must be 65 bytes");
  try {
    return getAddress(verifyTypedData(t.domain, t.types, t.message, hex0x(raw)));
  } catch {
    throw new CryptoError("the endorsement signature is malformed");
  }
}

/** Pledge(...), signed by the pledge account for pledgeWithSig; refused after validUntil. */
export function pledgeTypedData(chainId, registry, campaignId, sealed, nonce, validUntil) {
  return typed(chainId, registry, "Pledge", {
    campaignId: toBigInt(campaignId, "campaign id"),
    memberKey: hex0x(sealed.memberKey),
    ciphertext: hex0x(sealed.ciphertext),
    boxes: hex0x(sealed.boxes),
    commitment: hex0x(sealed.commitment),
    nonce: toBigInt(nonce, "nonce"),
    validUntil: toBigInt(validUntil, "validUntil"),
  });
}

/** Withdraw(uint256 campaignId,uint256 nonce,uint64 validUntil), signed for withdrawWithSig. */
export function withdrawTypedData(chainId, registry, campaignId, nonce, validUntil) {
  return typed(chainId, registry, "Withdraw", {
    campaignId: toBigInt(campaignId, "campaign id"),
    nonce: toBigInt(nonce, "nonce"),
    validUntil: toBigInt(validUntil, "validUntil"),
  });
}

/** The 32-byte digest a signature over the typed data signs. */
export function typedDataDigest(data) {
  return fromHex(TypedDataEncoder.hash(data.domain, data.types, data.message));
}
