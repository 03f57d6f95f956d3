"""Adversarial tests on anvil through the CLI and the web relayer: the fixtures of tests/cli
(own anvil) and of tests/web."""

from __future__ import annotations

from tests.cli.conftest import (  # noqa: F401 - fixtures
    anvil_rpc,
    create_campaign,
    make_custodians,
    spartacus,
    travel,
    w3,
)
from tests.web.conftest import web, web_config  # noqa: F401 - fixtures
