"""Asking a custodian's daemon for an endorsed campaign key (``spartacus create --custodian``)."""

from __future__ import annotations

import re
from typing import Any

import requests

from ..exceptions import ChainError, UsageError

TIMEOUT = 30


def request_endorsement(
    url: str, *, registry: str, chain_id: int, mail_roster: bool = False
) -> dict[str, Any]:
    """POST to ``<url>/keys`` and return the endorsement object the custodian signed.

    The request names the registry and chain, so a custodian serving another one refuses
    instead of issuing a key that would not work. The endorsement is still checked like
    any endorsement file before a campaign is created. With ``mail_roster`` the custodian
    is asked to e-mail the roster to the members after the reveal (a daemon too old to
    know the field refuses, rather than silently not mailing).
    """
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--custodian {url!r} is not an http(s) URL")
    endpoint = url.rstrip("/") + "/keys"
    wanted: dict[str, Any] = {"registry": registry, "chainId": chain_id}
    if mail_roster:
        wanted["mailRoster"] = True
    try:
        response = requests.post(endpoint, json=wanted, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ChainError(f"custodian {url} did not answer: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 201 or not isinstance(body, dict):
        reason = body.get("error") if isinstance(body, dict) else response.reason
        raise UsageError(f"custodian {url} refused a key (HTTP {response.status_code}: {reason})")
    key = body.get("campaignKey")
    if not isinstance(key, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", key):
        raise UsageError(f"custodian {url} answered without a valid campaignKey")
    return body
