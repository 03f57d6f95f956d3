// The pledge secret and what derives from it (docs/protocol.md): the pledge account, the
// member key pair and the pledge key. Mirrors spartacus/protocol/secret.py.

import sodium from "libsodium-wrappers";
import { computeAddress } from "ethers";

import {
  ACCOUNT_LABEL,
  InvalidSecret,
  MEMBER_LABEL,
  PLEDGE_KEY_LABEL,
  SECP256K1_ORDER,
  SECRET_SIZE,
  checkBytes,
  kdf,
  toHex,
} from "./primitives.js";

/** Everything derived from a 32-byte pledge secret (docs/protocol.md). */
export function deriveKeys(secret) {
  const raw = checkBytes(secret, SECRET_SIZE, "a pledge secret", InvalidSecret);
  const accountKey = kdf(raw, ACCOUNT_LABEL);
  const scalar = BigInt("0x" + toHex(accountKey));
  if (scalar === 0n || scalar >= SECP256K1_ORDER) {
    throw new InvalidSecret("this secret derives an unusable account key; draw a new secret");
  }
  const memberSecret = kdf(raw, MEMBER_LABEL);
  return {
    secret: raw,
    accountKey,
    account: computeAddress("0x" + toHex(accountKey)),
    memberSecret,
    memberKey: sodium.crypto_scalarmult_base(memberSecret),
    pledgeKey: kdf(raw, PLEDGE_KEY_LABEL),
  };
}

/** A fresh random pledge secret whose derived account key is usable. */
export function newSecret() {
  for (;;) {
    const candidate = sodium.randombytes_buf(SECRET_SIZE);
    try {
      deriveKeys(candidate);
      return candidate;
    } catch (error) {
      if (!(error instanceof InvalidSecret)) throw error;
    }
  }
}
