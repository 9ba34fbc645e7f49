from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.ledger.exceptions import InvalidAmount
from aibos.modules.ledger.money import exponent, plain
from aibos.modules.ledger.schemas import ExchangeRateIn, ExchangeRatePublic
from aibos.modules.ledger.tables import rates
from aibos.platform.db import for_reading, for_writing, insert_or_update
from aibos.platform.idempotency import Claim, remember, take
from aibos.platform.settings import Settings


class RateService:
    """The rate table: functional-currency units for one unit of a currency, by date."""

    def __init__(self, *, engine: AsyncEngine, settings: Settings) -> None:
        self._reader = for_reading(engine)
        self._writer = for_writing(engine)
        self._functional = settings.functional_currency

    async def find(self, *, currency: str | None, on: date | None) -> list[ExchangeRatePublic]:
        query = select(rates).order_by(rates.c.currency, rates.c.effective_date.desc())
        if currency:
            query = query.where(rates.c.currency == currency)
        if on:
            query = query.where(rates.c.effective_date <= on)
        async with self._reader.connect() as connection:
            rows = (await connection.execute(query)).all()
        if on:  # only the rate in force that day, per currency
            rows = [
                row
                for index, row in enumerate(rows)
                if index == 0 or rows[index - 1].currency != row.currency
            ]
        return [
            ExchangeRatePublic(
                currency=row.currency, effective_date=row.effective_date, rate=plain(row.rate)
            )
            for row in rows
        ]

    async def set(self, data: ExchangeRateIn, claim: Claim | None = None) -> ExchangeRatePublic:
        exponent(data.currency)
        if data.currency == self._functional:
            raise InvalidAmount(f"{self._functional} is the functional currency: its rate is 1.")
        async with self._writer.begin() as connection:
            await take(claim, connection)
            statement = insert_or_update(connection.dialect.name, rates).values(**data.model_dump())
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[rates.c.currency, rates.c.effective_date],
                    set_={"rate": statement.excluded.rate},
                )
            )
            rate = ExchangeRatePublic(
                currency=data.currency, effective_date=data.effective_date, rate=plain(data.rate)
            )
            await remember(claim, connection, rate)
            return rate
