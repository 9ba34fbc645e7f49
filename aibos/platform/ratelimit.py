"""Fixed-window rate limits kept in the cache, shared by every process."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from redis.exceptions import RedisError

from aibos.platform.cache import Cache
from aibos.platform.errors import RateLimited

logger = structlog.get_logger("aibos.ratelimit")
Bucket = tuple[str, str, str]  # bucket, subject, limit ("attempts/seconds")


class RateLimiter:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def check(self, bucket: str, subject: str, limit: str) -> None:
        """Raise RateLimited if the attempts counted so far have used up `limit`; count none."""
        await self.hit_and_check(hits=(), checks=[(bucket, subject, limit)])

    async def hit(self, bucket: str, subject: str, limit: str) -> None:
        """Count one attempt; raise RateLimited once `limit` ("attempts/seconds") is passed."""
        await self.hit_and_check(hits=[(bucket, subject, limit)], checks=())

    async def hit_and_check(self, *, hits: Sequence[Bucket], checks: Sequence[Bucket]) -> None:
        """Count one attempt in each of `hits` and look at each of `checks`, in one round trip;
        raise RateLimited if any hit passes its limit or any check has used its limit up."""
        try:
            async with self._cache.client.pipeline(transaction=True) as pipe:
                for bucket, subject, limit in hits:
                    key = self._cache.key("ratelimit", bucket, subject)
                    pipe.set(key, 0, ex=_parse(limit)[1], nx=True)
                    pipe.incr(key)
                    pipe.ttl(key)
                for bucket, subject, _ in checks:
                    key = self._cache.key("ratelimit", bucket, subject)
                    pipe.get(key)
                    pipe.ttl(key)
                replies = await pipe.execute()
        except RedisError:
            # Better to serve without limits for a moment than to refuse everyone.
            logger.warning(
                "rate_limit_unavailable", buckets=[name for name, _, _ in (*hits, *checks)]
            )
            return
        hit_replies, check_replies = replies[: 3 * len(hits)], replies[3 * len(hits) :]
        counts = zip(hits, hit_replies[1::3], hit_replies[2::3], strict=True)
        used_up = [ttl for (_, _, limit), count, ttl in counts if count > _parse(limit)[0]]
        looked_at = zip(checks, check_replies[0::2], check_replies[1::2], strict=True)
        used_up += [
            ttl
            for (_, _, limit), count, ttl in looked_at
            if count is not None and int(count) >= _parse(limit)[0]
        ]
        if used_up:
            retry_after = max(max(int(ttl) for ttl in used_up), 1)
            raise RateLimited("Too many attempts; try again later.", retry_after=retry_after)


def _parse(limit: str) -> tuple[int, int]:
    attempts, seconds = (int(part) for part in limit.split("/"))
    return attempts, seconds
