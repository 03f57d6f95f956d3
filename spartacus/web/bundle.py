"""The pages' script: the bundle that seals pledges in the browser (frontend/, esbuild).

Without it every form on the site is inert (they post nothing secret without the script,
see the templates), so a site that lacks it must say so instead of serving dead pages:
``spartacus serve`` refuses to start, and the app answers 503 on its pages.
"""

from __future__ import annotations

from pathlib import Path

BUNDLE = Path("dist") / "app.js"  # under the app's static folder; `node frontend/build.mjs`
# The group pages' script (identities, redemption, proving) and the depth-16 proving files.
GROUP_FILES = (
    Path("dist") / "groups.js",
    Path("dist") / "semaphore-16.wasm",
    Path("dist") / "semaphore-16.zkey",
)

MISSING = (
    "the pages' script ({path}) is missing, so nobody could join, withdraw or read a roster "
    "here; run `make install` in the repository (or `node frontend/build.mjs`), or install a "
    "wheel built after it"
)


def bundle_problem(static_folder: str | Path | None, *, groups: bool = False) -> str | None:
    """Why the bundle under ``static_folder`` cannot be served, or None when it can;
    ``groups``: the group pages' files too."""
    for name in (BUNDLE, *GROUP_FILES) if groups else (BUNDLE,):
        path = Path(static_folder or ".") / name
        if not path.is_file() or path.stat().st_size == 0:
            return MISSING.format(path=path)
    return None


def package_static_folder() -> Path:
    """The static folder of the installed package (what ``create_app`` serves)."""
    return Path(__file__).resolve().parent / "static"
