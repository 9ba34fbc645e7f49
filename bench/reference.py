"""The floor for `GET /api/v1/users/me` and for a login: bare Starlette + asyncpg doing the same
essential work.

    AIBOS_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB AIBOS_SECRET_KEY=... \\
        uv run python -m bench.reference --port 8001

bench/run.py starts it next to the real API, with the same database, secret, issuer and
audience, so one access token works on both. Per request it does what the API's route must do
at the least: check the HS256 bearer token with PyJWT (kid header, algorithm, audience, issuer,
the same required claims, `type` and `roles`), read the user's row by id through an asyncpg pool
(as large as the API's: pool size + overflow), and answer it as JSON. No framework dependency
injection, no ORM, no middleware. One uvicorn worker with uvloop and httptools, as the API runs.

`POST /api/v1/auth/login` (JSON) does what a sign-in must do at the least: count the attempt
per address and per account in Redis (one pipelined round trip), read the credential, the active
flag and the roles by email (one statement), verify the argon2id hash in a thread pool as wide as
the machine (the API's parameters, from AIBOS_ARGON2_*), write the session and its first refresh
token (one statement, committed on its own), and answer a signed access token with the same
claims as the API's. No rate-limit windows given back, no rehash check, no error envelope.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
import uvicorn
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError
from redis.asyncio import Redis
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
SIGN_IN = (
    "SELECT c.user_id, c.password_hash, u.is_active, r.role_name FROM users_user u"
    " JOIN auth_credential c ON c.user_id = u.id"
    " LEFT JOIN users_user_role r ON r.user_id = u.id WHERE u.email = $1"
)
OPEN_SESSION = (
    "WITH session AS (INSERT INTO auth_session"
    " (id, user_id, created_at, last_used_at, expires_at, user_agent, ip_address)"
    " VALUES ($1, $2, $3, $3, $4, $5, $6))"
    " INSERT INTO auth_refresh_token (token_hash, session_id, created_at, expires_at)"
    " VALUES ($7, $1, $3, $4)"
)
ACCESS_MINUTES = 30
REFRESH_DAYS = 7
ATTEMPTS_PER_MINUTE = 1_000_000  # as the bench lifts the API's login limits


class Config:
    def __init__(self) -> None:
        url = os.environ["AIBOS_DATABASE_URL"]
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.secret = os.environ["AIBOS_SECRET_KEY"].encode()
        self.issuer = os.environ.get("AIBOS_JWT_ISSUER", "aibos")
        self.audience = os.environ.get("AIBOS_JWT_AUDIENCE", "aibos-api")
        self.pool_size = int(os.environ.get("AIBOS_DB_POOL_SIZE", "20"))
        self.max_overflow = int(os.environ.get("AIBOS_DB_MAX_OVERFLOW", "0"))
        self.redis_url = os.environ.get("AIBOS_REDIS_URL", "redis://127.0.0.1:6379/0")
        self.namespace = os.environ.get("AIBOS_CACHE_NAMESPACE", "aibos") + ":reference"
        self.hasher = PasswordHasher(
            time_cost=int(os.environ.get("AIBOS_ARGON2_TIME_COST", "2")),
            memory_cost=int(os.environ.get("AIBOS_ARGON2_MEMORY_KIB", "19456")),
            parallelism=int(os.environ.get("AIBOS_ARGON2_PARALLELISM", "1")),
            type=Type.ID,
        )


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


async def login(request: Request) -> JSONResponse:
    config: Config = request.app.state.config
    body = await request.json()
    email, password = str(body["email"]).lower(), str(body["password"])
    address = request.client.host if request.client else "-"
    if not await _count_attempt(request.app.state.redis, config, address, email):
        return JSONResponse({"detail": "too many attempts"}, status_code=429)
    pool: asyncpg.Pool = request.app.state.pool
    rows = await pool.fetch(SIGN_IN, email)
    if not rows or rows[0]["password_hash"] is None:
        return _unauthorized()
    try:
        await asyncio.get_running_loop().run_in_executor(
            request.app.state.hashing, config.hasher.verify, rows[0]["password_hash"], password
        )
    except VerificationError:
        return _unauthorized()
    if not rows[0]["is_active"]:
        return JSONResponse({"detail": "account disabled"}, status_code=403)
    user_id, now = rows[0]["user_id"], datetime.now(UTC)
    session_id, refresh_token = uuid.uuid4(), secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=REFRESH_DAYS)
    await pool.execute(
        OPEN_SESSION,
        session_id,
        user_id,
        now,
        expires_at,
        request.headers.get("user-agent", "")[:300],
        address,
        hashlib.sha256(refresh_token.encode()).hexdigest(),
    )
    roles = sorted(row["role_name"] for row in rows if row["role_name"] is not None)
    return JSONResponse(
        {
            "access_token": _access_token(config, user_id, session_id, roles, now),
            "token_type": "bearer",
            "expires_in": ACCESS_MINUTES * 60,
            "refresh_token": refresh_token,
            "refresh_expires_in": REFRESH_DAYS * 86400,
            "session_id": str(session_id),
        }
    )


async def _count_attempt(redis: Redis, config: Config, address: str, email: str) -> bool:
    """One attempt in the address's and the account's one-minute windows, one round trip."""
    keys = [f"{config.namespace}:login-address:{address}", f"{config.namespace}:login:{email}"]
    pipeline = redis.pipeline(transaction=False)
    for key in keys:
        pipeline.incr(key)
        pipeline.expire(key, 60, nx=True)
    counts: list[int] = (await pipeline.execute())[0::2]
    return max(counts) <= ATTEMPTS_PER_MINUTE


def _access_token(
    config: Config, user_id: uuid.UUID, session_id: uuid.UUID, roles: list[str], now: datetime
) -> str:
    claims = {
        "sub": str(user_id),
        "iss": config.issuer,
        "aud": config.audience,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=ACCESS_MINUTES),
        "jti": uuid.uuid4().hex,
        "type": "access",
        "sid": str(session_id),
        "roles": roles,
    }
    return jwt.encode(claims, config.secret, algorithm="HS256", headers={"kid": KID})


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
    app.state.redis = Redis.from_url(config.redis_url)
    app.state.hashing = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        yield
    finally:
        app.state.hashing.shutdown(cancel_futures=True)
        await app.state.redis.aclose()
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/api/v1/users/me", me),
        Route("/api/v1/auth/login", login, methods=["POST"]),
    ],
    lifespan=lifespan,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="The reference server for GET /users/me and logins."
    )
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
