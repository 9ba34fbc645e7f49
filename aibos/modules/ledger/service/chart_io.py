"""The chart as CSV: import (all rows or none), export, and the default Malaysian chart."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aibos.modules.ledger.exceptions import AccountNotFound, InvalidAccount
from aibos.modules.ledger.schemas import AccountCreate, ChartLoaded
from aibos.modules.ledger.service.accounts import AccountService, add_account, parent_for
from aibos.modules.ledger.tables import accounts
from aibos.platform.db import for_writing
from aibos.platform.errors import DomainError
from aibos.platform.idempotency import Claim, remember, take

COLUMNS = ["code", "name", "type", "mfrs_class", "parent_code", "currency", "is_contra"]
REQUIRED = set(COLUMNS) - {"is_contra"}  # files from before contra accounts still load
FLAGS = {"true": True, "false": False, "": False}
MAX_ROWS = 5000


def default_chart() -> str:
    return files("aibos.modules.ledger").joinpath("default_chart.csv").read_text(encoding="utf-8")


def parse(text: str) -> list[AccountCreate]:
    """The accounts of a chart CSV, or the first thing wrong with it, by line."""
    try:
        return _accounts_in(csv.DictReader(io.StringIO(text)))
    except csv.Error as error:
        raise InvalidAccount(f"Not a CSV file this import reads: {error}.") from error


def _accounts_in(reader: csv.DictReader[str]) -> list[AccountCreate]:
    names = set(reader.fieldnames or ())
    if not REQUIRED <= names <= set(COLUMNS) or len(names) != len(reader.fieldnames or ()):
        raise InvalidAccount(
            f"The CSV needs these columns, each once: {', '.join(COLUMNS)} (is_contra optional)."
        )
    rows = []
    for line_number, row in enumerate(reader, start=2):
        if line_number > MAX_ROWS + 1:
            raise InvalidAccount(f"At most {MAX_ROWS} accounts in one import.")
        if None in row:  # csv files values beyond the header's columns under None
            raise InvalidAccount(f"Line {line_number}: more values than columns.")
        values = {key: value.strip() for key, value in row.items() if value and value.strip()}
        flag = values.pop("is_contra", "").lower()
        if flag not in FLAGS:
            raise InvalidAccount(f"Line {line_number}, is_contra: true or false.")
        values["is_contra"] = FLAGS[flag]
        try:
            rows.append(AccountCreate.model_validate(values))
        except ValidationError as error:
            problem = error.errors(include_input=False)[0]
            field = ".".join(str(part) for part in problem["loc"])
            raise InvalidAccount(f"Line {line_number}, {field}: {problem['msg']}.") from error
    return rows


async def _place(connection: AsyncConnection, row: AccountCreate, line_number: int) -> None:
    """Put the account of this CSV line under its parent, or say which line names which."""
    account_id = await connection.scalar(select(accounts.c.id).where(accounts.c.code == row.code))
    try:
        parent_id = await parent_for(connection, row.parent_code, row.type, child_id=account_id)
    except AccountNotFound as error:
        raise InvalidAccount(
            f"Line {line_number}: parent {row.parent_code} is neither in the chart nor the file."
        ) from error
    except DomainError as error:
        error.detail = f"Line {line_number}: {error.detail}"
        raise
    await connection.execute(
        update(accounts).where(accounts.c.id == account_id).values(parent_id=parent_id)
    )


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
            for line_number, row in enumerate(rows, start=2):
                if row.parent_code:
                    await _place(connection, row, line_number)
            loaded = ChartLoaded(loaded=len(rows))
            await remember(claim, connection, loaded)
            return loaded

    async def export(self) -> str:
        chart = await self._accounts.everything()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for account in chart:
            row = {column: getattr(account, column) or "" for column in COLUMNS}
            writer.writerow({**row, "is_contra": "true" if account.is_contra else "false"})
        return buffer.getvalue()
