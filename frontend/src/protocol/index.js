// The Spartacus protocol in the browser: the pledger's and reader's side of
// spartacus/protocol/, byte for byte (docs/protocol.md, pinned by tests/vectors/protocol.json).
// One module per section of docs/protocol.md, as in Python:
//
//   primitives.js    sizes, errors, byte helpers, sealed boxes, the KDF
//   secret.js        the pledge secret and the keys derived from it
//   receipt_code.js  receipt codes
//   payload.js       padding, contact and instructions encodings, payload encryption
//   shamir.js        Shamir shares over GF(256) (HashiCorp format)
//   sealing.js       sealed pledges and instructions, custodian boxes and their binding
//   eip712.js        typed data for the registry's signatures
//   release.js       release parts (what custodians publish at the reveal)
//   roster.js        reading the roster from the releases
//
// This module's exports are the public API the pages and tests use. Bytes are Uint8Array;
// call `await ready()` once before anything else (libsodium loads asynchronously).

export {
  BINDING_SIZE,
  BindingMismatch,
  BoxOpenError,
  CommitmentMismatch,
  CryptoError,
  InvalidCiphertext,
  InvalidKey,
  InvalidPayload,
  InvalidReceipt,
  InvalidRelease,
  InvalidSecret,
  InvalidShare,
  KEY_SIZE,
  MAX_CUSTODIANS,
  MAX_INSTRUCTION_BLOCKS,
  NONCE_SIZE,
  PLEDGE_BLOCK,
  PLEDGE_CIPHERTEXT_SIZE,
  PayloadTooLarge,
  SEAL_OVERHEAD,
  SECRET_SIZE,
  TAG_SIZE,
  ZERO_ACCOUNT,
  accountBytes,
  boxSize,
  checkCustodians,
  cid32,
  concat,
  deploymentPrefix,
  equalBytes,
  fromHex,
  kdf,
  ready,
  sha256,
  shareSize,
  toHex,
  utf8,
} from "./primitives.js";
export { deriveKeys, newSecret } from "./secret.js";
export { RECEIPT_PREFIX, decodeReceipt, encodeReceipt } from "./receipt_code.js";
export {
  binding,
  commitment,
  contactJson,
  decodeContact,
  decodeInstructions,
  decryptPayload,
  encodeContact,
  encodeInstructions,
  encryptPayload,
  pad,
  pledgeAd,
  unpad,
} from "./payload.js";
export { combineShares, splitKey } from "./shamir.js";
export { openBox, sealInstructions, sealPledge, splitBoxes } from "./sealing.js";
export {
  DOMAIN_VERSION,
  EIP712_TYPES,
  SIGNATURE_VALIDITY,
  eip712Domain,
  endorsementSigner,
  endorsementTypedData,
  pledgeTypedData,
  typedDataDigest,
  withdrawTypedData,
} from "./eip712.js";
export {
  KEY_SEAL_SIZE,
  KIND_KEYS,
  KIND_PUBLIC,
  KIND_SEALED,
  MAX_RELEASE_PART,
  RELEASE_VERSION,
  openKeySeal,
  openSealedShares,
  parseRelease,
  releaseAd,
  releaseEntries,
} from "./release.js";
export { readRoster, recoverKey } from "./roster.js";
