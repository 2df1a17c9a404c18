"""One JSON error shape per failure kind, and the handlers that turn exceptions into 4xx.

Shape: {"error": code, "message": text, ...where} with where = field / location / index, so a
client (requests-oauthlib, smashrun-client) surfaces a readable reason.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from runhub.activity import ActivityError
from runhub.formats import FormatError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with its HTTP status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str, **where: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.where = {k: v for k, v in where.items() if v is not None}
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.where}


def not_found(what: str = "activity") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(FormatError)
    async def _format(_: Request, exc: FormatError) -> JSONResponse:
        return JSONResponse({"error": "invalid_activity", **exc.to_dict()}, status_code=400)

    @app.exception_handler(ActivityError)
    async def _activity(_: Request, exc: ActivityError) -> JSONResponse:
        return JSONResponse({"error": "invalid_activity", **exc.to_dict()}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            {"error": "invalid_request", "message": f"{loc}: {first.get('msg', 'invalid')}", "location": loc},
            status_code=400,
        )

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # a value the database cannot hold or compare (a NUL character in a text, PostgreSQL's
        # text holds none; a number out of range) came with the request: its fault, nothing stored
        # (the transaction is rolled back); the checks of each field say more where they exist
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        log.warning("a request's value the database refused: %s", reason)
        message = f"a value in the request cannot be stored or looked up: {reason}"
        # error_description too: what OAuth clients (requests-oauthlib) read at the token endpoint
        return JSONResponse({"error": "invalid_request", "message": message, "error_description": message},
                            status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "error"
        )
        return JSONResponse(
            {"error": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )
