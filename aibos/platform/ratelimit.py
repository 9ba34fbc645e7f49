"""Fixed-window rate limits kept in the cache, shared by every process."""

from __future__ import annotations

import structlog
from redis.exceptions import RedisError

from aibos.platform.cache import Cache
from aibos.platform.errors import RateLimited

logger = structlog.get_logger("aibos.ratelimit")


class RateLimiter:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def check(self, bucket: str, subject: str, limit: str) -> None:
        """Raise RateLimited if the attempts counted so far have used up `limit`; count none."""
        attempts, _ = _parse(limit)
        key = self._cache.key("ratelimit", bucket, subject)
        try:
            async with self._cache.client.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.ttl(key)
                count, ttl = await pipe.execute()
        except RedisError:
            logger.warning("rate_limit_unavailable", bucket=bucket)
            return
        if count is not None and int(count) >= attempts:
            raise RateLimited("Too many attempts; try again later.", retry_after=max(int(ttl), 1))

    async def hit(self, bucket: str, subject: str, limit: str) -> None:
        """Count one attempt; raise RateLimited once `limit` ("attempts/seconds") is passed."""
        attempts, seconds = _parse(limit)
        key = self._cache.key("ratelimit", bucket, subject)
        try:
            async with self._cache.client.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=seconds, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = await pipe.execute()
        except RedisError:
            # Better to serve without limits for a moment than to refuse everyone.
            logger.warning("rate_limit_unavailable", bucket=bucket)
            return
        if count > attempts:
            raise RateLimited("Too many attempts; try again later.", retry_after=max(int(ttl), 1))


def _parse(limit: str) -> tuple[int, int]:
    attempts, seconds = (int(part) for part in limit.split("/"))
    return attempts, seconds
