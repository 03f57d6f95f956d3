"""Adversarial tests on anvil through the CLI: the fixtures of tests/cli (own anvil)."""

from __future__ import annotations

from tests.cli.conftest import (  # noqa: F401 - fixtures
    anvil_rpc,
    create_campaign,
    make_custodians,
    spartacus,
    travel,
    w3,
)
