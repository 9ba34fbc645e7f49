"""argon2id hashing off the event loop, and the password policy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from aibos.modules.auth.exceptions import WeakPassword
from aibos.platform.settings import Settings

MAX_PASSWORD_LENGTH = 256
HASHING_NICENESS = 10
T = TypeVar("T")


class Passwords:
    """Hashes run in a pool as wide as the machine: bounded, and never on the event loop."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 1,
            thread_name_prefix="argon2",
            initializer=_yield_to_the_event_loop,
        )
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(await self._run(self._hasher.verify, password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def spend_a_verification(self, password: str) -> None:
        """Cost what a real check costs, so an unknown account answers in the same time."""
        if self._decoy is None:
            self._decoy = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._decoy, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _yield_to_the_event_loop() -> None:
    """Hashing threads run at a lower priority: they use every idle cycle, but the event loop,
    which answers every other request, never waits behind them."""
    with contextlib.suppress(OSError, AttributeError):  # Linux renices this one thread
        os.setpriority(os.PRIO_PROCESS, 0, HASHING_NICENESS)


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_policy(password: str, *, settings: Settings, email: str | None = None) -> None:
    if len(password) < settings.password_min_length:
        raise WeakPassword(f"Use at least {settings.password_min_length} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if settings.password_require_letter_and_digit and not (
        re.search(r"[^\W\d_]", password) and re.search(r"\d", password)
    ):
        raise WeakPassword("Use at least one letter and one digit.")
    lowered = password.lower()
    if lowered in _common_passwords() or (email and lowered == email.lower()):
        raise WeakPassword("This password is too common; choose another.")
