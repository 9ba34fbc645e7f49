"""Fixed-window rate limits kept in the cache, shared by every process."""

from __future__ import annotations

import asyncio
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

# KEYS: first ARGV[1] buckets to take one attempt back from (if their window still holds any),
# then the buckets to count an attempt in; ARGV[2..]: each counted bucket's window in seconds.
# Returns each counted key's count and seconds to live, in order. A script, so that all of it
# is one command: atomic, and one round trip with little to encode and decode on either side.
_COUNT = """
local returned = tonumber(ARGV[1])
for i = 1, returned do
    if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
        redis.call('DECR', KEYS[i])
    end
end
local replies = {}
for i = returned + 1, #KEYS do
    local count = redis.call('INCR', KEYS[i])
    if redis.call('TTL', KEYS[i]) < 0 then
        redis.call('EXPIRE', KEYS[i], ARGV[i - returned + 1])
    end
    replies[#replies + 1] = count
    replies[#replies + 1] = redis.call('TTL', KEYS[i])
end
return replies
"""
# An attempt given back waits at most this long for a count to travel with.
GIVE_BACK_DELAY_SECONDS = 0.25


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
        self._count = _Script(_COUNT, cache.client, FakeAsyncRedis())
        self._given_back: list[str] = []  # keys whose attempts are to be taken back
        self._sending: set[asyncio.Task[None]] = set()

    async def hit(self, bucket: str, subject: str, limit: str) -> None:
        """Count one attempt; raise RateLimited once `limit` ("attempts/seconds") is passed."""
        await self.hit_each([(bucket, subject, limit)])

    async def hit_each(self, buckets: Sequence[Bucket]) -> None:
        """Count one attempt in each bucket, in one round trip; raise RateLimited if any
        passes its limit."""
        keys = [self._cache.key("ratelimit", bucket, subject) for bucket, subject, _ in buckets]
        replies = await self._send(keys, [_parse(limit)[1] for _, _, limit in buckets])
        answers = zip(replies[0::2], replies[1::2], strict=True)  # (count, ttl) per key
        used_up = [
            ttl
            for (_, _, limit), (count, ttl) in zip(buckets, answers, strict=True)
            if count > _parse(limit)[0]
        ]
        if used_up:
            raise RateLimited("Too many attempts; try again later.", retry_after=max(*used_up, 1))

    def give_back(self, bucket: str, subject: str) -> None:
        """Take back one attempt counted by `hit`: it turned out to be no guess. It travels
        with this process's next count, or on its own after GIVE_BACK_DELAY_SECONDS: a
        successful sign-in then costs no round trip of its own."""
        if not self._given_back:
            asyncio.get_running_loop().call_later(GIVE_BACK_DELAY_SECONDS, self._send_given_back)
        self._given_back.append(self._cache.key("ratelimit", bucket, subject))

    async def _send(self, keys: list[str], windows: list[int]) -> Any:
        returned, self._given_back = self._given_back, []
        return await self._count(keys=returned + keys, args=[len(returned), *windows])

    def _send_given_back(self) -> None:
        if self._given_back:
            task = asyncio.create_task(self._send([], []))
            self._sending.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._sending.discard)


def _parse(limit: str) -> tuple[int, int]:
    attempts, seconds = (int(part) for part in limit.split("/"))
    return attempts, seconds
