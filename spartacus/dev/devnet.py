"""``make up``: a local anvil chain, a registry, a custodian daemon, the web app, a campaign.

The chain mines a block every second, as a real network does, so grace periods and
deadlines end on their own. Everything lives under ``.spartacus/`` in the working
directory (one home folder per role, so that creator, custodian, pledgers and the web
operator keep their secrets apart as they would for real). The custodian's daemon issues
campaign keys over HTTP and releases at the reveal; the web app runs as `spartacus serve`
does (uvicorn's event loop for the live counts, Flask behind it) with a relayer paid by a
development account. A demo campaign is created through the daemon, as a creator would.
Everything runs until Ctrl-C; the script prints the URL to open and commands to try.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from web3 import HTTPProvider, Web3

from ..chain.anvil import anvil_command
from ..chain.groups import Groups
from ..chain.registry import Registry
from ..chain.sender import transfer
from ..cli.context import Context, dev_account
from ..custodian.endorsement import endorse
from ..custodian.keystore import Keystore
from ..files import write_private

PORT = int(os.environ.get("SPARTACUS_PORT", "8545"))
CUSTODIAN_PORT = int(os.environ.get("SPARTACUS_CUSTODIAN_PORT", str(PORT + 1)))
WEB_PORT = int(os.environ.get("SPARTACUS_WEB_PORT", "8000"))
BLOCK_TIME = 1  # seconds between blocks on the demo chain
RELAYER_ACCOUNT = 9  # the anvil development account that pays for relayed pledges
ROOT = Path(os.environ.get("SPARTACUS_DEVNET_DIR", ".spartacus")).resolve()


def wait_for_chain(rpc: str, process: subprocess.Popen[bytes], timeout: float = 30) -> Web3:
    w3 = Web3(HTTPProvider(rpc, request_kwargs={"timeout": 2}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"anvil exited with code {process.returncode}; is port {PORT} taken?")
        try:
            if w3.is_connected():
                return w3
        except Exception:  # noqa: BLE001 - still starting
            pass
        time.sleep(0.2)
    raise SystemExit(f"anvil did not answer on {rpc} within {timeout:.0f} s")


def devnet_anvil(port: int) -> list[str]:
    """The demo chain: a block every second, as on a real network. Without traffic anvil
    mines nothing, its clock stands still, and a grace period or a deadline never ends."""
    return anvil_command(port, "--block-time", str(BLOCK_TIME))


def main() -> int:
    rpc = f"http://127.0.0.1:{PORT}"
    probe = Web3(HTTPProvider(rpc, request_kwargs={"timeout": 1}))
    try:
        busy = probe.is_connected()
    except Exception:  # noqa: BLE001
        busy = False
    if busy:
        print(f"something already answers on {rpc}; stop it or set SPARTACUS_PORT", file=sys.stderr)
        return 1
    if ROOT.exists():
        # The last run's chain is gone, and with it everything its files referred to; keep
        # them one run longer, out of the way, rather than mix them with the new chain's.
        previous = ROOT.with_name(ROOT.name + ".previous")
        shutil.rmtree(previous, ignore_errors=True)
        ROOT.rename(previous)
        print(f"moved the previous run's files to {previous}")
    ROOT.mkdir(parents=True)
    log = open(ROOT / "anvil.log", "wb")  # noqa: SIM115 - lives as long as the chain
    anvil = subprocess.Popen(devnet_anvil(PORT), stdout=log, stderr=log)
    children: list[subprocess.Popen[bytes]] = []
    try:
        w3 = wait_for_chain(rpc, anvil)
        deployer = dev_account(0)
        groups = Groups.deploy(w3, deployer)  # membership groups, for gated campaigns
        registry = Registry.deploy(w3, deployer, groups=groups.address)
        roles = ("creator", "custodian", "alice", "bob", "web")
        homes = {role: ROOT / role for role in roles}
        for home in homes.values():
            home.mkdir(mode=0o700, exist_ok=True)
            Context(rpc=rpc, home_option=str(home)).record_deployment(registry)
            Context(rpc=rpc, home_option=str(home)).record_groups(groups)

        passphrase_file = homes["custodian"] / "passphrase"
        write_private(passphrase_file, secrets.token_urlsafe(24))
        keystore = Keystore(homes["custodian"], passphrase_file.read_text())
        address = keystore.create()
        transfer(w3, deployer, address, 10 * 10**18)
        expiry = int(w3.eth.get_block("latest")["timestamp"]) + 7 * 86400
        endorsement = endorse(keystore, registry, expiry)
        endorsement_file = ROOT / "endorsement.json"
        write_private(endorsement_file, json.dumps(endorsement, indent=2) + "\n")
        children.append(_start_watcher(rpc, homes["custodian"], passphrase_file))
        custodian_url = f"http://127.0.0.1:{CUSTODIAN_PORT}"
        _wait_for_http(f"{custodian_url}/health", children[-1], "the custodian daemon")
        web_url = f"http://127.0.0.1:{WEB_PORT}"
        children.append(_start_web(rpc, homes["web"], custodian_url))
        _wait_for_http(f"{web_url}/api/health", children[-1], "the web app")
        campaign = _demo_campaign(rpc, homes["creator"], custodian_url)
        _print_next_steps(
            rpc, registry, groups.address, address, homes, passphrase_file, endorsement_file
        )
        web_line = f"(create prints its link with --site {web_url})"
        print(
            f"""
