"""`c360 serve`: the single customer view over HTTP, and a dashboard, from the published file.

The server is a reader of `<home>/c360.duckdb` like any analyst: it opens each published
version read-only, follows publishes without a restart (c360.serve.published), and never
imports the build. Nothing it answers carries a birth number; no route writes.

Access: with `C360_API_TOKEN` set, every request needs `Authorization: Bearer <token>`;
without it the server only binds to a loopback address.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

TOKEN_VARIABLE = "C360_API_TOKEN"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8360


class ServeError(RuntimeError):
    """The server cannot start as asked."""


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False      # any other host name may resolve to a public interface


def check_binding(host: str, token: str | None) -> None:
    """Refuse to expose the data beyond this machine without a token."""
    if not token and not is_loopback(host):
        raise ServeError(f"refusing to listen on {host} without a token: set {TOKEN_VARIABLE} (clients then send"
                         f" 'Authorization: Bearer <token>'), or listen on 127.0.0.1")


def serve(home: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, access_log: bool = True) -> None:
    import uvicorn

    from c360.serve.app import create_app

    token = os.environ.get(TOKEN_VARIABLE) or None
    check_binding(host, token)
    home = Path(home)
    if not (home / "c360.duckdb").exists():
        print(f"note: nothing is published in {home} yet; the server answers 503 until `c360 run` publishes")
    print(f"c360 serve: dashboard http://{host}:{port}/  API docs http://{host}:{port}/docs"
          f"  ({'bearer token required' if token else 'no token: loopback only'})", flush=True)
    uvicorn.run(create_app(home, token=token), host=host, port=port, access_log=access_log,
                log_level="info")
