"""Asking a custodian's daemon for an endorsed campaign key (``spartacus create --custodian``,
and the web app's ``/api/endorsements`` for creators)."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from ..exceptions import ChainError, NotPublicAddress, UsageError

TIMEOUT = 30


def request_endorsement(
    url: str, *, registry: str, chain_id: int, mail_roster: bool = False, public_only: bool = False
) -> dict[str, Any]:
    """POST to ``<url>/keys`` and return the endorsement object the custodian signed.

    The request names the registry and chain, so a custodian serving another one refuses
    instead of issuing a key that would not work. The endorsement is still checked like
    any endorsement file before a campaign is created. With ``mail_roster`` the custodian
    is asked to e-mail the roster to the members after the reveal (a daemon too old to
    know the field refuses, rather than silently not mailing).

    Redirects are never followed: a daemon answers ``/keys`` itself. With ``public_only``
    (the web app, for a URL a creator typed) the host is resolved once, every address must
    be public, and the request goes to those very addresses (``connect_pinned``): the name
    is not looked up a second time, so it cannot point somewhere else by then.
    """
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--custodian {url!r} is not an http(s) URL")
    endpoint = url.rstrip("/") + "/keys"
    wanted: dict[str, Any] = {"registry": registry, "chainId": chain_id}
    if mail_roster:
        wanted["mailRoster"] = True
    try:
        if public_only:
            response = connect_pinned(endpoint, public_addresses(endpoint), json=wanted)
        else:
            response = requests.post(endpoint, json=wanted, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise ChainError(f"custodian {url} did not answer: {type(exc).__name__}") from None
    if response.is_redirect:
        raise UsageError(
            f"custodian {url} answered with a redirect (HTTP {response.status_code}), which is "
            "not followed; give the daemon's own URL"
        )
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


def is_public(address: str) -> bool:
    """Whether an IP address is publicly routable (not loopback, private, link-local...)."""
    return ipaddress.ip_address(address).is_global


def public_addresses(url: str) -> list[str]:
    """The addresses ``url``'s host resolves to, looked up once; all must be public."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise NotPublicAddress(f"{url} names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise NotPublicAddress(f"the host {host} cannot be resolved") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses or not all(is_public(a) for a in addresses):
        raise NotPublicAddress(f"the host {host} is not a public address")
    return addresses


class PinnedAdapter(HTTPAdapter):
    """Sends to the IP address in the URL, while TLS names (SNI) and checks the certificate
    for ``hostname``: urllib3's ``server_hostname`` and ``assert_hostname``."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self.hostname
        kwargs["assert_hostname"] = self.hostname
        super().init_poolmanager(*args, **kwargs)


def connect_pinned(url: str, addresses: list[str], **kwargs: Any) -> requests.Response:
    """POST to ``url`` by connecting to ``addresses`` (in order, the next if one refuses the
    connection) instead of looking the host up again, with its name in the Host header and
    for TLS; redirects are not followed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    default = port == (443 if parts.scheme == "https" else 80)
    headers = {"Host": host if default else f"{host}:{port}"}
    failure: requests.ConnectionError | None = None
    for address in addresses:
        literal = f"[{address}]" if ":" in address else address
        pinned = urlunsplit(parts._replace(netloc=f"{literal}:{port}"))
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment: this address, no other
            session.mount(f"{parts.scheme}://", PinnedAdapter(host))
            try:
                return session.post(
                    pinned, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs
                )
            except requests.ConnectionError as exc:
                failure = exc
    assert failure is not None  # addresses is never empty: public_addresses says so
    raise failure
