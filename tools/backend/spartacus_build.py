"""The build backend: setuptools, refusing to build a wheel without the pages' script.

The bundle (spartacus/web/static/dist/app.js) is made by esbuild from frontend/ and is not
in git, so a wheel built from a fresh clone would carry no script, and every page of a site
served from it would be inert. ``make install`` (or ``node frontend/build.mjs``) makes it.
Editable installs (``pip install -e``, which ``make install`` runs before bundling) and
source distributions pass through unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - the rest of PEP 517 as setuptools does it

BUNDLE = Path("spartacus/web/static/dist/app.js")


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    if not BUNDLE.is_file():
        raise SystemExit(
            f"{BUNDLE} is missing: run `make install` (or `node frontend/build.mjs`) before "
            "building a wheel, or the wheel's web pages could not seal anything"
        )
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))
