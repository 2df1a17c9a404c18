"""The OpenAPI description of the Smashrun dialect alone, at /v1/openapi.json, with Swagger UI at
/v1/docs: every route under /v1 of the app (activities, stats, goals, body, userinfo and the
token check under /v1/auth), none of the other dialects."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from runhub import __version__

DESCRIPTION = """\
The [Smashrun API v1](https://api.smashrun.com/v1/documentation) as served by runhub. Point a
Smashrun client's base URL at `/v1` of this server; OAuth 2.0 at `/oauth2/authenticate` and
`/oauth2/token` (scopes `read_activity`, `write_activity`).

Conventions: distances in **km** (summaries, recordings, stats, goals; lap `endDistance` in m as
the seed says), durations in **s**, `startDateTimeLocal` ISO 8601 with the UTC offset, `...UTC`
fields in UTC without a zone designator, ids 64-bit integers, flags `0`/`1`, unknown values
`null` or omitted (never 0). `{user}` is `my` or your own userName.

Decisions where Smashrun's documentation is silent:
* `POST /{user}/activities` takes activity JSON, GPX or TCX as the raw body (no Content-Type
  needed: the content is sniffed) or any of them, and FIT, as `multipart/form-data`. It answers
  `{"activityId", "status": "created"|"updated"|"duplicate", "duplicateOf"}` (201 when created).
  A run matching one your app sent before overwrites it; matching another source's run is
  stored as a new run with `duplicateOf` set.
* `PUT` takes the full object, at `/{user}/activities/{id}` or at `/{user}/activities` with
  `activityId` in the body. `PATCH` changes only `notes`, `duration`, `distance`,
  `startDateTimeLocal`; any other field is a 400.
* `DELETE` flags a run as deleted: it leaves every list and search, and
  `search/deleted?fromDate=` lists its id so that syncing apps can remove it too.
* Search: `page` is 0-based, `count` at most 1000; neither gives every run; a page past the end
  is `[]`. `fromDate` (or `fromDateUTC`) is UTC unix seconds and selects runs added or modified
  at or after that instant.
* `GET /{user}/stats/{year}/{year}` (what smashrun-client 0.6 sends for a month) is answered as
  that year's month when the year has runs in one month only, else 400.
* Goals are set with `PUT /{user}/goals/{year}[/{month}]` `{"goalText", "goalKilometers"}`.

Errors are JSON `{"error": code, "message": text, "field"?, "location"?}` with a 4xx status.
"""


def install(app: FastAPI) -> None:
    cache: dict[str, Any] = {}

    def schema() -> dict[str, Any]:
        if "doc" not in cache:
            doc = get_openapi(
                title="runhub: Smashrun API v1", version=__version__, description=DESCRIPTION, routes=app.routes
            )
            doc["paths"] = {p: v for p, v in doc["paths"].items() if p.startswith("/v1/")}
            doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "OAuth 2.0 access token (also accepted as the access_token query parameter)",
            }
            doc["security"] = [{"bearer": []}]
            cache["doc"] = doc
        return cache["doc"]

    @app.get("/v1/openapi.json", include_in_schema=False)
    def smashrun_openapi() -> JSONResponse:
        return JSONResponse(schema())

    @app.get("/v1/docs", include_in_schema=False)
    def smashrun_docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/v1/openapi.json", title="runhub: Smashrun API v1")
