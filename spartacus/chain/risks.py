"""What a campaign's terms risk for a pledger: allowed by the registry, but unsafe.

The rules (``rules``) refuse what the contract would revert; these only warn, in one
sentence each, of terms it accepts: one custodian holding every key, no grace period, an
open campaign anyone can pledge to many times, a gated one whose group is small.
"""

from __future__ import annotations

# What a campaign's terms mean for a pledger, in one sentence each: the CLI's `create` and
# `status`, the campaign page and its join form all say these, word for word.
SINGLE_CUSTODIAN = (
    "one custodian alone holds the key to every pledge: whoever runs it, or forces it, can "
    "read who joined before the threshold is reached."
)
NO_GRACE = (
    "no grace period: the moment the threshold is reached everyone is revealed, so a burst "
    "of fake pledges would expose the real members before anyone could withdraw."
)

NOT_SYBIL_PROTECTED = (
    "anyone: the campaign is not Sybil-protected, so one person can pledge many times from "
    "fresh accounts; only the grace period and the pledges' timing show such a burst"
)


def who_may_join(group: int, name: str = "", size: int = 0, admin: str = "") -> str:
    """Who may pledge, in one sentence: the `status` command and the campaign page."""
    if not group:
        return NOT_SYBIL_PROTECTED
    return (
        f'members of group {group} "{name}" ({size} members, admin {admin}), one active '
        "pledge each: the threshold counts distinct members"
    )


def small_group(size: int, threshold: int) -> list[str]:
    """The warning a gated campaign carries when its group has fewer than twice its threshold
    of members (none otherwise): the pledges then hide among few people."""
    if size >= 2 * threshold:
        return []
    members = f"{size} member{'s' if size != 1 else ''}"
    start = f"the group has {members}; with a threshold of {threshold}, "
    if size < threshold:
        return [
            start + "the campaign cannot reveal until the group's admin adds more members, "
            "and the admin alone decides who they are."
        ]
    return [
        start + "reaching it takes most of the group, so a pledge hides among few people: "
        "whoever knows the group's members can guess who joined."
    ]


def unsafe_terms(custodian_threshold: int, grace_period: int) -> list[str]:
    """The warnings a campaign with these terms carries (none for safe terms)."""
    out = []
    if custodian_threshold <= 1:
        out.append(SINGLE_CUSTODIAN)
    if grace_period <= 0:
        out.append(NO_GRACE)
    return out
