"""The site's published manifest, the integrity attributes of its pages, and ``check-site``.

``node frontend/build.mjs`` writes ``static/dist/manifest.json``: every file the site serves
from ``static/`` (named by its URL path, ``static/...``) with its sha256 and its SRI hash, and
the IPFS CID of that folder. The same sources give the same bytes, so a release's manifest
says exactly what any honest copy of the site serves. :func:`check_site` fetches every file of
a manifest from a served site (the Flask app or any static host) and names each one that
differs or is missing, then reads the site's pages and checks that every script and
stylesheet they load carries the manifest's ``integrity`` (docs/web.md).

A release's manifest is committed in the repository as ``releases/vX.Y.Z/manifest.json``
(``make release``, spartacus/dev/release.py) in the commit its git tag ``vX.Y.Z`` names, so
``check-site --release vX.Y.Z`` needs a checkout, not a build.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..exceptions import ManifestError

STATIC = Path(__file__).resolve().parent / "static"
MANIFEST = STATIC / "dist" / "manifest.json"
RELEASES = Path(__file__).resolve().parents[2] / "releases"  # in a checkout of the repository
TIMEOUT = 20.0


def integrity(data: bytes) -> str:
    """The Subresource Integrity value of ``data`` (sha384, as the build writes it)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@lru_cache(maxsize=64)
def _file_integrity(path: str, _mtime_ns: int, _size: int) -> str:
    return integrity(Path(path).read_bytes())


def static_integrity(static_folder: str | os.PathLike[str], filename: str) -> str:
    """The integrity of the static file the app serves under ``filename``, from its bytes on
    disk (cached until the file changes), so a page always names what it is served with.
    Empty (no check) when the file is missing: it is not built yet, and that page is broken
    either way, but its error page must still render."""
    path = Path(static_folder) / filename
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ""
    return _file_integrity(str(path), stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Manifest:
    """What a build ships: ``files`` maps a URL path (``static/...``) to its sha256 and SRI."""

    cid: str
    files: dict[str, dict[str, Any]]
    sha256: str = ""  # of the manifest's own bytes, when it was read from a file or a URL

    @classmethod
    def parse(cls, data: bytes, source: str) -> Manifest:
        try:
            raw = json.loads(data)
            files = raw["files"]
            for name, entry in files.items():
                if not (isinstance(name, str) and len(entry["sha256"]) == 64):
                    raise ValueError(f"bad entry {name!r}")
                if not entry["integrity"].startswith("sha384-"):
                    raise ValueError(f"bad integrity for {name!r}")
            digest = hashlib.sha256(data).hexdigest()
            return cls(cid=str(raw["cid"]), files=dict(files), sha256=digest)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"{source} is not a site manifest: {exc}") from exc

    @classmethod
    def load(cls, path: str | os.PathLike[str] = MANIFEST) -> Manifest:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            hint = " (run `make frontend` or `node frontend/build.mjs`)" if path == MANIFEST else ""
            raise ManifestError(f"cannot read the manifest {path}: {exc.strerror}{hint}") from exc
        return cls.parse(data, str(path))

    @classmethod
    def committed(cls, tag: str, releases: Path = RELEASES) -> Manifest:
        """The manifest committed for release ``tag`` in this checkout (releases/TAG/)."""
        path = releases / release_tag(tag) / "manifest.json"
        if not path.is_file():
            known = sorted(p.name for p in releases.glob("v*") if (p / "manifest.json").is_file())
            raise ManifestError(
                f"no manifest of {release_tag(tag)} under {releases} "
                f"(committed there: {', '.join(known) or 'none'}): check out the repository at "
                f"that tag (git checkout {release_tag(tag)}), or give --releases-url"
            )
        return cls.load(path)

    @classmethod
    def of_release(cls, releases_url: str, tag: str) -> Manifest:
        """The manifest published with release ``tag``: ``<releases_url>/<tag>/manifest.json``."""
        tag = release_tag(tag)
        url = f"{releases_url.rstrip('/')}/{tag}/manifest.json"
        try:
            response = requests.get(url, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ManifestError(f"cannot fetch the manifest of {tag} from {url}: {exc}") from exc
        if response.status_code != 200:
            raise ManifestError(
                f"cannot fetch the manifest of {tag} from {url}: HTTP {response.status_code}"
            )
        return cls.parse(response.content, url)


def release_tag(version: str) -> str:
    """A release's git tag and folder name: ``v0.1.0`` for ``0.1.0`` or ``v0.1.0``."""
    return version if version.startswith("v") else f"v{version}"


@dataclass
class SiteCheck:
    """The outcome of :func:`check_site`: ``problems`` is empty when the site matches."""

    url: str
    cid: str
    checked: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Subresources(HTMLParser):
    """Collects (tag, url, integrity) of every script and stylesheet a page loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        rel = (a.get("rel") or "").lower().split()
        if tag == "script" and a.get("src"):
            self.found.append(("script", a["src"] or "", a.get("integrity")))
        elif tag == "link" and a.get("href") and {"stylesheet", "modulepreload"} & set(rel):
            self.found.append(("link", a["href"] or "", a.get("integrity")))


def check_site(
    url: str,
    manifest: Manifest,
    pages: tuple[str, ...] = ("/",),
    session: requests.Session | None = None,
) -> SiteCheck:
    """Compare the site at ``url`` with ``manifest``: every file byte for byte, and every
    script and stylesheet of ``pages`` for its integrity attribute."""
    http = session or requests.Session()
    base = url if url.endswith("/") else url + "/"
    result = SiteCheck(url=base, cid=manifest.cid)
    for name, entry in sorted(manifest.files.items()):
        try:
            response = http.get(urljoin(base, name), timeout=TIMEOUT)
        except requests.RequestException as exc:
            result.problems.append(f"{name}: missing ({type(exc).__name__})")
            continue
        if response.status_code != 200:
            result.problems.append(f"{name}: missing (HTTP {response.status_code})")
            continue
        served = hashlib.sha256(response.content).hexdigest()
        if served != entry["sha256"]:
            result.problems.append(
                f"{name}: differs (served sha256 {served}, manifest {entry['sha256']})"
            )
        result.checked.append(name)
    for page in pages:
        _check_page(http, base, page.lstrip("/"), manifest, result)
    return result


def _check_page(
    http: requests.Session, base: str, page: str, manifest: Manifest, result: SiteCheck
) -> None:
    where = "/" + page
    try:
        response = http.get(urljoin(base, page), timeout=TIMEOUT)
    except requests.RequestException as exc:
        result.problems.append(f"page {where}: not served ({type(exc).__name__})")
        return
    if response.status_code != 200:
        result.problems.append(f"page {where}: not served (HTTP {response.status_code})")
        return
    parser = _Subresources()
    parser.feed(response.text)
    result.pages.append(where)
    origin = urlsplit(base)
    for tag, ref, given in parser.found:
        target = urlsplit(urljoin(urljoin(base, page), ref))
        name = target.path.removeprefix(origin.path)
        if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
            result.problems.append(f"page {where}: <{tag}> loads {ref} from another origin")
        elif name not in manifest.files:
            result.problems.append(f"page {where}: <{tag}> loads {ref}, not in the manifest")
        elif given is None:
            result.problems.append(f"page {where}: <{tag}> {ref} carries no integrity attribute")
        elif given != manifest.files[name]["integrity"]:
            result.problems.append(
                f"page {where}: <{tag}> {ref} has integrity {given}, "
                f"manifest {manifest.files[name]['integrity']}"
            )
