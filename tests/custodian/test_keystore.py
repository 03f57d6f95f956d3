"""The custodian keystore on real files: encrypted at rest, 0600, and the passphrase matters."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from spartacus.custodian.keystore import Keystore, load_passphrase
from spartacus.exceptions import KeyNotForThisRegistry, KeystoreError
from spartacus.files import write_private

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
def keystore(tmp_path: Path) -> Keystore:
    store = Keystore(tmp_path, "correct horse battery staple")
    store.create()
    return store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_writes_only_owner_readable_files(keystore: Keystore) -> None:
    files = [p for p in keystore.root.rglob("*") if p.is_file()]
    assert files and all(_mode(p) == 0o600 for p in files)


def test_create_refuses_to_overwrite_an_identity(keystore: Keystore, tmp_path: Path) -> None:
    before = keystore.account_path.read_bytes()
    with pytest.raises(KeystoreError, match="already exists"):
        Keystore(tmp_path, "another").create()
    assert keystore.account_path.read_bytes() == before


def test_campaign_key_is_encrypted_at_rest_and_round_trips(keystore: Keystore) -> None:
    key = keystore.new_campaign_key(REGISTRY, 31337, 2_000_000_000)
    text = key.path.read_text()
    assert key.secret.hex() not in text and key.public.hex() in text
    assert _mode(key.path) == 0o600
    loaded = keystore.campaign_key(key.public)
    assert loaded.secret == key.secret
    assert bytes(PrivateKey(loaded.secret).public_key) == key.public
    assert (loaded.registry, loaded.chain_id, loaded.expiry) == (REGISTRY, 31337, 2_000_000_000)
    assert keystore.campaign_keys() == [key.public]


def test_campaign_key_is_given_out_only_for_its_own_chain_and_registry(
    keystore: Keystore,
) -> None:
    key = keystore.new_campaign_key(REGISTRY, 31337, 2_000_000_000)
    assert keystore.campaign_key_for(key.public, 31337, REGISTRY.lower()).secret == key.secret
    copycat = "0x" + "c0" * 20
    for chain_id, registry in ((31337, copycat), (1, REGISTRY)):
        with pytest.raises(KeyNotForThisRegistry, match=f"issued for 31337:{REGISTRY}, not"):
            keystore.campaign_key_for(key.public, chain_id, registry)
    assert keystore.campaign_keys() == [key.public]


def test_wrong_passphrase_opens_nothing(keystore: Keystore, tmp_path: Path) -> None:
    key = keystore.new_campaign_key(REGISTRY, 31337, 2_000_000_000)
    wrong = Keystore(tmp_path, "wrong passphrase")
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        wrong.account()
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        wrong.campaign_key(key.public)


def test_tampered_key_file_is_refused(keystore: Keystore) -> None:
    key = keystore.new_campaign_key(REGISTRY, 31337, 2_000_000_000)
    record = json.loads(key.path.read_text())
    sealed = bytearray(bytes.fromhex(record["sealed"]))
    sealed[-1] ^= 1
    record["sealed"] = sealed.hex()
    key.path.write_text(json.dumps(record))
    with pytest.raises(KeystoreError):
        keystore.campaign_key(key.public)


def test_destroyed_key_is_gone(keystore: Keystore) -> None:
    key = keystore.new_campaign_key(REGISTRY, 31337, 2_000_000_000)
    assert keystore.destroy_campaign_key(key.public) is True
    assert not key.path.exists() and keystore.campaign_keys() == []
    assert keystore.destroy_campaign_key(key.public) is False
    with pytest.raises(KeystoreError, match="not found"):
        keystore.campaign_key(key.public)


def test_address_is_readable_without_decrypting(keystore: Keystore, tmp_path: Path) -> None:
    assert Keystore(tmp_path, "any passphrase").address() == keystore.account().address


def test_passphrase_comes_from_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "pass"
    path.write_text("from-file\n")
    assert load_passphrase(str(path), "from-env", interactive=False) == "from-file"
    assert load_passphrase(None, "from-env", interactive=False) == "from-env"
    with pytest.raises(KeystoreError, match="SPARTACUS_PASSPHRASE"):
        load_passphrase(None, None, interactive=False)
    with pytest.raises(KeystoreError, match="cannot read passphrase file"):
        load_passphrase(str(tmp_path / "missing"), None, interactive=False)


def test_write_private_replaces_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    write_private(target, "one")
    write_private(target, "two")
    assert target.read_text() == "two" and _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.json"]
