"""Data Docs offline: every CDN asset GX's templates load is vendored (with its licence) and
rewritten to the local copy. The browser test is tests/integration/test_day_one.py."""
from __future__ import annotations

import re
from pathlib import Path

import great_expectations

from c360.docs.offline import ASSETS_DIR, VENDOR_DIR, load_assets, make_offline, rewrite_page

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
CDN = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)=["'](https?://[^"']+)["']""")


def test_every_cdn_asset_of_the_installed_gx_templates_is_vendored():
    wanted = {url for template in TEMPLATES.glob("*.j2") for url in CDN.findall(template.read_text())}
    assert wanted, f"no CDN asset found in {TEMPLATES}: has GX changed its templates?"
    assert wanted <= set(load_assets()["urls"]), f"not vendored: {sorted(wanted - set(load_assets()['urls']))}"


def test_every_vendored_file_is_in_the_package_with_its_licence():
    assets = load_assets()
    for spec, entry in assets["packages"].items():
        license_file = ASSETS_DIR / spec / "LICENSE"
        assert license_file.is_file() and license_file.stat().st_size > 200, license_file
        for relative in entry["files"]:
            assert (ASSETS_DIR / spec / relative).stat().st_size > 0
    listed = {f"{spec}/{relative}" for spec, entry in assets["packages"].items() for relative in entry["files"]}
    assert set(assets["urls"].values()) <= listed


def test_a_page_points_at_the_local_copies_without_integrity_pins(tmp_path):
    site = tmp_path / "docs"
    page = site / "validations" / "raw" / "mainframe" / "account" / "run" / "time" / "page.html"
    page.parent.mkdir(parents=True)
    (site / "static" / "images").mkdir(parents=True)
    for image in ("favicon.ico", "logo-long.png"):          # GX writes these into every site
        (site / "static" / "images" / image).write_bytes(b"image")
    page.write_text(
        '<link rel="shortcut icon" href="../../../../../static/images/favicon.ico"/>'
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"'
        ' integrity="sha384-abc" crossorigin="anonymous"></script>'
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1">'
        '<script src="https://example.com/new-gx-asset.js"></script>'
        '<a href="https://greatexpectations.io">a link stays a link</a>')
    unknown = make_offline(site)
    text = page.read_text()
    assert unknown == ["https://example.com/new-gx-asset.js"]
    assert "integrity" not in text and "crossorigin" not in text
    assert "https://cdnjs" not in text and "https://maxcdn" not in text and "amazonaws" not in text
    assert 'href="https://greatexpectations.io"' in text
    for address in re.findall(r'(?:src|href)="([^"]+)"', text):
        if not address.startswith("https://"):
            assert (page.parent / address).resolve().is_file(), address
    assert (site / VENDOR_DIR / "popper.js@1.12.9" / "LICENSE").is_file()
    assert rewrite_page(text, page, site) == text, "rewriting is idempotent"
