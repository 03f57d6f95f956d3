"""`spartacus group ...` on anvil: deploy, create, invite, redeem (join), add, status."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from spartacus import semaphore

from .conftest import Spartacus


@pytest.fixture
def groups(spartacus: Spartacus) -> dict[str, str]:
    """A groups contract deployed by the admin; the env that points every role at it."""
    address = spartacus.ok("group", "deploy", role="admin", dev=0)["groups"]
    return {"SPARTACUS_GROUPS": address}


def test_group_create_invite_redeem_add_status(
    spartacus: Spartacus, groups: dict[str, str], tmp_path: Path
) -> None:
    created = spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    assert created == {"group": 1}
    invited = spartacus.ok(
        "group", "invite", "1", "--count", "2", "--url", "https://spartacus.example/",
        role="admin", env=groups,
    )  # fmt: skip
    first, second = invited["invitations"]
    assert first["code"].startswith("1-") and first["code"] != second["code"]
    assert first["link"] == f"https://spartacus.example/g/1/join#{first['code']}"

    bob = spartacus.ok("group", "redeem", first["code"], role="bob", dev=3, env=groups)
    carol = spartacus.ok("group", "join", second["code"], role="carol", dev=4, env=groups)

    # The backup code brings back the identity whose commitment joined; it is saved privately.
    assert semaphore.import_identity(bob["backup"]).commitment == int(bob["commitment"])
    saved = Path(bob["identity"])
    assert saved.is_relative_to(spartacus.home("bob")) and bob["backup"] in saved.read_text()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    added = spartacus.ok("group", "add", "1", "1234", "5678", role="admin", env=groups)
    assert (added["added"], added["size"]) == (2, 4)

    status = spartacus.ok("group", "status", "1", role="anyone", env=groups)
    assert status == {
        "group": 1, "name": "Night shift", "admin": status["admin"], "size": 4,
        "invitations": 0, "redeemed": 2, "root": status["root"],
    }  # fmt: skip
    assert status["admin"] == spartacus.ok("group", "status", "1", env=groups)["admin"]
    assert carol["commitment"] != bob["commitment"]
    text = spartacus("group", "status", "1", env=groups).stdout
    assert "Night shift" in text and "0 outstanding, 2 redeemed" in text


def test_redeem_used_code_is_refused(spartacus: Spartacus, groups: dict[str, str]) -> None:
    spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    (invitation,) = spartacus.ok("group", "invite", "1", role="admin", env=groups)["invitations"]
    spartacus.ok("group", "redeem", invitation["code"], role="bob", dev=3, env=groups)

    again = spartacus("group", "redeem", invitation["code"], role="eve", dev=5, env=groups)
    assert again.exit_code == 1
    assert "invitation to group 1 (Night shift) is redeemed" in again.stderr
    assert not (spartacus.home("eve") / "identities").exists()  # nothing made or saved


def test_redeem_malformed_or_unknown_code_is_refused(
    spartacus: Spartacus, groups: dict[str, str]
) -> None:
    spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    bad = spartacus("group", "redeem", "1-abc", role="bob", dev=3, env=groups)
    assert bad.exit_code == 1 and "copied whole" in bad.stderr
    unknown = spartacus("group", "redeem", "1-" + "B" * 43, role="bob", dev=3, env=groups)
    assert unknown.exit_code == 1 and "is unknown: check the code" in unknown.stderr


def test_invite_and_add_by_non_admin_are_refused(
    spartacus: Spartacus, groups: dict[str, str]
) -> None:
    spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    for args in (("invite", "1"), ("add", "1", "42")):
        result = spartacus("group", *args, role="eve", dev=5, env=groups)
        assert result.exit_code == 1 and "is administered by" in result.stderr


def test_invite_prints_qr_codes(spartacus: Spartacus, groups: dict[str, str]) -> None:
    spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    result = spartacus("group", "invite", "1", "--qr", role="admin", env=groups)
    assert result.exit_code == 0 and "█" in result.stdout


def test_group_commands_without_a_record_use_the_registrys_groups(spartacus: Spartacus) -> None:
    """No groups contract recorded or named: the one the registry's gated campaigns name
    (its constructor's) serves, so a group made here can gate this registry's campaigns."""
    result = spartacus("group", "status", "1")
    assert result.exit_code == 1 and "group 1 does not exist" in result.stderr
    assert spartacus.ok("group", "create", "--name", "Night shift", role="admin") == {"group": 1}
    assert spartacus.ok("group", "status", "1")["name"] == "Night shift"


def test_group_add_refuses_non_numbers(spartacus: Spartacus, groups: dict[str, str]) -> None:
    spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    result = spartacus("group", "add", "1", "0xabc", role="admin", env=groups)
    assert result.exit_code == 1 and "'0xabc' is not an identity commitment" in result.stderr


def test_restore_keeps_a_backup_file_and_checks_it(
    spartacus: Spartacus, groups: dict[str, str], tmp_path: Path
) -> None:
    spartacus.ok("group", "create", "--name", "Night shift", role="admin", env=groups)
    (invitation,) = spartacus.ok("group", "invite", "1", role="admin", env=groups)["invitations"]
    bob = spartacus.ok("group", "redeem", invitation["code"], role="bob", dev=3, env=groups)

    # Bob's identity file (the browser's backup has the same format) moves to another home.
    restored = spartacus.ok("group", "restore", bob["identity"], role="laptop", env=groups)
    assert restored["member"] is True and restored["commitment"] == bob["commitment"]
    assert Path(restored["identity"]).read_text() == Path(bob["identity"]).read_text()

    altered = json.loads(Path(bob["identity"]).read_text()) | {"commitment": "12345"}
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    refused = spartacus("group", "restore", str(tmp_path / "altered.json"), role="x", env=groups)
    assert refused.exit_code == 1 and "does not match its backup code" in refused.stderr
    other = json.loads(Path(bob["identity"]).read_text()) | {"chainId": 10}
    (tmp_path / "other.json").write_text(json.dumps(other))
    refused = spartacus("group", "restore", str(tmp_path / "other.json"), role="y", env=groups)
    assert refused.exit_code == 1 and "is for chain 10" in refused.stderr


def test_status_warns_when_the_group_is_small_for_the_threshold(
    spartacus: Spartacus, create_campaign: Any
) -> None:
    """Fewer than 2N members: a pledge hides among few people (or, under N, the admin alone
    decides who completes the count). `status` says so, and stops once the group is 2N."""
    group = spartacus.ok("group", "create", "--name", "Night shift", role="admin")["group"]
    spartacus.ok("group", "add", str(group), *[str(c) for c in range(1001, 1004)], role="admin")
    campaign, _ = create_campaign(threshold=4, custodians=2, t=2, grace="72h", group=group)

    under = spartacus.ok("status", str(campaign))["warnings"]
    assert under == [
        "the group has 3 members; with a threshold of 4, the campaign cannot reveal until the "
        "group's admin adds more members, and the admin alone decides who they are."
    ]
    spartacus.ok("group", "add", str(group), "1004", "1005", role="admin")
    few = spartacus.ok("status", str(campaign))["warnings"]
    assert few == [
        "the group has 5 members; with a threshold of 4, reaching it takes most of the group, "
        "so a pledge hides among few people: whoever knows the group's members can guess who "
        "joined."
    ]
    text = spartacus("status", str(campaign)).stdout
    assert "  warning    the group has 5 members; with a threshold of 4, reaching it" in text

    spartacus.ok("group", "add", str(group), "1006", "1007", "1008", role="admin")
    assert spartacus.ok("status", str(campaign))["warnings"] == []  # 8 = 2N: enough
