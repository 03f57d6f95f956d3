"""Wallets that tell the truth (issue 16, item 2), in Chromium against anvil.

The test wallets are announced the EIP-6963 way (``eip6963:announceProvider`` in answer to
``eip6963:requestProvider``) and bridge to one of anvil's unlocked accounts. A wallet "on
another chain" answers ``eth_chainId`` with that chain, and a transaction it sends lands
where the registry's address holds no code (as on a chain where it is not deployed): it is
mined, status 1, and nothing is pledged. Before this change the page never asked the chain,
sent anyway, and said "You have joined" on the mined transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect
from web3 import Web3

from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from tests.cli.conftest import Spartacus

from .conftest import Site
from .test_accessibility import AXE, violations
from .test_browser import TIMEOUT
from .test_groups import gated_campaign
from .test_receipts import new_campaign

OTHER_CHAIN = 10  # what a wallet "on the wrong chain" reports (Optimism's id)
NOWHERE = "0x000000000000000000000000000000000000dEaD"  # no code: a registry not deployed


@dataclass
class BridgeWallet:
    """One announced wallet: its chain, how it answers a switch, and every call it got."""

    name: str
    chain_id: int
    on_switch: str = "accept"  # "accept", "decline" (4001) or "pretend" (says yes, stays)
    lands_elsewhere: bool = False  # sends its transactions where nothing is deployed
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]


class Wallets:
    """The bridge from the page's providers to anvil, by wallet name."""

    def __init__(self, site: Site, account: str, *wallets: BridgeWallet) -> None:
        self.rpc = site.state.config["RPC"]
        self.chain_id = site.state.registry.chain_id
        self.account = account
        self.by_name = {w.name: w for w in wallets}

    def forward(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return requests.post(self.rpc, json=body, timeout=30).json()

    def __call__(self, name: str, method: str, params: list[Any]) -> Any:
        wallet = self.by_name[name]
        wallet.calls.append((method, params))
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [self.account]}
        if method == "eth_chainId":
            return {"result": hex(wallet.chain_id)}
        if method == "wallet_switchEthereumChain":
            if wallet.on_switch == "decline":
                return {"error": {"code": 4001, "message": "User rejected the request."}}
            if wallet.on_switch == "accept":
                wallet.chain_id = int(params[0]["chainId"], 16)
            return {"result": None}
        if method == "wallet_addEthereumChain":
            return {"error": {"code": 4001, "message": "User rejected the request."}}
        if method == "eth_sendTransaction":
            (tx,) = params
            tx = {k: v for k, v in tx.items() if k != "chainId"}
            if wallet.lands_elsewhere or wallet.chain_id != self.chain_id:
                tx["to"] = NOWHERE
            return self.forward(method, [tx])
        return self.forward(method, params)


def wallet_context(
    browser: Browser, bridge: Wallets, window_ethereum: bool = False
) -> BrowserContext:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    context.expose_function("__wallet", bridge)
    context.add_init_script(path=str(AXE))
    names = json.dumps(list(bridge.by_name))
    context.add_init_script(
        """(() => {
          const provider = (name) => ({ request: async ({ method, params }) => {
            const answer = await window.__wallet(name, method, params ?? []);
            if (answer.error) {
              throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
            }
            return answer.result;
          } });
          const wallets = NAMES.map((name, i) => Object.freeze({
            info: { uuid: `7e57a11e-0000-4000-8000-00000000000${i}`, name,
                    icon: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
                    rdns: `org.example.wallet${i}` },
            provider: provider(name),
          }));
          const announce = () => wallets.forEach((detail) => window.dispatchEvent(
            new CustomEvent("eip6963:announceProvider", { detail })));
          window.addEventListener("eip6963:requestProvider", announce);
          announce();
          if (WINDOW_ETHEREUM) window.ethereum = wallets[0].provider;
        })();""".replace("NAMES", names).replace("WINDOW_ETHEREUM", json.dumps(window_ethereum))
    )
    return context


def fill(page: Page) -> None:
    page.fill("#join-name", "Eve Moreau")
    page.fill("#join-contact", "eve@example.org")
    page.check("#join-store")
    page.check("#join-wallet")


def kept(page: Page) -> list[str]:
    stored = json.loads(page.evaluate("localStorage.getItem('spartacus.receipts') || '{}'"))
    return [r["code"] for slot in stored.values() for r in slot]


