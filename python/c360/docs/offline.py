"""Data Docs that work offline: GX's pages point at CDNs; after GX renders, point them here.

Great Expectations' Data Docs templates load bootstrap, jQuery, bootstrap-table, vega and
font-awesome from public CDNs. Offline (and behind most banks' proxies) the index page's
tables, filled by bootstrap-table, stay empty and every page is unstyled. `make_offline`
copies the vendored files (`assets/`, from the npm registry with their licences, see
`c360.docs.vendor`) into the site's `static/vendor/` and rewrites every `<script src>` and
`<link href>` (and GX's logo `<img>`) that names a known address to the local copy, relative to the page, so the
site keeps working when moved or uploaded as a CI artifact.

Subresource-integrity and `crossorigin` attributes are dropped with the address: they pin
the CDN's bytes, and Chromium refuses `crossorigin` loads from file:// pages.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from functools import cache
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
VENDOR_DIR = Path("static") / "vendor"     # inside a Data Docs site

_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_ADDRESS = re.compile(r"""\b(src|href)\s*=\s*(["'])([^"']+)\2""", re.IGNORECASE)
_PINNING = re.compile(r"""\s(?:integrity|crossorigin)(?:\s*=\s*(["'])[^"']*\1)?""", re.IGNORECASE)


class OfflineDocsError(RuntimeError):
    """A vendored asset is missing from the package (assets.json names it)."""


@cache
def load_assets() -> dict:
    return json.loads((ASSETS_DIR / "assets.json").read_text())


def make_offline(site: Path) -> list[str]:
    """Copy the vendored assets into `site` and rewrite every page under it to use them.

    Returns the external script/stylesheet addresses left in place (unknown to assets.json,
    e.g. after a GX upgrade); they are also reported on stderr.
    """
    site = Path(site)
    if not site.is_dir():
        return []
    _copy_assets(site / VENDOR_DIR)
    unknown: set[str] = set()
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rewritten = rewrite_page(text, page, site, unknown)
        if rewritten != text:
            page.write_text(rewritten, encoding="utf-8")
    if unknown:
        print(f"Data Docs under {site}: these assets still load from the network (not vendored"
              f" in {ASSETS_DIR / 'assets.json'}): {', '.join(sorted(unknown))}", file=sys.stderr)
    return sorted(unknown)


def rewrite_page(text: str, page: Path, site: Path, unknown: set[str] | None = None) -> str:
    """`text` of `page` with each known CDN script, stylesheet or image pointing at the site's
    copy (a vendored file, or one GX already writes into the site's static/ folder)."""
    assets = load_assets()
    to_site = Path(os.path.relpath(site, page.parent)).as_posix()

    def local_address(address: str) -> str | None:
        if not address.startswith(("http://", "https://")):
            return own_static(address)
        if address in assets["urls"]:
            return f"{to_site}/{VENDOR_DIR.as_posix()}/{assets['urls'][address]}"
        site_file = assets["site_files"].get(address.split("?", 1)[0])
        return f"{to_site}/{site_file}" if site_file else None

    def own_static(address: str) -> str | None:
        # GX climbs a fixed number of folders to its static/ folder, one too few for the pages
        # of suites named with three parts (raw.mainframe.account): re-point those that miss
        if "static/" not in address or (page.parent / address).exists():
            return address
        return f"{to_site}/static/{address.split('static/', 1)[1]}"

    def local(tag: re.Match) -> str:
        found = _ADDRESS.search(tag.group(0))
        if not found or found.group(3).startswith(("#", "data:")):
            return tag.group(0)
        attribute, quote, address = found.groups()
        replacement = local_address(address)
        if replacement == address:
            return tag.group(0)
        if replacement is None:
            if unknown is not None:
                unknown.add(address)
            return tag.group(0)
        return _PINNING.sub("", tag.group(0).replace(found.group(0), f"{attribute}={quote}{replacement}{quote}"))

    return _TAG.sub(local, text)


def _copy_assets(target: Path) -> None:
    """Every vendored file, with the licences; skipped when the site already has them."""
    for spec, entry in load_assets()["packages"].items():
        for relative in [*entry["files"], "LICENSE"]:
            source, copy = ASSETS_DIR / spec / relative, target / spec / relative
            if not source.is_file():
                raise OfflineDocsError(f"{source}: vendored asset missing from the c360 package"
                                       " (run `python -m c360.docs.vendor`)")
            if copy.is_file() and copy.stat().st_size == source.stat().st_size:
                continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
