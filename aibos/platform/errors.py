"""The one error envelope: RFC 9457 problem details with a stable error code."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import EmulatedDBAPIException, SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import Scope

from aibos.platform.db_faults import is_unreachable

PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = structlog.get_logger("aibos.errors")


class DomainError(Exception):
    """A broken business rule; subclasses set the error code and pick a category below."""

    error_code = "DOMAIN_ERROR"
    title = "The request breaks a business rule"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class InvalidInput(DomainError):
    error_code = "INVALID_INPUT"
    title = "The request is not acceptable"


class NotAuthenticated(DomainError):
    error_code = "NOT_AUTHENTICATED"
    title = "Authentication is required"


class PermissionDenied(DomainError):
    error_code = "PERMISSION_DENIED"
    title = "You may not do this"


class NotFound(DomainError):
    error_code = "NOT_FOUND"
    title = "Not found"


class Conflict(DomainError):
    error_code = "CONFLICT"
    title = "The request conflicts with the current state"


class RateLimited(DomainError):
    error_code = "RATE_LIMITED"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(DomainError):
    error_code = "SERVICE_UNAVAILABLE"
    title = "The service is briefly unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


_CATEGORY_STATUS: list[tuple[type[DomainError], int]] = [
    (InvalidInput, 422),
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (Unavailable, 503),
]

_FRAMEWORK_CODES = {
    400: "BAD_REQUEST",
    413: "REQUEST_TOO_LARGE",
    422: "VALIDATION_FAILED",
    500: "INTERNAL_ERROR",
}


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    error_code: str
    request_id: str | None = None


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ValidationProblem(Problem):
    """A request whose fields do not fit the schema (`VALIDATION_FAILED`): `errors` names each."""

    errors: list[FieldError]


UnprocessableProblem = Annotated[
    ValidationProblem | Problem,
    Field(description="A field that does not fit the schema, or a broken business rule"),
]


def error_code_for(status: int) -> str:
    return _FRAMEWORK_CODES.get(status) or HTTPStatus(status).phrase.upper().replace(" ", "_")


def problem_response(
    scope: Scope,
    *,
    status: int,
    detail: str,
    error_code: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    code = error_code or error_code_for(status)
    body = {
        "type": f"urn:aibos:problem:{code.lower().replace('_', '-')}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope.get("path", ""),
        "error_code": code,
        "request_id": scope.get("state", {}).get("request_id"),
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def status_for(error: DomainError) -> int:
    return next((status for kind, status in _CATEGORY_STATUS if isinstance(error, kind)), 400)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {}
    if isinstance(exc, RateLimited | Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(
        request.scope,
        status=status_for(exc),
        detail=exc.detail,
        error_code=exc.error_code,
        title=exc.title,
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem_response(request.scope, status=exc.status_code, detail=detail, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at this path; Starlette names only the first route's."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in error["loc"]),
            "message": error["msg"],
            "type": error["type"],
        }
        for error in exc.errors()
    ]
    return problem_response(
        request.scope,
        status=422,
        detail="The request has invalid fields; see errors.",
        errors=errors,
    )


class DatabaseUnavailable(Unavailable):
    error_code = "DATABASE_UNAVAILABLE"
    title = "The database cannot be reached"


DATABASE_RETRY_AFTER_SECONDS = 5
# Errors that may mean the database is out of reach; any other of these stays a 500.
_DATABASE_ERRORS = (
    SQLAlchemyError,
    EmulatedDBAPIException,  # a driver's error as SQLAlchemy adapts it, outside a statement
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
    OSError,
)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After and one log line for a database out of reach; else re-raised."""
    if not is_unreachable(exc):
        raise exc
    cause = exc.__cause__ or exc  # the driver's own error says more than its adapter
    logger.warning(
        "database_unavailable",
        path=request.url.path,
        error=f"{type(cause).__name__}: {cause}".splitlines()[0][:200],
    )
    unavailable = DatabaseUnavailable(
        "The database cannot be reached; retry shortly.", retry_after=DATABASE_RETRY_AFTER_SECONDS
    )
    return await _domain_error(request, unavailable)


def internal_error_response(scope: Scope) -> JSONResponse:
    return problem_response(scope, status=500, detail="An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for kind in _DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_error)


def problem_responses() -> dict[int | str, dict[str, Any]]:
    """Error responses every route may give, for the OpenAPI document."""
    return {
        "4XX": {"model": Problem, "description": "The request was refused"},
        422: {
            "model": UnprocessableProblem,
            "description": "A field is invalid (with `errors`), or the request breaks a business "
            "rule (its own `error_code`, no `errors`)",
        },
        500: {"model": Problem, "description": "An unexpected error"},
    }