def test_a_wallet_on_the_wrong_chain_is_asked_to_switch_and_declining_sends_nothing(
    browser: Browser, site: Site
) -> None:
    """Two announced wallets give a picker; the one chosen is on another chain. Declining
    the switch sends nothing and leaves no code; accepting it joins, on the right chain."""
    url = new_campaign(browser, site)
    campaign_id = int(url.rsplit("/", 1)[1])
    first = BridgeWallet("Wallet One", site.state.registry.chain_id)
    second = BridgeWallet("Wallet Two", OTHER_CHAIN, on_switch="decline")
    bridge = Wallets(site, site.state.w3.eth.accounts[9], first, second)
    page = wallet_context(browser, bridge, window_ethereum=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)

    # Both announced wallets are offered by name, in the join form and the withdraw form.
    expect(page.locator("#join-wallet-picker")).to_be_visible()
    options = page.locator("#join-wallet-choice option")
    expect(options).to_have_text(["Wallet One", "Wallet Two"])
    expect(page.locator("#withdraw-wallet-choice option")).to_have_text(
        ["Wallet One", "Wallet Two"]
    )
    page.select_option("#join-wallet-choice", label="Wallet Two")
    assert violations(page, "two wallets, a picker") == []

    fill(page)
    page.click("#join-submit")
    error = page.locator("#join-error")
    expect(error).to_contain_text("the switch was declined", timeout=TIMEOUT)
    expect(error).to_contain_text(f"is on chain {OTHER_CHAIN}")
    expect(error).to_contain_text("Nothing was sent")
    assert violations(page, "switch declined") == []
    expect(page.locator("#join-progress")).not_to_contain_text("You have joined", timeout=TIMEOUT)
    expect(page.locator("#receipt")).to_be_hidden()
    switch = {"chainId": hex(site.state.registry.chain_id)}
    assert ("wallet_switchEthereumChain", [switch]) in second.calls
    assert "eth_sendTransaction" not in second.methods() + first.methods()
    assert "wallet_addEthereumChain" not in second.methods()
    assert kept(page) == []
    assert site.state.registry.info(campaign_id).active == 0

    # The person accepts the switch this time: the pledge goes from Wallet Two, on the
    # site's chain, and "joined" is said once the registry shows it active.
    second.on_switch = "accept"
    page.click("#join-submit")
    expect(page.locator("#join-progress")).to_contain_text("You have joined", timeout=TIMEOUT)
    assert second.methods().count("wallet_switchEthereumChain") == 2
    assert second.chain_id == site.state.registry.chain_id
    assert "eth_sendTransaction" in second.methods()
    assert "eth_sendTransaction" not in first.methods()
    assert site.state.registry.info(campaign_id).active == 1
    expect(page.locator("#count")).to_have_text("1", timeout=TIMEOUT)
    assert errors == []


def test_a_wallet_that_stays_elsewhere_is_never_told_joined(browser: Browser, site: Site) -> None:
    """A wallet that says it switched but did not is refused before sending; one whose
    transaction is mined where no registry is (status 1, nothing pledged) is not told
    "joined": the page reads the pledge back from this campaign's chain."""
    url = new_campaign(browser, site)
    campaign_id = int(url.rsplit("/", 1)[1])
    wallet = BridgeWallet("Only Wallet", OTHER_CHAIN, on_switch="pretend")
    bridge = Wallets(site, site.state.w3.eth.accounts[9], wallet)
    page = wallet_context(browser, bridge, window_ethereum=True).new_page()
    page.goto(url)
    expect(page.locator("#join-wallet-field")).to_be_visible()
    expect(page.locator("#join-wallet-picker")).to_be_hidden()  # one wallet: nothing to pick

    fill(page)
    page.click("#join-submit")
    error = page.locator("#join-error")
    expect(error).to_contain_text(f"is still on chain {OTHER_CHAIN}", timeout=TIMEOUT)
    assert "eth_sendTransaction" not in wallet.methods()
    expect(page.locator("#receipt")).to_be_hidden()

    # On the right chain by its own account, but its transaction lands elsewhere.
    wallet.chain_id = site.state.registry.chain_id
    wallet.lands_elsewhere = True
    page.click("#join-submit")
    expect(error).to_contain_text("shows no active pledge", timeout=TIMEOUT)
    expect(error).to_contain_text("may still be recorded")
    expect(page.locator("#join-progress")).not_to_contain_text("You have joined", timeout=TIMEOUT)
    assert "eth_sendTransaction" in wallet.methods()
    code = page.locator("#receipt-code").inner_text()
    assert code in kept(page)  # the signed pledge could still be sent by someone: kept
    assert site.state.registry.info(campaign_id).active == 0


def test_a_member_joins_a_gated_campaign_paying_with_their_own_wallet(
    browser: Browser, site: Site, spartacus: Spartacus
) -> None:
    """Issue 12, own wallet: an invited member redeems in the browser, then joins a campaign
    gated to the group with "pay with my own wallet" ticked. The page proves membership and
    the wallet sends pledgeGatedWithSig with the proof, paying the gas itself; the relayer is
    neither asked nor charged. Before this change the page could not encode that call."""
    w3 = site.state.w3
    registry = Registry(w3, spartacus.registry)
    groups = registry.groups
    admin = dev_account(0)
    group_id = groups.create_group(admin, "Night shift")
    (invitation,) = groups.create_invitations(admin, group_id, 1)
    campaign_id = gated_campaign(spartacus, site, group_id, threshold=2)
    payer = w3.eth.accounts[9]
    wallet = BridgeWallet("Own Wallet", site.state.registry.chain_id)
    page = wallet_context(browser, Wallets(site, payer, wallet)).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site.url}/g/{group_id}/join#{invitation.code}")
    page.click("#redeem-submit")
    expect(page.locator("#redeem-done")).to_be_visible(timeout=TIMEOUT)

    page.goto(f"{site.url}/c/{campaign_id}")
    assert site.state.operator_account is not None
    operator = Web3.to_checksum_address(site.state.operator_account)
    relayer = w3.eth.get_balance(operator)
    paid_before = w3.eth.get_balance(payer)
    fill(page)
    page.click("#join-submit")
    expect(page.locator("#join-progress")).to_contain_text("You have joined", timeout=TIMEOUT)

    sent = [params[0] for method, params in wallet.calls if method == "eth_sendTransaction"]
    assert len(sent) == 1 and sent[0]["from"].lower() == payer.lower()
    call, args = registry.contract.decode_function_input(sent[0]["data"])
    assert call.fn_name == "pledgeGatedWithSig" and args["campaignId"] == campaign_id
    info = registry.info(campaign_id)
    assert info.active == 1
    assert (
        registry.nullifier_holder(campaign_id, args["proof"]["nullifier"]) != 0
    )  # the member's slot
    assert w3.eth.get_balance(payer) < paid_before  # the wallet paid the gas
    assert w3.eth.get_balance(operator) == relayer  # the relayer was not charged
    assert ("POST", "/api/relay/pledge") not in {(m, p) for m, p, _ in site.recorder.requests}
    assert errors == []
