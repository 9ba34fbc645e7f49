"""One rule for every route: no NUL character in the path, the query or the body.

PostgreSQL text cannot hold NUL, and no field of ours has a use for it, so a request carrying one
is refused before any handler runs, as a validation problem naming each field that holds it.
A quick byte scan decides; only a request that may hold a NUL is parsed to find its fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

NUL = "\x00"
_ENCODED = b"%00"
_MESSAGE = "Must not contain a NUL character"
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Place = tuple[str | int, ...]


class ScreenedRoute(APIRoute):
    """An APIRoute whose handler first refuses NUL characters anywhere in the request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def screened(request: Request) -> Response:
            await refuse_nul(request)
            return await handle(request)

        return screened


async def refuse_nul(request: Request) -> None:
    """Raise a validation error naming every part of the request that holds a NUL."""
    places: list[Place] = [*_in_path(request), *_in_query(request)]
    if request.method in _METHODS_WITH_BODY:
        places += list(_in_body(request.headers.get("content-type", ""), await request.body()))
    if places:
        raise RequestValidationError(
            [{"type": "string_nul", "loc": place, "msg": _MESSAGE} for place in places]
        )


def _in_path(request: Request) -> Iterator[Place]:
    if NUL in request.scope["path"]:  # request.url would build a whole URL on every request
        yield ("path",)


def _in_query(request: Request) -> Iterator[Place]:
    query = request.scope.get("query_string", b"")
    if _ENCODED in query:
        yield from _in_pairs("query", query.decode("latin-1"))


def _in_body(content_type: str, body: bytes) -> Iterator[Place]:
    if b"\\u0000" not in body and b"\x00" not in body and _ENCODED not in body:
        return
    if "json" in content_type:
        try:
            places = list(_in_json(json.loads(body), ("body",)))
        except (ValueError, RecursionError):
            return  # not JSON, or nested too deep: the route's own parsing says so
        yield from places
    elif content_type.startswith("application/x-www-form-urlencoded"):
        yield from _in_pairs("body", body.decode("latin-1"))
    elif b"\x00" in body:
        yield ("body",)


def _in_pairs(where: str, encoded: str) -> Iterator[Place]:
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        if NUL in name or NUL in value:
            yield (where, name.replace(NUL, "\\0"))


def _in_json(value: Any, place: Place) -> Iterator[Place]:
    if isinstance(value, str):
        if NUL in value:
            yield place
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _in_json(item, (*place, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key.replace(NUL, "\\0")
            yield from ([(*place, name)] if NUL in key else _in_json(item, (*place, name)))
