"""The floor for `GET /api/v1/users/me`: bare Starlette + asyncpg doing the same essential work.

    AIBOS_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB AIBOS_SECRET_KEY=... \\
        uv run python -m bench.reference --port 8001

bench/run.py starts it next to the real API, with the same database, secret, issuer and
audience, so one access token works on both. Per request it does what the API's route must do
at the least: check the HS256 bearer token with PyJWT (kid header, algorithm, audience, issuer,
the same required claims, `type` and `roles`), read the user's row by id through an asyncpg pool
(as large as the API's: pool size + overflow), and answer it as JSON. No framework dependency
injection, no ORM, no middleware. One uvicorn worker with uvloop and httptools, as the API runs.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# The same as aibos.modules.auth.tokens: what an access token must carry.
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "nbf", "exp", "jti", "type", "sid", "roles"]
KID = "hs256"
USER_BY_ID = (
    "SELECT id, email, username, full_name, is_active, email_verified, created_at, updated_at"
    " FROM users_user WHERE id = $1"
)


class Config:
    def __init__(self) -> None:
        url = os.environ["AIBOS_DATABASE_URL"]
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.secret = os.environ["AIBOS_SECRET_KEY"].encode()
        self.issuer = os.environ.get("AIBOS_JWT_ISSUER", "aibos")
        self.audience = os.environ.get("AIBOS_JWT_AUDIENCE", "aibos-api")
        self.pool_size = int(os.environ.get("AIBOS_DB_POOL_SIZE", "20"))
        self.max_overflow = int(os.environ.get("AIBOS_DB_MAX_OVERFLOW", "0"))


def _unauthorized() -> JSONResponse:
    return JSONResponse({"detail": "invalid token"}, status_code=401)


def _claims(config: Config, authorization: str) -> dict[str, Any] | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        if jwt.get_unverified_header(token).get("kid") != KID:
            return None
        claims: dict[str, Any] = jwt.decode(
            token,
            config.secret,
            algorithms=["HS256"],
            audience=config.audience,
            issuer=config.issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError:
        return None
    if claims["type"] != "access" or not isinstance(claims["roles"], list):
        return None
    return claims


async def me(request: Request) -> JSONResponse:
    config: Config = request.app.state.config
    claims = _claims(config, request.headers.get("authorization", ""))
    if claims is None:
        return _unauthorized()
    try:
        user_id = uuid.UUID(claims["sub"])
    except (ValueError, TypeError):
        return _unauthorized()
    pool: asyncpg.Pool = request.app.state.pool
    row = await pool.fetchrow(USER_BY_ID, user_id)
    if row is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse(
        {
            "id": str(row["id"]),
            "email": row["email"],
            "username": row["username"],
            "full_name": row["full_name"],
            "roles": sorted(str(role) for role in claims["roles"]),
            "is_active": row["is_active"],
            "email_verified": row["email_verified"],
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
        }
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    config = Config()
    app.state.config = config
    app.state.pool = await asyncpg.create_pool(
        config.dsn,
        min_size=config.pool_size,
        max_size=config.pool_size + config.max_overflow,
        server_settings={"application_name": "aibos-bench-reference"},
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(routes=[Route("/api/v1/users/me", me)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description="The reference server for GET /users/me.")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
