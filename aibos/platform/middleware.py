"""Pure ASGI middleware: request context and access log, security headers, hosts, body size."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aibos.platform.errors import internal_error_response, problem_response
from aibos.platform.metrics import observe_request

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
access_log = structlog.get_logger("aibos.access")
error_log = structlog.get_logger("aibos.errors")


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(incoming):
                return incoming
            break
    return uuid.uuid4().hex


def _route_template(scope: Scope, status: int) -> str:
    """The route's template, never the raw path of an API route (its ids would explode labels)."""
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path_format", route.path))
    # Plain routes (docs) have fixed paths; anything else that found no route is one label.
    return "unmatched" if status == 404 else scope["path"]


class RequestContextMiddleware:
    """Request id, one access-log line and metrics per request, and a 500 that leaks nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started_at = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            except Exception:
                error_log.exception("unhandled_error", path=scope["path"])
                if response_started:
                    raise
                await internal_error_response(scope)(scope, receive, send_with_request_id)
            finally:
                seconds = time.perf_counter() - started_at
                route = _route_template(scope, status)
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=route,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                )
                observe_request(method=scope["method"], route=route, status=status, seconds=seconds)


# Added to every response unless the route set its own (names lower case, as ASGI sends them).
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_API_ONLY = (
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
# Pages (the docs): their own scripts and styles (Swagger UI and ReDoc set inline styles), the
# icons they draw as data: images, ReDoc's search worker, and calls back to this service only.
_PAGES_ONLY = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        b"frame-ancestors 'none'",
    ),
)
_HTTPS_ONLY = ((b"strict-transport-security", b"max-age=63072000; includeSubDomains"),)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith(self.api_prefix)
        is_https = scope.get("scheme") == "https"

        by_kind = _API_ONLY if is_api else _PAGES_ONLY
        wanted = _ALWAYS + by_kind + (_HTTPS_ONLY if is_https else ())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [header for header in wanted if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TrustedHostMiddleware:
    """Refuse requests whose Host header is not one of ours ('*.example.com' matches subdomains)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.exact = {host.lower() for host in allowed_hosts if not host.startswith("*.")}
        self.suffixes = tuple(host[1:].lower() for host in allowed_hosts if host.startswith("*."))

    def _allows(self, host: str) -> bool:
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Headers(scope=scope).get("host", "").rsplit(":", 1)[0].lower()
            if not self._allows(host):
                response = problem_response(
                    scope, status=400, error_code="INVALID_HOST", detail="Unknown host."
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Answer 413 to a body over the limit, whether it is declared up front or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, detail=self._detail)
            return message

        await self.app(scope, receive_within_limit, send)

    @property
    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    def _too_large(self, scope: Scope) -> ASGIApp:
        return problem_response(scope, status=413, detail=self._detail)
