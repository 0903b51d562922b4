"""The JSON API: one customer, a filtered listing, segments, health and version. Read-only:
every route is a GET over the published version (c360.serve.published)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from c360.serve import queries
from c360.serve.published import NotServable, PublishedDatabase

MAX_PAGE = 500
INT32_MAX = 2 ** 31 - 1          # client_id is an integer column: anything beyond is not an id

ClientId = Annotated[int, Path(ge=0, le=INT32_MAX, description="client_id of the client master")]

router = APIRouter()

_NOT_FOUND = {"description": "No client with this id in the published version",
              "content": {"application/json": {"example": {"detail": "client 999999 is not in version 20261201T212708Z"}}}}


def _database(request: Request) -> PublishedDatabase:
    return request.app.state.database


@router.get("/customers/{client_id}", tags=["customers"], summary="The single customer view of one client",
            responses={200: {"description": "The client's document: the customer_360, loyalty, demographic and"
                                            " engagement rows, accounts, cards, loans, standing orders, the last 20"
                                            " transactions, the last 10 web sessions, the identity status and the"
                                            " version it comes from", "content": {"application/json": {}}},
                       404: _NOT_FOUND})
async def get_customer(client_id: ClientId, request: Request) -> Response:
    # async on purpose: the lookup is one indexed row of a document built at publish time
    # (well under a millisecond), cheaper to run on the event loop than to hand to a worker
    # thread; bench/serve_bench.py measured 0.6 against 1.0 ms of server CPU per request.
    with _database(request).reader() as reader:
        document = queries.customer_document(reader.cursor, client_id)
        if document is None:
            raise HTTPException(404, f"client {client_id} is not in version {reader.version.build_id}")
    return Response(document, media_type="application/json")


@router.get("/customers", tags=["customers"], summary="Clients filtered, in client_id order (keyset pages)")
def list_customers(
    request: Request,
    loyalty_tier: str | None = Query(None, description="platinum, gold, silver or bronze (the loyalty_tiers var)"),
    life_stage: str | None = Query(None, description="minor, young_adult, family_building, established,"
                                                     " pre_retirement, retired or unknown"),
    district: str | None = Query(None, description="a district id (A1) or name (A2)"),
    min_engagement: float | None = Query(None, ge=0, le=100, description="engagement_score at least this"),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}"),
    after: int | None = Query(None, ge=0, le=INT32_MAX, description="the next_after of the previous page"),
) -> dict:
    filters = queries.Filters(loyalty_tier, life_stage, district, min_engagement)
    with _database(request).reader() as reader:
        try:
            items, next_after = queries.list_customers(reader.cursor, filters, limit=limit, after=after)
        except queries.UnknownFilterValue as error:
            return JSONResponse(status_code=422, content={"detail": [{
                "loc": ["query", error.name], "msg": str(error), "type": "unknown_filter_value",
                "input": error.value, "ctx": {"allowed": error.allowed}}]})
        return {"items": items, "count": len(items), "next_after": next_after, "limit": limit,
                "version": _version_summary(reader.version)}


@router.get("/segments", tags=["segments"],
            summary="Clients and average figures by loyalty tier x life stage")
def get_segments(request: Request) -> dict:
    with _database(request).reader() as reader:
        return {"segments": queries.segments(reader.cursor), "version": _version_summary(reader.version)}


@router.get("/health", tags=["service"], summary="Whether a servable version is published",
            responses={503: {"description": "Nothing servable is published"}})
def health(request: Request) -> JSONResponse:
    try:
        with _database(request).reader() as reader:
            return JSONResponse({"status": "ok", "clients": queries.client_count(reader.cursor),
                                 **_version_summary(reader.version)})
    except NotServable as error:
        return JSONResponse(status_code=503, content={"status": "unavailable", "detail": str(error)})


@router.get("/version", tags=["service"], summary="The published version served now, with its gate results")
def version(request: Request) -> dict:
    with _database(request).reader(serving=False) as reader:
        info = reader.version
        return {**_version_summary(info), "built_at": info.built_at, "batches": info.batches,
                "gates": info.gates, "has_serving_layout": info.has_serving_layout}


def _version_summary(info) -> dict:
    return {"build_id": info.build_id, "as_of_date": info.as_of_date, "published_at": info.published_at}
