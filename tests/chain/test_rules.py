"""The registry's rules restated in chain/rules.py: limits read from the contract, typed errors.

The contract tests (tests/contracts) show the registry enforces these rules; these show that
the checks made before sending use the contract's own numbers and refuse with the error the
registry would revert with, worded for people.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from spartacus import exceptions, protocol
from spartacus.chain import rules
from spartacus.chain.records import Status
from spartacus.dev import build
from spartacus.protocol.primitives import NONCE_SIZE, TAG_SIZE
from spartacus.web.errors import HTTP_STATUS, http_status

NOW = 1_800_000_000
ACCOUNT = "0x" + "ab" * 20


def test_limits_are_the_constants_the_contract_declares() -> None:
    source = (build.ROOT / build.SHIPPED["Spartacus"]).read_text()
    declared = dict(re.findall(r"uint256 private constant (\w+) = ([\d_]+);", source))

    assert declared, "the contract declares its limits as uint256 constants"
    limits = rules.limits()
    for name, value in declared.items():
        assert getattr(limits, name.lower()) == int(value), name


def test_the_protocol_sizes_agree_with_the_contract() -> None:
    limits = rules.limits()

    assert protocol.PLEDGE_CIPHERTEXT_SIZE == limits.pledge_ciphertext
    assert protocol.PLEDGE_BLOCK == limits.block
    assert NONCE_SIZE + TAG_SIZE == limits.ciphertext_overhead
    assert protocol.MAX_INSTRUCTION_BLOCKS == limits.max_instruction_blocks
    assert protocol.MAX_CUSTODIANS == limits.max_custodians
    assert [protocol.box_size(t) for t in (1, 2, 5)] == [limits.box_t1] + [limits.box_shamir] * 2
    assert protocol.MAX_RELEASE_PART <= limits.max_release


def _terms(**change: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "title": "Fair rota",
        "description": "",
        "plan": "",
        "threshold": 2,
        "deadline": NOW + 1,
        "now": NOW,
    }
    return terms | change


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"title": ""}, exceptions.BadLength, "title has 0 bytes; it must have 1 to 200"),
        ({"title": "é" * 101}, exceptions.BadLength, "title has 202 bytes; it must have 1 to 200"),
        ({"plan": "x" * 4001}, exceptions.BadLength, "plan has 4001 bytes; it must have 0 to 4000"),
        ({"threshold": 1}, exceptions.ThresholdTooLow, "threshold must be at least 2 (got 1)"),
        ({"deadline": NOW}, exceptions.DeadlineNotInFuture, "2027-01-15T08:00:00Z is not in"),
    ],
)
def test_terms_that_break_a_rule_are_refused_with_the_rule(
    change: dict[str, Any], error: type[exceptions.RuleViolation], message: str
) -> None:
    rules.check_terms(**_terms())
    with pytest.raises(error, match=re.escape(message)):
        rules.check_terms(**_terms(**change))


def test_terms_are_named_as_the_caller_names_them() -> None:
    with pytest.raises(exceptions.ThresholdTooLow, match="^--threshold must be at least 2"):
        rules.check_terms(**_terms(threshold=0), names={"threshold": "--threshold"})


@pytest.mark.parametrize(
    ("count", "t", "error"),
    [
        (0, 1, exceptions.BadCustodianCount),
        (6, 1, exceptions.BadCustodianCount),
        (3, 0, exceptions.BadCustodianThreshold),
        (3, 4, exceptions.BadCustodianThreshold),
    ],
)
def test_custodians_outside_the_limits_are_refused(
    count: int, t: int, error: type[exceptions.RuleViolation]
) -> None:
    with pytest.raises(error):
        rules.check_custodians(count, t)


@pytest.mark.parametrize(("count", "t"), [(1, 1), (5, 1), (5, 5), (3, 2)])
def test_custodians_within_the_limits_pass(count: int, t: int) -> None:
    rules.check_custodians(count, t)


def test_instructions_of_a_wrong_size_are_refused() -> None:
    keys = protocol.derive_keys(protocol.new_secret())
    custodian = protocol.derive_keys(protocol.new_secret()).member_key
    deployment = protocol.Deployment(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    sealed = protocol.seal_instructions(deployment, keys, "Meet at noon", [custodian], 1)
    rules.check_instructions(sealed, 1, 1)

    longer = protocol.Sealed(sealed.member_key, sealed.ciphertext + b"\0", sealed.boxes, b"")
    with pytest.raises(exceptions.BadLength, match=r"40 \+ 256 \* k bytes with k from 1 to 16"):
        rules.check_instructions(longer, 1, 1)
    with pytest.raises(exceptions.BadLength, match="instructions.boxes has 112 bytes; expected"):
        rules.check_instructions(sealed, 1, 2)  # t = 2 needs 113-byte boxes


def test_an_expired_endorsement_is_refused_and_one_expiring_now_is_not() -> None:
    rules.check_endorsement("endorsement 1", NOW, NOW)
    with pytest.raises(exceptions.EndorsementExpired, match="^endorsement 2 expired on"):
        rules.check_endorsement("endorsement 2", NOW - 1, NOW)


@pytest.mark.parametrize(
    ("status", "now"),
    [(Status.EXPIRED, NOW - 10), (Status.OPEN, NOW + 1), (Status.REVEALED, NOW + 1)],
)
def test_pledges_after_the_deadline_or_expiry_are_refused(status: Status, now: int) -> None:
    with pytest.raises(exceptions.CampaignClosed, match="^campaign 7 closed on .*: no more"):
        rules.check_pledge(7, ACCOUNT, status=status, deadline=NOW, now=now, active=False)


def test_late_pledges_until_the_deadline_pass_in_late_joining_campaigns() -> None:
    rules.check_pledge(
        7, ACCOUNT, status=Status.REVEALED, deadline=NOW, now=NOW, active=False, late_joining=True
    )


def test_pledges_after_the_reveal_are_refused_without_late_joining() -> None:
    with pytest.raises(exceptions.CampaignClosed, match="joining closed at the reveal"):
        rules.check_pledge(7, ACCOUNT, status=Status.REVEALED, deadline=NOW, now=NOW, active=False)


def test_signature_past_valid_until_is_refused() -> None:
    rules.check_valid_until(NOW, NOW)
    with pytest.raises(exceptions.SignatureExpired, match="which has passed"):
        rules.check_valid_until(NOW - 1, NOW)
    with pytest.raises(exceptions.SignatureExpired, match="more than 60 seconds ahead"):
        rules.check_valid_until(NOW + 61, NOW, most=60)


def test_admit_checks_creator_status_window_and_indices() -> None:
    creator = "0x" + "cd" * 20
    args: dict[str, Any] = {
        "caller": creator,
        "creator": creator,
        "status": Status.REVEALED,
        "deadline": NOW,
        "now": NOW,
        "late": {3},
    }
    rules.check_admit(7, [3], **args)
    with pytest.raises(exceptions.NotCreator):
        rules.check_admit(7, [3], **{**args, "caller": ACCOUNT})
    with pytest.raises(exceptions.WrongStatus):
        rules.check_admit(7, [3], **{**args, "status": Status.OPEN})
    with pytest.raises(exceptions.AdmissionClosed):
        rules.check_admit(7, [3], **{**args, "now": NOW + rules.limits().admit_window + 1})
    with pytest.raises(exceptions.NotLatePledge, match="waiting: \\[3\\]"):
        rules.check_admit(7, [2], **args)


def test_a_second_active_pledge_is_refused() -> None:
    with pytest.raises(exceptions.AlreadyPledged, match="already has an active pledge in"):
        rules.check_pledge(7, ACCOUNT, status=Status.OPEN, deadline=NOW, now=NOW, active=True)


@pytest.mark.parametrize("status", [Status.REVEALED, Status.EXPIRED])
def test_withdrawals_after_the_reveal_or_expiry_are_refused(status: Status) -> None:
    with pytest.raises(exceptions.WrongStatus, match=f"is {status.label}: a pledge can only"):
        rules.check_withdraw(7, ACCOUNT, status=status, active=True)


def test_withdrawing_no_active_pledge_is_refused() -> None:
    rules.check_withdraw(7, ACCOUNT, status=Status.PENDING, active=True)
    with pytest.raises(exceptions.NotPledged, match=f"^{ACCOUNT} has no active pledge in"):
        rules.check_withdraw(7, ACCOUNT, status=Status.OPEN, active=False)


def test_every_rule_violation_has_an_http_status() -> None:
    violations = [
        cls
        for cls in vars(exceptions).values()
        if isinstance(cls, type) and issubclass(cls, exceptions.RuleViolation)
    ]
    statuses = {cls: http_status(cls("x")) for cls in violations}

    assert statuses[exceptions.BadLength] == 400
    assert statuses[exceptions.MalformedSignature] == 400
    assert statuses[exceptions.CampaignClosed] == 409
    assert statuses[exceptions.NotPledged] == 409
    assert statuses[exceptions.BadSignature] == 409
    assert statuses[exceptions.NullifierInUse] == 409
    assert statuses[exceptions.NotAMember] == 403  # the group does not count the prover
    assert set(statuses.values()) == {400, 403, 409}
    assert http_status(exceptions.RequestRefused("busy", 429)) == 429
    assert http_status(exceptions.ChainError("down")) == HTTP_STATUS[exceptions.SpartacusError]
