"""The ledger tests get a fresh database of their own (`office`); each test its own books in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.modules.ledger.books import Books, Office, open_office


@pytest.fixture(scope="package")
async def office() -> AsyncIterator[Office]:
    async with open_office() as office:
        yield office


@pytest.fixture
async def books(office: Office) -> Books:
    return await office.new_books()
