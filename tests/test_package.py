"""The wheel holds together (issue #16, item 1): built from a clean copy of the sources,
it refuses to build without the pages' script, and once built carries the script, the
templates and the contract artifact, and declares every package the code imports.

The wheel is built with pip (setuptools from pip's cache or PyPI) but not installed: its
files are unpacked and imported from there, as an installed copy would be.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _clean_copy(dest: Path) -> Path:
    """The files git tracks, as a fresh clone of this working tree would have them."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_symlink() or not source.is_file():
            continue
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return dest


def _build_wheel(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _runtime_imports() -> set[str]:
    """Top-level third-party modules the package imports when loaded (not lazily inside a
    function, as spartacus/ape.py and spartacus/dev/build.py do for development tools)."""
    found: set[str] = set()
    for path in (ROOT / "spartacus").rglob("*.py"):
        if "dev" in path.relative_to(ROOT / "spartacus").parts[:1]:
            continue
        tree = ast.parse(path.read_text())
        nodes = [n for stmt in tree.body for n in ast.walk(stmt) if not _in_function(stmt)]
        for node in nodes:
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "spartacus"}


def _in_function(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(wheel, what pip said when the same clean copy had no script yet)."""
    tmp = tmp_path_factory.mktemp("package")
    clone = _clean_copy(tmp / "clone")
    refused = _build_wheel(clone, tmp / "refused")
    assert refused.returncode != 0, "a wheel without the pages' script was built"
    (clone / "node_modules").symlink_to(ROOT / "node_modules")
    subprocess.run(["node", "frontend/build.mjs"], cwd=clone, check=True, timeout=300)
    built = _build_wheel(clone, tmp / "dist")
    assert built.returncode == 0, built.stderr
    (path,) = (tmp / "dist").glob("*.whl")
    return path, refused.stderr


def test_wheel_refuses_to_build_without_the_script(wheel: tuple[Path, str]) -> None:
    _, refusal = wheel
    assert "spartacus/web/static/dist/app.js is missing" in refusal
    assert "make install" in refusal


def test_wheel_carries_the_script_templates_and_artifact(
    wheel: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = wheel
    names = set(zipfile.ZipFile(path).namelist())
    templates = {p.name for p in (ROOT / "spartacus/web/templates").iterdir()}
    for needed in [
        "spartacus/web/static/dist/app.js",
        "spartacus/web/static/style.css",
        "spartacus/artifacts/Spartacus.json",
        "spartacus/py.typed",
        "spartacus/web/translations/es/LC_MESSAGES/messages.po",  # the Spanish pages
        *(f"spartacus/web/templates/{t}" for t in templates),
    ]:
        assert needed in names, needed
    # Unpacked, as pip would install it: the app finds its script, the CLI starts.
    zipfile.ZipFile(path).extractall(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    site = str(tmp_path / "site")
    check = (
        "import spartacus, spartacus.web.bundle as b; "
        f"assert spartacus.__file__.startswith({site!r}), spartacus.__file__; "
        "assert b.bundle_problem(b.package_static_folder()) is None; "
        # The Spanish pages' catalogue, read from the wheel's .po (nothing compiled at build).
        "import spartacus.web.i18n as i; assert i.translations('es').gettext('Join') == 'Unirme'"
    )
    subprocess.run([sys.executable, "-c", check], env=env, cwd=tmp_path, check=True, timeout=120)


def test_wheel_declares_every_package_the_code_imports(wheel: tuple[Path, str]) -> None:
    path, _ = wheel
    with zipfile.ZipFile(path) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(meta).decode())
    declared = {
        _canonical(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
        for req in metadata.get_all("Requires-Dist") or []
        if "extra ==" not in req
    }
    owners = packages_distributions()
    missing = {}
    for module in sorted(_runtime_imports()):
        dists = {_canonical(d) for d in owners.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(dists)
    assert missing == {}, f"imported but not declared in pyproject's dependencies: {missing}"
    assert metadata["Name"] and metadata.get_all("Requires-Dist")
