"""The dbt docs of the published build: `make docs`, `make docs-serve`, `c360 docs`.

The docs describe what analysts query, whatever the user ran last: the catalog (columns,
types, row counts) comes from the published database, `<home>/c360.duckdb`, through a
private copy (dbt opens its database read-write, and the published file is never opened
that way). The result is `<home>/dbt_docs/` (index.html, manifest.json, catalog.json);
`serve` shows it on http://127.0.0.1:PORT (dbt's page loads its JSON with fetch, which a
file:// page cannot).
"""
from __future__ import annotations

import functools
import http.server
import shutil
from pathlib import Path

DOCS_DIR = "dbt_docs"


class NothingToDocument(RuntimeError):
    """No published build in the home yet."""


def generate(home: Path) -> Path:
    """`dbt docs generate` against a copy of the published database; returns the docs folder."""
    from c360.build import generate_docs
    from c360.publish import published_path

    home = Path(home).resolve()
    published = published_path(home)
    if not published.is_file():
        raise NothingToDocument(f"nothing to document in {home}: no build is published there yet."
                                f" Run `make run` first (or `c360 run --landing DIR --home {home}`)")
    target = home / DOCS_DIR
    target.mkdir(parents=True, exist_ok=True)
    copy = target / "c360.duckdb"          # named like the published file: the catalog says c360
    shutil.copyfile(published, copy)
    try:
        generate_docs(duckdb_path=copy, raw_root=home / "raw", target_path=target)
    finally:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
    return target


def serve(folder: Path, port: int = 8080) -> None:
    """Serve `folder` on 127.0.0.1 only (never on every interface) until interrupted."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"dbt docs on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def docs_command(home: Path, *, then_serve: bool = False, port: int = 8080) -> int:
    try:
        folder = generate(home)
    except NothingToDocument as nothing:
        print(nothing)
        return 1
    print(f"dbt docs of the published build: {folder / 'index.html'}")
    if then_serve:
        serve(folder, port)
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  one line per request is noise here
        pass
