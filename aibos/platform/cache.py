"""Redis, or an in-process stand-in (single process, development only) when no URL is set."""

from __future__ import annotations

from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from aibos.platform.settings import Settings


class Cache:
    """A Redis client whose keys all live under one namespace."""

    def __init__(self, client: Redis, *, namespace: str, in_process: bool) -> None:
        self.client = client
        self.namespace = namespace
        self.in_process = in_process

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def close(self) -> None:
        await self.client.aclose()


def create_cache(settings: Settings) -> Cache:
    if settings.redis_url is None:
        return Cache(FakeAsyncRedis(), namespace=settings.cache_namespace, in_process=True)
    client = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
    )
    return Cache(client, namespace=settings.cache_namespace, in_process=False)
