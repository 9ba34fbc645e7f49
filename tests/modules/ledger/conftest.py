"""The ledger tests get a fresh database of their own (`office`); each test its own books in it."""

from __future__ import annotations

import pytest

from tests.modules.ledger.books import Books, Office, office_of_its_own

office = office_of_its_own("package")


@pytest.fixture
async def books(office: Office) -> Books:
    return await office.new_books()
