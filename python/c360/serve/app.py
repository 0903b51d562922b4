"""The ASGI application: the API, the dashboard and their static files, behind an optional
bearer token."""
from __future__ import annotations

import asyncio
import hmac
import json
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from c360.serve import api, dashboard
from c360.serve.published import NotServable, PublishedDatabase

REFRESH_SECONDS = 1.0       # an idle server lets go of a replaced version within this


def create_app(home: Path, *, token: str | None = None) -> FastAPI:
    """The c360 server over `<home>/c360.duckdb`. With `token`, every request needs
    `Authorization: Bearer <token>`."""
    database = PublishedDatabase(home)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        watcher = asyncio.create_task(_follow_publishes(database))
        try:
            yield
        finally:
            watcher.cancel()
            database.close()

    app = FastAPI(title="c360", lifespan=lifespan,
                  description="The single customer view of the published c360 version: one document per"
                              " client, a filtered listing, segments, and a dashboard at `/`. Read-only.",
                  version=_package_version(), docs_url=None, redoc_url=None)
    app.state.database = database
    app.include_router(api.router)
    app.include_router(dashboard.router)
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    app.mount("/static", dashboard.static_files(), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the swagger-ui-bundle package (FastAPI's default page loads it from a CDN)."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="c360 API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.exception_handler(NotServable)
    async def not_servable(request: Request, error: NotServable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(error)})

    if token:
        app.add_middleware(BearerToken, token=token)
    return app


class BearerToken:
    """Every request must carry `Authorization: Bearer <token>`; the comparison takes the same
    time whatever the bytes offered (hmac.compare_digest). A pure ASGI middleware: it costs
    one header lookup per request."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        offered = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        if hmac.compare_digest(offered, self.expected):
            return await self.app(scope, receive, send)
        body = json.dumps({"detail": "missing or wrong bearer token (Authorization: Bearer <C360_API_TOKEN>)"}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"www-authenticate", b'Bearer realm="c360"')]})
        await send({"type": "http.response.body", "body": body})


async def _follow_publishes(database: PublishedDatabase) -> None:
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        await run_in_threadpool(database.refresh)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("c360")
    except PackageNotFoundError:
        return "0+unknown"
