"""Registry tests on ape's in-process chain (ethereum:local:test, eth-tester).

The registry is deployed once per session from the artifact shipped in the package
(spartacus/artifacts/Spartacus.json, checked against a fresh compile by
tests/chain/test_artifact.py), so these tests need no compiler and no network. Every test runs in
its own chain snapshot, taken by ``_isolation`` below: ape-config.yaml turns ape's own
isolation off so that ape's pytest plugin leaves the rest of the test suite alone.

Roles: ``relayer`` deploys the registry and submits signed pledges and withdrawals;
``creator`` creates campaigns; ``custodians`` (5 funded accounts) endorse keys and release;
``pledgers`` (6 funded accounts) pledge directly; ``pledge_account()`` makes a fresh,
unfunded pledge account that only signs, as the protocol intends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ape.contracts import ContractInstance
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from spartacus.ape import registry_container
from spartacus.chain.groups import Groups

from .helpers import (
    BLOCK,
    CIPHERTEXT_OVERHEAD,
    DAY,
    MEMBERS,
    VALID_UNTIL,
    Campaign,
    Sealed,
    events,
    rand32,
    typed_data,
)

# ---------------------------------------------------------------- roles


@pytest.fixture(scope="session")
def relayer(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def creator(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="session")
def custodians(accounts: Any) -> list[Any]:
    return list(accounts[2:7])


@pytest.fixture(scope="session")
def pledgers(accounts: Any, relayer: Any) -> list[Any]:
    """Six funded accounts for direct pledges (the last three generated and funded here)."""
    extra = [accounts.generate_test_account() for _ in range(3)]
    for account in extra:
        relayer.transfer(account, 10**18)
    return [*accounts[7:10], *extra]


@pytest.fixture(scope="session")
def groups(chain: Any, relayer: Any) -> Groups:
    """The membership groups contract (with PoseidonT3 and the verifier), from the artifacts."""
    return Groups.deploy(chain.provider.web3, Account.from_key(relayer.private_key))


@pytest.fixture(scope="session")
def registry(relayer: Any, pledgers: list[Any], groups: Groups) -> ContractInstance:
    """The registry, deployed from the shipped artifact, naming ``groups``."""
    return registry_container().deploy(groups.address, sender=relayer)


@pytest.fixture(autouse=True)
def _isolation(chain: Any, registry: ContractInstance) -> Iterator[None]:
    """Each test starts from the freshly deployed registry, at the chain time it had then."""
    snapshot = chain.snapshot()
    yield
    chain.restore(snapshot)


@pytest.fixture
def now(chain: Any) -> Callable[[], int]:
    """The timestamp of the next block, i.e. the ``block.timestamp`` of the next transaction."""
    return lambda: int(chain.pending_timestamp)


@pytest.fixture
def travel(chain: Any) -> Callable[[int], None]:
    """Set the timestamp of the next block (the next transaction runs at exactly ``when``)."""

    def to(when: int) -> None:
        chain.pending_timestamp = when

    return to


# ---------------------------------------------------------------- signing


@pytest.fixture
def domain(chain: Any, registry: ContractInstance) -> dict[str, Any]:
    return {"chain_id": chain.chain_id, "registry": registry.address}


@pytest.fixture
def sign(domain: dict[str, Any]) -> Callable[..., bytes]:
    """``sign(key, primary, message, chain_id=..., registry=...)``: an EIP-712 signature."""

    def signature(
        private_key: Any, primary: str, message: dict[str, Any], **override: Any
    ) -> bytes:
        data = typed_data(primary, message, **{**domain, **override})
        signed = Account.sign_message(encode_typed_data(full_message=data), private_key)
        return bytes(signed.signature)

    return signature


@pytest.fixture
def endorse(sign: Callable[..., bytes], now: Callable[[], int]) -> Callable[..., tuple[Any, ...]]:
    """An endorsement tuple for ``custodian`` (fresh key, valid for a day unless told)."""

    def endorsement(
        custodian: Any,
        key: bytes | None = None,
        expiry: int | None = None,
        signer: Any = None,
        **domain: Any,
    ) -> tuple[Any, ...]:
        key = rand32() if key is None else key
        expiry = now() + DAY if expiry is None else expiry
        message = {"campaignKey": key, "expiry": expiry}
        signature = sign((signer or custodian).private_key, "Endorsement", message, **domain)
        return (custodian.address, key, expiry, signature)

    return endorsement


@pytest.fixture
def pledge_account() -> Callable[[], LocalAccount]:
    """A fresh pledge account: a key that signs and never holds funds."""
    return lambda: Account.from_key(rand32())


@pytest.fixture
def terms(now: Callable[[], int]) -> Callable[..., tuple[Any, ...]]:
    """Terms as the ABI tuple; keyword arguments override the defaults."""

    def make(
        title: str = "Fix the heating",
        description: str = "The office is cold",
        plan: str = "We write to facilities together",
        threshold: int = 3,
        deadline: int | None = None,
        grace: int = 0,
        t: int = 1,
        roster: int = MEMBERS,
        late: bool = False,
        group: int = 0,
    ) -> tuple[Any, ...]:
        deadline = now() + 7 * DAY if deadline is None else deadline
        return (title, description, plan, threshold, deadline, grace, t, roster, late, group)

    return make


@pytest.fixture
def create_campaign(
    registry: ContractInstance,
    creator: Any,
    custodians: list[Any],
    endorse: Callable[..., tuple[Any, ...]],
    terms: Callable[..., tuple[Any, ...]],
) -> Callable[..., Campaign]:
    """Factory: ``create_campaign(threshold=3, custodians=1, t=1, grace=0, ...)``."""
    all_custodians = custodians

    def create(
        threshold: int = 3,
        custodians: int = 1,
        t: int = 1,
        grace: int = 0,
        deadline: int | None = None,
        roster: int = MEMBERS,
        instruction_blocks: int = 1,
        late: bool = False,
        group: int = 0,
    ) -> Campaign:
        chosen = all_custodians[:custodians]
        endorsements = [endorse(c) for c in chosen]
        campaign_terms = terms(
            threshold=threshold,
            deadline=deadline,
            grace=grace,
            t=t,
            roster=roster,
            late=late,
            group=group,
        )
        instructions = Sealed.random(
            n=custodians, t=t, ciphertext=CIPHERTEXT_OVERHEAD + BLOCK * instruction_blocks
        )
        receipt = registry.createCampaign(
            campaign_terms, instructions.abi, endorsements, sender=creator
        )
        (created,) = events(receipt, "CampaignCreated")
        return Campaign(
            id=created["campaignId"],
            threshold=threshold,
            deadline=campaign_terms[4],
            grace=grace,
            t=t,
            custodians=chosen,
            keys=[e[1] for e in endorsements],
            terms=campaign_terms,
            instructions=instructions,
            receipt=receipt,
            endorsements=endorsements,
        )

    return create


@pytest.fixture
def pledge(registry: ContractInstance) -> Callable[..., Any]:
    """``pledge(campaign, pledger, sealed=None)``: a direct pledge; returns the receipt."""

    def send(campaign: Campaign, pledger: Any, sealed: Sealed | None = None) -> Any:
        sealed = campaign.sealed() if sealed is None else sealed
        return registry.pledge(campaign.id, sealed.abi, sender=pledger)

    return send


@pytest.fixture
def pledge_many(pledge: Callable[..., Any], pledgers: list[Any]) -> Callable[..., list[Any]]:
    """``pledge_many(campaign, k)``: the first ``k`` pledgers pledge; returns the receipts."""

    def send(campaign: Campaign, count: int) -> list[Any]:
        return [pledge(campaign, p) for p in pledgers[:count]]

    return send


@pytest.fixture
def sign_pledge(registry: ContractInstance, sign: Callable[..., bytes]) -> Callable[..., bytes]:
    """``sign_pledge(account, campaign_id, sealed, nonce=None, valid_until=VALID_UNTIL,
    **domain)``."""

    def signature(
        account: LocalAccount,
        campaign_id: int,
        sealed: Sealed,
        nonce: int | None = None,
        valid_until: int = VALID_UNTIL,
        **domain: Any,
    ) -> bytes:
        nonce = registry.nonceOf(campaign_id, account.address) if nonce is None else nonce
        message = sealed.message(campaign_id, nonce, valid_until)
        return sign(account.key, "Pledge", message, **domain)

    return signature


@pytest.fixture
def sign_withdraw(registry: ContractInstance, sign: Callable[..., bytes]) -> Callable[..., bytes]:
    """``sign_withdraw(account, campaign_id, nonce=None, **domain)``."""

    def signature(
        account: LocalAccount, campaign_id: int, nonce: int | None = None, **domain: Any
    ) -> bytes:
        nonce = registry.nonceOf(campaign_id, account.address) if nonce is None else nonce
        return sign(
            account.key,
            "Withdraw",
            {"campaignId": campaign_id, "nonce": nonce, "validUntil": VALID_UNTIL},
            **domain,
        )

    return signature
