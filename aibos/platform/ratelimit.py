"""Fixed-window rate limits kept in the cache, shared by every process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from aibos.platform.cache import Cache
from aibos.platform.errors import RateLimited

logger = structlog.get_logger("aibos.ratelimit")
Bucket = tuple[str, str, str]  # bucket, subject, limit ("attempts/seconds")

# KEYS: the buckets to count an attempt in; ARGV: each bucket's window in seconds.
# Returns each key's count and seconds to live, in order. A script, so that all of it is one
# command: atomic, and one round trip with little to encode and decode on either side.
_COUNT = """
local replies = {}
for i, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if redis.call('TTL', key) < 0 then
        redis.call('EXPIRE', key, ARGV[i])
    end
    replies[#replies + 1] = count
    replies[#replies + 1] = redis.call('TTL', key)
end
return replies
"""
# KEYS: one bucket. Takes back one attempt counted there, if the window still holds any.
_GIVE_BACK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
    redis.call('DECR', KEYS[1])
end
return 0
"""


class _Script:
    """A Lua script run in the cache or, while the cache cannot be reached, in this process:
    then each process keeps its own counts, which is weaker than shared ones but not none."""

    def __init__(self, source: str, shared: Redis, local: Redis) -> None:
        self._shared = shared.register_script(source)
        self._local = local.register_script(source)

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._shared(keys=keys, args=args)
        except RedisError:
            logger.warning("rate_limit_counted_in_process", keys=len(keys))
            return await self._local(keys=keys, args=args)


class RateLimiter:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        local = FakeAsyncRedis()
        self._count = _Script(_COUNT, cache.client, local)
        self._give_back = _Script(_GIVE_BACK, cache.client, local)

    async def hit(self, bucket: str, subject: str, limit: str) -> None:
        """Count one attempt; raise RateLimited once `limit` ("attempts/seconds") is passed."""
        await self.hit_each([(bucket, subject, limit)])

    async def hit_each(self, buckets: Sequence[Bucket]) -> None:
        """Count one attempt in each bucket, in one round trip; raise RateLimited if any
        passes its limit."""
        keys = [self._cache.key("ratelimit", bucket, subject) for bucket, subject, _ in buckets]
        replies = await self._count(keys=keys, args=[_parse(limit)[1] for _, _, limit in buckets])
        answers = zip(replies[0::2], replies[1::2], strict=True)  # (count, ttl) per key
        used_up = [
            ttl
            for (_, _, limit), (count, ttl) in zip(buckets, answers, strict=True)
            if count > _parse(limit)[0]
        ]
        if used_up:
            raise RateLimited("Too many attempts; try again later.", retry_after=max(*used_up, 1))

    async def give_back(self, bucket: str, subject: str) -> None:
        """Take back one attempt counted by `hit`: it turned out to be no guess."""
        await self._give_back(keys=[self._cache.key("ratelimit", bucket, subject)], args=[])


def _parse(limit: str) -> tuple[int, int]:
    attempts, seconds = (int(part) for part in limit.split("/"))
    return attempts, seconds
