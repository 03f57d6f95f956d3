"""The Spartacus protocol: bytes in, bytes out, typed errors, no I/O.

The byte formats are fixed in docs/protocol.md and pinned by tests/vectors/protocol.json.
One module per section of docs/protocol.md, mirrored file for file by frontend/src/protocol/:

- ``primitives``: sizes, byte checks, sealed boxes, the KDF;
- ``secret``: the pledge secret and the keys derived from it;
- ``receipt_code``: receipt codes;
- ``payload``: padding, contact and instructions encodings, payload encryption;
- ``shamir``: Shamir shares over GF(256) (HashiCorp format);
- ``sealing``: sealed pledges and instructions, custodian boxes and their binding;
- ``eip712``: typed data for the registry's signatures;
- ``release``: release parts (what custodians publish at the reveal);
- ``roster``: reading the roster from the releases.

This package's namespace is the public API used by the rest of Spartacus. Custodian indices
are 0-based, in the campaign's custodian order (the order of the endorsements and of the
boxes), as in the ``CustodianAssigned`` and ``Released`` events.
"""

from __future__ import annotations

from .eip712 import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    EIP712_TYPES,
    SIGNATURE_VALIDITY,
    endorsement_signer,
    endorsement_typed_data,
    pledge_typed_data,
    typed_data,
    typed_data_digest,
    withdraw_typed_data,
)
from .payload import (
    Contact,
    binding,
    commitment,
    decode_contact,
    decode_instructions,
    decrypt_payload,
    encode_contact,
    encode_instructions,
    encrypt_payload,
    pad,
    pledge_ad,
    unpad,
)
from .primitives import (
    COMMITMENT_DOMAIN,
    MAX_CUSTODIANS,
    MAX_INSTRUCTION_BLOCKS,
    PLEDGE_BLOCK,
    PLEDGE_CIPHERTEXT_SIZE,
    SECRET_SIZE,
    ZERO_ACCOUNT,
    Deployment,
    box_size,
    is_valid_address,
    share_size,
)
from .receipt_code import decode_receipt, encode_receipt
from .release import (
    KIND_KEYS,
    KIND_PUBLIC,
    KIND_SEALED,
    MAX_RELEASE_PART,
    ReleasePart,
    build_release,
    key_seal_indices,
    open_key_seal,
    open_sealed_shares,
    parse_release,
    release_ad,
    release_entries,
    release_key,
)
from .roster import (
    Decrypted,
    ReleaseRecord,
    Roster,
    RosterEntry,
    decrypt_pledges,
    read_roster,
    recover_key,
)
from .sealing import (
    PledgeRecord,
    Sealed,
    custodian_shares,
    open_box,
    seal_instructions,
    seal_pledge,
    split_boxes,
)
from .secret import PledgeKeys, derive_keys, new_secret
from .shamir import combine_shares, split_key

__all__ = [
    "is_valid_address",
    "key_seal_indices",
    "release_key",
    "COMMITMENT_DOMAIN",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "SIGNATURE_VALIDITY",
    "EIP712_TYPES",
    "KIND_KEYS",
    "KIND_PUBLIC",
    "KIND_SEALED",
    "MAX_CUSTODIANS",
    "MAX_INSTRUCTION_BLOCKS",
    "MAX_RELEASE_PART",
    "PLEDGE_BLOCK",
    "PLEDGE_CIPHERTEXT_SIZE",
    "SECRET_SIZE",
    "ZERO_ACCOUNT",
    "Contact",
    "Decrypted",
    "Deployment",
    "PledgeKeys",
    "PledgeRecord",
    "ReleasePart",
    "ReleaseRecord",
    "Roster",
    "RosterEntry",
    "Sealed",
    "binding",
    "box_size",
    "build_release",
    "combine_shares",
    "commitment",
    "custodian_shares",
    "decode_contact",
    "decode_instructions",
    "decode_receipt",
    "decrypt_payload",
    "decrypt_pledges",
    "derive_keys",
    "encode_contact",
    "encode_instructions",
    "encode_receipt",
    "encrypt_payload",
    "endorsement_signer",
    "endorsement_typed_data",
    "new_secret",
    "open_box",
    "open_key_seal",
    "open_sealed_shares",
    "pad",
    "parse_release",
    "pledge_ad",
    "pledge_typed_data",
    "read_roster",
    "recover_key",
    "release_ad",
    "release_entries",
    "seal_instructions",
    "seal_pledge",
    "share_size",
    "split_boxes",
    "split_key",
    "typed_data",
    "typed_data_digest",
    "unpad",
    "withdraw_typed_data",
]
