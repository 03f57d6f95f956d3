"""Receipt codes: a pledge secret and its campaign id, typed back by hand.

Format (docs/protocol.md, "Receipt code"): ``sp2-<campaignId>-<base32 in groups of 8>``, the
base32 encoding ``s || sha256("spartacus/v2/receipt" || cid32 || s)[0:3]``. The prefix names
the protocol version: a v1 code (``sp1-``) derives other keys and is refused with a message
saying so.
Import these names from ``spartacus.crypto``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from ..exceptions import InvalidReceipt, InvalidSecret
from .primitives import SECRET_SIZE, check_bytes, cid32

RECEIPT_PREFIX = "sp2"
RECEIPT_DOMAIN = b"spartacus/v2/receipt"
_RETIRED_PREFIXES = frozenset({"sp1"})
_CHECKSUM_SIZE = 3
_BASE32_LENGTH = 56
_GROUP = 8
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_LOOKALIKES = {"0": "O", "1": "I", "8": "B"}
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,77}")


def _checksum(campaign_id: int, secret: bytes) -> bytes:
    return hashlib.sha256(RECEIPT_DOMAIN + cid32(campaign_id) + secret).digest()[:_CHECKSUM_SIZE]


def encode_receipt(campaign_id: int, secret: bytes) -> str:
    """The receipt code of a pledge secret, e.g. ``sp2-7-ABCDEFGH-...`` (7 groups of 8)."""
    raw = check_bytes(secret, SECRET_SIZE, "a pledge secret", InvalidSecret)
    text = base64.b32encode(raw + _checksum(campaign_id, raw)).decode("ascii")
    groups = [text[i : i + _GROUP] for i in range(0, len(text), _GROUP)]
    return "-".join([RECEIPT_PREFIX, str(campaign_id), *groups])


def decode_receipt(code: str) -> tuple[int, bytes]:
    """``(campaign id, secret)`` from a receipt code; ignores case, spaces and hyphens."""
    if not isinstance(code, str):
        raise InvalidReceipt("a receipt code is text")
    compact = "".join(code.split())
    prefix, _, rest = compact.partition("-")
    if prefix.lower() in _RETIRED_PREFIXES:
        raise InvalidReceipt(
            f"'{prefix.lower()}-' receipt codes belong to protocol v1, whose registries were "
            f"replaced by v2 (codes start with '{RECEIPT_PREFIX}-'); a v1 secret derives no v2 "
            "key, so this code cannot withdraw or read a roster here"
        )
    if prefix.lower() != RECEIPT_PREFIX:
        raise InvalidReceipt(f"a receipt code starts with '{RECEIPT_PREFIX}-'")
    number, _, body = rest.partition("-")
    if not _DECIMAL.fullmatch(number):
        raise InvalidReceipt(
            f"after '{RECEIPT_PREFIX}-' a receipt code names the campaign id, a number, "
            f"then '-'; found {number!r}"
        )
    campaign_id = int(number)
    if campaign_id >= 2**256:
        raise InvalidReceipt(f"campaign id {number} is too large")
    text = body.replace("-", "").upper()
    wrong = sorted(set(text) - _ALPHABET)
    if wrong:
        hints = [f"{c!r} (perhaps {_LOOKALIKES[c]!r})" for c in wrong if c in _LOOKALIKES]
        others = [repr(c) for c in wrong if c not in _LOOKALIKES]
        raise InvalidReceipt(
            "a receipt code uses only the letters A-Z and the digits 2-7; found "
            + ", ".join(hints + others)
        )
    if len(text) != _BASE32_LENGTH:
        raise InvalidReceipt(
            f"a receipt code has {_BASE32_LENGTH} letters and digits after the campaign id "
            f"(7 groups of {_GROUP}); this one has {len(text)}"
        )
    raw = base64.b32decode(text)
    secret, checksum = raw[:SECRET_SIZE], raw[SECRET_SIZE:]
    if not hmac.compare_digest(checksum, _checksum(campaign_id, secret)):
        raise InvalidReceipt(
            "the receipt code's checksum does not match: a character is mistyped, "
            "or the campaign id is wrong"
        )
    return campaign_id, secret
