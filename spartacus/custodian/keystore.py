"""The custodian's keystore: its Ethereum account and its per-campaign X25519 keys.

Layout under ``<home>/custodian/``:

- ``account.json``: the custodian's account as a standard Ethereum keyfile (scrypt),
  importable into any wallet.
- ``keystore.json``: the Argon2id salt and limits from which the campaign-key wrapping key is
  derived (once per process, not once per key).
- ``keys/<campaign key hex>.json``: one campaign secret key sealed with XSalsa20-Poly1305
  under that wrapping key, with the public facts (registry, chain, expiry, and whether the
  creator asked for roster mail) in the clear.

Every file is written atomically with mode 0600; no secret is ever printed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from nacl.public import PrivateKey

from ..exceptions import KeyNotForThisRegistry, KeystoreError
from ..files import read_json, write_json

KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MODERATE


@dataclass(frozen=True)
class CampaignKey:
    """A campaign key pair held by this custodian, with its public facts."""

    public: bytes
    secret: bytes
    registry: str
    chain_id: int
    expiry: int
    path: Path
    mail_roster: bool = False  # the creator asked this custodian to mail the roster (t = 1)

    @property
    def issued_for(self) -> str:
        """``<chain id>:<registry>``, the one registry this key may be used on."""
        return f"{self.chain_id}:{self.registry}"

    def serves(self, chain_id: int, registry: str) -> bool:
        """True if this key was issued for ``registry`` on chain ``chain_id``."""
        return self.chain_id == chain_id and self.registry.lower() == registry.lower()


class Keystore:
    """Opened with the passphrase; reads and writes the files under ``<home>/custodian``."""

    def __init__(self, home: Path, passphrase: str) -> None:
        if not passphrase:
            raise KeystoreError("the keystore passphrase is empty")
        self.root = home / "custodian"
        self._passphrase = passphrase
        self._box: nacl.secret.SecretBox | None = None

    # ------------------------------------------------------------ account

    @property
    def account_path(self) -> Path:
        return self.root / "account.json"

    def exists(self) -> bool:
        return self.account_path.exists()

    def create(self) -> str:
        """Create the custodian identity; refuse to overwrite an existing one."""
        if self.exists():
            raise KeystoreError(
                f"a custodian identity already exists at {self.account_path}; "
                "back it up and move it away first if you really want a new one"
            )
        account = Account.create()
        keyfile = Account.encrypt(account.key, self._passphrase)
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        write_json(
            self.root / "keystore.json",
            {
                "version": 1,
                "kdf": "argon2id",
                "salt": salt.hex(),
                "opslimit": KDF_OPSLIMIT,
                "memlimit": KDF_MEMLIMIT,
                "address": account.address,
            },
        )
        write_json(self.account_path, keyfile)
        return str(account.address)

    def address(self) -> str:
        """The custodian's address, read without the passphrase."""
        keyfile = self._read(self.account_path, "custodian account")
        raw = keyfile.get("address") if isinstance(keyfile, dict) else None
        if not isinstance(raw, str):
            raise KeystoreError(f"custodian keyfile {self.account_path} has no address")
        return str(to_checksum_address("0x" + raw.removeprefix("0x")))

    def account(self) -> LocalAccount:
        keyfile = self._read(self.account_path, "custodian account")
        try:
            key = Account.decrypt(keyfile, self._passphrase)
        except ValueError as exc:
            raise KeystoreError(
                "wrong passphrase for the custodian keystore "
                "(set SPARTACUS_PASSPHRASE or --passphrase-file)"
            ) from exc
        return Account.from_key(key)

    # ------------------------------------------------------------ campaign keys

    def _wrapping_box(self) -> nacl.secret.SecretBox:
        if self._box is None:
            meta = self._read(self.root / "keystore.json", "custodian keystore")
            try:
                key = nacl.pwhash.argon2id.kdf(
                    nacl.secret.SecretBox.KEY_SIZE,
                    self._passphrase.encode(),
                    bytes.fromhex(meta["salt"]),
                    opslimit=int(meta["opslimit"]),
                    memlimit=int(meta["memlimit"]),
                )
            except (KeyError, ValueError) as exc:
                raise KeystoreError(f"custodian keystore metadata is damaged: {exc}") from exc
            self._box = nacl.secret.SecretBox(key)
        return self._box

    def new_campaign_key(
        self, registry: str, chain_id: int, expiry: int, mail_roster: bool = False
    ) -> CampaignKey:
        """Create, store and return a fresh campaign key pair.

        ``mail_roster`` records that the creator asked this custodian to e-mail the roster
        to the members (done by the daemon only when it alone can read it, t = 1).
        """
        self.account()  # checks the passphrase before anything is written
        secret = PrivateKey.generate()
        public = bytes(secret.public_key)
        path = self.root / "keys" / f"{public.hex()}.json"
        sealed = self._wrapping_box().encrypt(bytes(secret))
        write_json(
            path,
            {
                "version": 1,
                "campaignKey": "0x" + public.hex(),
                "registry": registry,
                "chainId": chain_id,
                "expiry": expiry,
                "mailRoster": bool(mail_roster),
                "created": int(time.time()),
                "sealed": sealed.hex(),
            },
        )
        return CampaignKey(
            public, bytes(secret), registry, chain_id, expiry, path, bool(mail_roster)
        )

    def campaign_key(self, public: bytes) -> CampaignKey:
        """The stored key pair for campaign key ``public``."""
        path = self.root / "keys" / f"{public.hex()}.json"
        record = self._read(path, f"campaign key 0x{public.hex()}")
        try:
            secret = self._wrapping_box().decrypt(bytes.fromhex(record["sealed"]))
        except nacl.exceptions.CryptoError as exc:
            raise KeystoreError(f"wrong passphrase for campaign key file {path}") from exc
        except (KeyError, ValueError) as exc:
            raise KeystoreError(f"campaign key file {path} is damaged: {exc}") from exc
        if bytes(PrivateKey(secret).public_key) != public:
            raise KeystoreError(f"campaign key file {path} holds a key for another public key")
        return CampaignKey(
            public,
            secret,
            record["registry"],
            int(record["chainId"]),
            int(record["expiry"]),
            path,
            record.get("mailRoster") is True,  # absent in files written before the flag
        )

    def campaign_key_for(self, public: bytes, chain_id: int, registry: str) -> CampaignKey:
        """The stored key pair for ``public``, only if it was issued for ``registry`` on chain
        ``chain_id``: a copycat registry that names a real key gets ``KeyNotForThisRegistry``
        (the first defence; since protocol v2 the boxes' binding names the chain and the
        registry too, so a key used elsewhere anyway still opens nothing there)."""
        key = self.campaign_key(public)
        if not key.serves(chain_id, registry):
            raise KeyNotForThisRegistry(public, key.issued_for, f"{chain_id}:{registry}")
        return key

    def campaign_keys(self) -> list[bytes]:
        """The public keys of every campaign key held."""
        folder = self.root / "keys"
        if not folder.exists():
            return []
        return sorted(bytes.fromhex(p.stem) for p in folder.glob("*.json"))

    def destroy_campaign_key(self, public: bytes) -> bool:
        """Delete a campaign key for good; True if there was one."""
        path = self.root / "keys" / f"{public.hex()}.json"
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    @staticmethod
    def _read(path: Path, what: str) -> Any:
        if not path.exists():
            raise KeystoreError(f"{what} not found at {path}; run `spartacus custodian init`")
        try:
            return read_json(path, what)
        except Exception as exc:
            raise KeystoreError(str(exc)) from exc


def load_passphrase(
    passphrase_file: str | None, env_value: str | None, interactive: bool, new: bool = False
) -> str:
    """The keystore passphrase from a file, the environment, or (on a terminal) a prompt;
    ``new`` (a keystore about to be made) asks twice, so a typo cannot lock it for good."""
    if passphrase_file:
        try:
            text = Path(passphrase_file).read_text()
        except OSError as exc:
            raise KeystoreError(f"cannot read passphrase file {passphrase_file}: {exc}") from exc
        passphrase = text.rstrip("\r\n")
    elif env_value:
        passphrase = env_value
    elif interactive:
        import click

        if new:
            passphrase = click.prompt(
                "New keystore passphrase",
                hide_input=True,
                confirmation_prompt="Repeat the passphrase",
            )
        else:
            passphrase = click.prompt("Keystore passphrase", hide_input=True)
    else:
        raise KeystoreError(
            "no keystore passphrase: set SPARTACUS_PASSPHRASE or pass --passphrase-file"
        )
    if not passphrase:
        raise KeystoreError("the keystore passphrase is empty")
    return passphrase


__all__ = ["CampaignKey", "Keystore", "load_passphrase"]
