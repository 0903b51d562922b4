"""Development tool: fetch the Data Docs' browser assets from the npm registry into assets/.

    python -m c360.docs.vendor        # needs `npm` and the registry; run when assets.json changes

`assets/assets.json` is the one list: which npm package (exact version) gives which file,
and which CDN address each file replaces. Every package's licence file is copied beside its
files. Two packages ship none in their npm tarball: vega (its licence is vega-lite's, the same
BSD-3-Clause text of the same lab) and popper.js (MIT, stated in its file's banner); for those
the licence is written from assets.json's `copyright` and the standard text. GX's templates
ask for bootstrap-table's filter-control CSS at 1.19.0 next to the rest at 1.19.1: both map
to the 1.19.1 file, whose rules are the same.

Nothing here runs at run time: the package ships the files, `c360.docs.offline` copies them.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from c360.docs.offline import ASSETS_DIR, load_assets

MIT_TEXT = """Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def vendor(target: Path = ASSETS_DIR) -> list[Path]:
    """Download every package of assets.json with `npm pack` and copy its listed files."""
    packages = load_assets()["packages"]
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        for spec, entry in packages.items():
            package = _unpack(spec, Path(scratch))
            for relative in entry["files"]:
                written.append(_copy(package / relative, target / spec / relative))
            if entry.get("license_file"):
                written.append(_copy(package / entry["license_file"], target / spec / "LICENSE"))
        for spec, entry in packages.items():       # licences written, not shipped by npm
            if entry.get("license_file"):
                continue
            header = f"{spec}: {entry['license']} (the npm package ships no licence file).\n\n"
            if entry.get("license_from"):
                text = (target / entry["license_from"]).read_text()
            else:
                text = f"{entry['copyright']}\n\n{MIT_TEXT}"
            (target / spec / "LICENSE").write_text(header + text)
            written.append(target / spec / "LICENSE")
    return written


def _unpack(spec: str, scratch: Path) -> Path:
    folder = scratch / spec.replace("/", "+")
    folder.mkdir(parents=True)
    out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(folder)],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with tarfile.open(folder / out) as archive:
        archive.extractall(folder, filter="data")
    return folder / "package"


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


if __name__ == "__main__":
    for path in vendor():
        print(path.relative_to(ASSETS_DIR))
    sys.exit(0)
