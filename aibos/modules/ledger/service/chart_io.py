"""The chart as CSV: import (all rows or none), export, and the default Malaysian chart."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.ledger.exceptions import InvalidAccount
from aibos.modules.ledger.schemas import AccountCreate, ChartLoaded
from aibos.modules.ledger.service.accounts import AccountService, add_account, parent_for
from aibos.modules.ledger.tables import accounts
from aibos.platform.db import for_writing
from aibos.platform.errors import DomainError
from aibos.platform.idempotency import Claim, remember, take

COLUMNS = ["code", "name", "type", "mfrs_class", "parent_code", "currency"]
MAX_ROWS = 5000


def default_chart() -> str:
    return files("aibos.modules.ledger").joinpath("default_chart.csv").read_text(encoding="utf-8")


def parse(text: str) -> list[AccountCreate]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or set(reader.fieldnames) != set(COLUMNS):
        raise InvalidAccount(f"The CSV needs exactly these columns: {', '.join(COLUMNS)}.")
    rows = []
    for line_number, row in enumerate(reader, start=2):
        if line_number > MAX_ROWS + 1:
            raise InvalidAccount(f"At most {MAX_ROWS} accounts in one import.")
        values = {key: value.strip() for key, value in row.items() if value and value.strip()}
        try:
            rows.append(AccountCreate.model_validate(values))
        except ValidationError as error:
            problem = error.errors(include_input=False)[0]
            field = ".".join(str(part) for part in problem["loc"])
            raise InvalidAccount(f"Line {line_number}, {field}: {problem['msg']}.") from error
    return rows


class ChartFiles:
    def __init__(self, *, engine: AsyncEngine, accounts_service: AccountService) -> None:
        self._writer = for_writing(engine)
        self._accounts = accounts_service

    async def load(self, text: str, claim: Claim | None = None) -> ChartLoaded:
        """Add every account of the CSV, parents before or after their children; all or none."""
        rows = parse(text)
        async with self._writer.begin() as connection:
            await take(claim, connection)
            for line_number, row in enumerate(rows, start=2):
                try:
                    await add_account(connection, row.model_copy(update={"parent_code": None}))
                except DomainError as error:
                    error.detail = f"Line {line_number}: {error.detail}"
                    raise
            for row in rows:
                if row.parent_code:
                    parent_id = await parent_for(
                        connection, row.parent_code, row.type, child_id=None
                    )
                    await connection.execute(
                        update(accounts)
                        .where(accounts.c.code == row.code)
                        .values(parent_id=parent_id)
                    )
            loaded = ChartLoaded(loaded=len(rows))
            await remember(claim, connection, loaded)
            return loaded

    async def export(self) -> str:
        chart = await self._accounts.everything()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for account in chart:
            writer.writerow({column: getattr(account, column) or "" for column in COLUMNS})
        return buffer.getvalue()
