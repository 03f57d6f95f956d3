"""``pledge --relay URL`` and ``withdraw --relay URL``: the body the browser signs, posted to
a web app's relayer, which pays the gas, so a terminal user needs no ether.

What an answer means (spartacus/web/submit.py): 200, recorded. Only the app's own JSON
refusal says that nothing was recorded: a 4xx (409: the registry refused), 502 (the node
refused the transaction) or 503 (nothing sent). Anything else leaves it unknown (504, 500, a
proxy's error page, a broken connection, a timeout): the pledge may land, so its receipt is
kept, and the campaign is checked before anything is sent again.
"""

from __future__ import annotations

from typing import Any

import requests

from ..exceptions import RelayInDoubt, RelayRefused, UsageError

# The relayer waits up to two minutes for a transaction to be mined before it answers.
RELAY_TIMEOUT = 150.0

# What to do after each refusal (nothing was recorded in every case).
ADVICE = {
    400: "the request was malformed: check that this spartacus matches the site's version",
    403: "this site does not relay for this campaign: use another site's relayer, or pay "
    "yourself without --relay",
    404: "check the campaign id, and that --relay is the site of this registry",
    409: "sending it again as it is will not help",
    413: "the request was too large: check that this spartacus matches the site's version",
    415: "check that this spartacus matches the site's version",
    429: "the relayer is busy: try again later",
    502: "the chain's node refused the transaction: try again in a moment",
    503: "nothing was sent: try again in a moment, or pay yourself without --relay",
}


class Relay:
    """A web app's relayer at ``url`` (``https://site.example``)."""

    def __init__(self, url: str, timeout: float = RELAY_TIMEOUT) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--relay must be the site's http(s) URL, not {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def check(self, chain_id: int, registry: str) -> None:
        """Refuse before anything is signed if the site does not relay for this chain and
        registry (its signatures would be for another), or cannot be reached."""
        try:
            response = requests.get(f"{self.url}/api/config", timeout=30)
            config = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as exc:
            raise RelayRefused(
                f"the relayer at {self.url} cannot be reached ({type(exc).__name__}); nothing "
                "was sent: check the URL and your connection",
                0,
            ) from None
        if not isinstance(config, dict) or not config.get("relayer"):
            raise RelayRefused(
                f"{self.url} runs no relayer (HTTP {response.status_code}); nothing was sent",
                response.status_code,
            )
        theirs = (config.get("chainId"), str(config.get("registry", "")).lower())
        if theirs != (chain_id, registry.lower()):
            raise UsageError(
                f"{self.url} relays for registry {theirs[1]} on chain {theirs[0]}, not "
                f"{registry} on chain {chain_id}: pass the matching --rpc and --registry"
            )

    def send(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/api/relay/<kind>``; the answer, or ``RelayRefused`` (nothing
        was recorded) or ``RelayInDoubt`` (it may have been)."""
        try:
            response = requests.post(
                f"{self.url}/api/relay/{kind}", json=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise RelayInDoubt(
                f"the connection to the relayer failed ({type(exc).__name__})"
            ) from None
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        if status == 200 and isinstance(data, dict):
            return data
        if isinstance(error, str) and (400 <= status < 500 or status in (502, 503)):
            wait = response.headers.get("Retry-After", "")
            later = f" (the site asks to wait {wait} s)" if wait.isdigit() else ""
            advice = ADVICE.get(status, "nothing was recorded")
            raise RelayRefused(
                f"the relayer refused (HTTP {status}): {error}. Nothing was recorded; "
                f"{advice}{later}",
                status,
            )
        said = f": {error}" if isinstance(error, str) else " (not the site's own answer)"
        raise RelayInDoubt(f"the relayer answered HTTP {status}{said}")