Web app (uvicorn): {web_url}/   relayer pays from anvil account {RELAYER_ACCOUNT}
  demo campaign:    {web_url}/c/{campaign}  (threshold 2: join it from two browsers)
  new campaigns:    {web_url}/create  (keys from the custodian daemon at {custodian_url})
                    {web_line}
  logs:             {ROOT / "web.log"}, {ROOT / "watcher.log"}""",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        anvil.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.terminate()
            child.wait(timeout=70)
        anvil.terminate()
        anvil.wait(timeout=10)
        print("\nchain stopped")


def _start_watcher(rpc: str, home: Path, passphrase_file: Path) -> subprocess.Popen[bytes]:
    """The custodian's daemon, releasing at the reveal; its JSON log goes to watcher.log."""
    log = open(ROOT / "watcher.log", "wb")  # noqa: SIM115 - lives as long as the daemon
    spartacus = Path(sys.executable).parent / "spartacus"
    return subprocess.Popen(
        [str(spartacus), "--rpc", rpc, "--home", str(home), "--passphrase-file",
         str(passphrase_file), "watch", "--poll", "1", "--listen", str(CUSTODIAN_PORT)],
        stdout=log, stderr=log,
    )  # fmt: skip


def _start_web(rpc: str, home: Path, custodian_url: str) -> subprocess.Popen[bytes]:
    """The web app as `spartacus serve` runs it, with a relayer paid by a development
    account."""
    log = open(ROOT / "web.log", "wb")  # noqa: SIM115 - lives as long as the server
    spartacus = Path(sys.executable).parent / "spartacus"
    return subprocess.Popen(
        [str(spartacus), "--rpc", rpc, "--home", str(home), "--dev-account",
         str(RELAYER_ACCOUNT), "serve", "--port", str(WEB_PORT), "--custodian",
         f"Local custodian={custodian_url}"],
        stdout=log, stderr=log,
    )  # fmt: skip


def _wait_for_http(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode}; see {ROOT}/*.log")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer on {url} within 60 s; see {ROOT}/*.log")


def _demo_campaign(rpc: str, home: Path, custodian_url: str) -> int:
    """A campaign created with the CLI and a key from the daemon, as a creator would."""
    spartacus = Path(sys.executable).parent / "spartacus"
    out = subprocess.run(
        [str(spartacus), "--rpc", rpc, "--home", str(home), "--dev-account", "1", "create",
         "--title", "Fix the heating on the third floor",
         "--description", "The third floor has been cold all winter. Facilities say nobody "
         "complained; nobody wants to be the first.",
         "--plan", "When two of us have joined, we send facilities one letter signed by all.",
         "--instructions", "Meet Monday 9:00 at the canteen; bring a jumper.",
         # No grace on the demo chain, so that two pledges show the reveal at once.
         "--threshold", "2", "--deadline", "14d", "--grace", "0",
         "--custodian", custodian_url, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"creating the demo campaign failed: {out.stderr.strip()}")
    return int(json.loads(out.stdout)["campaign"])


def _print_next_steps(
    rpc: str,
    registry: Registry,
    groups_address: str,
    custodian: str,
    homes: dict[str, Path],
    passphrase_file: Path,
    endorsement_file: Path,
) -> None:
    sp = f"{Path(sys.executable).parent / 'spartacus'}"
    h = {role: str(path) for role, path in homes.items()}
    print(
        f"""
Spartacus local chain is up.
  chain      {rpc} (anvil, chain id {registry.chain_id})
  registry   {registry.address}
  groups     {groups_address} (membership groups: `spartacus group --help`)
  custodian  {custodian} (keystore {h["custodian"]}, funded)
             its daemon (spartacus watch) releases at the reveal; log {ROOT / "watcher.log"}
  endorsement for a new campaign: {endorsement_file}

Try it in another terminal (each role has its own home folder). Campaign 1 is the demo;
this creates campaign 2 with the endorsement above:
  {sp} --home {h["creator"]} --dev-account 1 create --title "Fix the heating" \\
      --instructions "Meet Monday 9:00 at the canteen" --threshold 2 --deadline 7d \\
      --endorsement {endorsement_file}
Pledge to the demo campaign from the CLI (two pledges reveal it), then read the roster:
  {sp} --home {h["alice"]} --dev-account 2 pledge 1 --name Alice --contact alice@example.org
  {sp} --home {h["bob"]} --dev-account 3 pledge 1 --name Bob --contact bob@example.org
  {sp} --home {h["creator"]} status 1
  {sp} --home {h["custodian"]} --passphrase-file {passphrase_file} custodian status
  {sp} --home {h["alice"]} roster 1
  {sp} --home {h["creator"]} verify 1

Ctrl-C stops everything (the chain and all on it is gone; .spartacus/ keeps the files).""",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
