"""Journal entries: drafts, posting with its rules, approval, reversal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.ledger.exceptions import (
    AccountInactive,
    AccountNotPostable,
    CurrencyNotAllowed,
    EntryNotFound,
    EntryStateInvalid,
    EntryUnbalanced,
    InvalidLine,
    PeriodClosed,
    RateMissing,
    ReversalBeforeOriginal,
    TooFewLines,
    UnknownAccount,
)
from aibos.modules.ledger.money import bounded, convert, plain, to_decimal_string, to_minor
from aibos.modules.ledger.schemas import (
    EntriesPublic,
    EntryFilters,
    EntryIn,
    EntryKind,
    EntryPublic,
    EntryStatus,
    LineIn,
    LinePublic,
    ReversalRequest,
    Side,
)
from aibos.modules.ledger.service.approval import (
    add_maker,
    check_may_approve,
    check_may_change,
    needs_approval,
)
from aibos.modules.ledger.service.periods import (
    OPEN_YEAR_ON_DAY,
    first_open_day_from,
    open_period_of,
    posting_refusal,
)
from aibos.modules.ledger.service.reversal import check_reversible, copy_reversed
from aibos.modules.ledger.tables import (
    accounts,
    daily_balances,
    entries,
    fiscal_years,
    lines,
    rates,
)
from aibos.platform.db import (
    Connection,
    DriverConnections,
    Record,
    contains_text,
    for_reading,
    for_writing,
    insert_or_update,
    prebuilt,
    retrying_lock_conflicts,
    utcnow,
)
from aibos.platform.errors import InvalidInput
from aibos.platform.idempotency import Claim, as_json, recorded_with, remember, take
from aibos.platform.security import Principal
from aibos.platform.settings import Settings

MAX_BATCH = 1000
_child = accounts.alias("child")
_IS_HEADER = select(_child.c.id).where(_child.c.parent_id == accounts.c.id).exists()

# Statements every posting runs, built once so that none is put together per request.
_ACCOUNT_FACTS = select(
    accounts.c.id,
    accounts.c.code,
    accounts.c.is_active,
    accounts.c.currency,
    _IS_HEADER.label("is_header"),
)
_ACCOUNTS_NAMED = {
    # An array parameter keeps one statement whatever the number of codes.
    "postgresql": prebuilt(
        _ACCOUNT_FACTS.where(accounts.c.code == any_(bindparam("codes", type_=ARRAY(String))))
    ),
    "sqlite": _ACCOUNT_FACTS.where(accounts.c.code.in_(bindparam("codes", expanding=True))),
}
_INSERT_ENTRY = prebuilt(insert(entries))
_INSERT_LINES = prebuilt(insert(lines))
_POSTED_BY = {
    "status": EntryStatus.POSTED,
    "posted_by": bindparam("poster"),
    "posted_at": bindparam("posted"),
    "approved_by": bindparam("approver"),
    "approved_at": bindparam("approved"),
}
_NEXT_NUMBERS = prebuilt(
    update(fiscal_years)
    .where(fiscal_years.c.id == bindparam("year_id"))
    .values(last_entry_number=fiscal_years.c.last_entry_number + bindparam("count"))
    .returning(fiscal_years.c.last_entry_number, fiscal_years.c.name)
)
_MARK_POSTED = prebuilt(
    update(entries)
    .where(entries.c.id == bindparam("entry_id"))
    .values(
        fiscal_year_id=bindparam("year_id"),
        sequence=bindparam("sequence"),
        number=bindparam("number"),
        **_POSTED_BY,
    )
)


def _adding_to_day_balances(statement: Any) -> Any:
    """An INSERT of day balances that adds to the account's day where it already has a row."""
    return statement.on_conflict_do_update(
        index_elements=[daily_balances.c.account_id, daily_balances.c.day],
        set_={
            "debit": daily_balances.c.debit + statement.excluded.debit,
            "credit": daily_balances.c.credit + statement.excluded.credit,
        },
    )


def _booked_in_one_statement(*, recording: bool = False) -> Any:
    """PostgreSQL: find the open period's year (or take :year_id), move its counter, mark the
    entry posted with the number and add its lines to their day balances, all in one statement,
    so that the rows every posting needs, the year's counter and (for a busy account) its day,
    are held for the shortest time. The counter is locked first, as in a batch, and the day
    balances after it (PostgreSQL runs a WITH statement that nothing reads after the main one),
    in account order. The number reads as in `_entry_number`. `recording`: it keeps the
    answer of the request's Idempotency-Key too, the number filled in, so that no round trip
    follows it but the commit."""
    year = (
        update(fiscal_years)
        .where(
            fiscal_years.c.id
            == func.coalesce(bindparam("year_id", type_=fiscal_years.c.id.type), OPEN_YEAR_ON_DAY)
        )
        .values(last_entry_number=fiscal_years.c.last_entry_number + 1)
        .returning(fiscal_years.c.id, fiscal_years.c.name, fiscal_years.c.last_entry_number)
        .cte("year")
    )
    sequence = cast(year.c.last_entry_number, String)
    digits = func.lpad(sequence, func.greatest(6, func.length(sequence)), "0")
    day_totals = select(
        func.unnest(bindparam("balance_accounts", type_=ARRAY(Uuid()))),
        bindparam("day", type_=Date()),
        func.unnest(bindparam("balance_debits", type_=ARRAY(BigInteger()))),
        func.unnest(bindparam("balance_credits", type_=ARRAY(BigInteger()))),
    )
    added = _adding_to_day_balances(
        postgresql.insert(daily_balances).from_select(
            ["account_id", "day", "debit", "credit"], day_totals
        )
    )
    number = literal("JE-") + year.c.name + "-" + digits
    booked = (
        update(entries)
        .where(
            entries.c.id == bindparam("entry_id"),
            entries.c.fiscal_year_id.is_distinct_from(year.c.id),  # not numbered yet
        )
        .values(
            fiscal_year_id=year.c.id,
            sequence=year.c.last_entry_number,
            number=number,
            **_POSTED_BY,
        )
        .returning(entries.c.number)
        .add_cte(added.cte("balances"))
    )
    if recording:
        return booked.add_cte(recorded_with(select(number).scalar_subquery()).cte("recorded"))
    return booked


_BOOK = prebuilt(_booked_in_one_statement())
_BOOK_RECORDING = prebuilt(_booked_in_one_statement(recording=True))


def _entry_number(year_name: str, sequence: int) -> str:
    return f"JE-{year_name}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class PreparedLine:
    account_id: uuid.UUID
    side: Side
    amount: int
    currency: str
    rate: Decimal
    functional: int
    memo: str
    # what the posting rules need to know of the account
    code: str
    is_active: bool
    is_header: bool
    account_currency: str | None

    @property
    def debit(self) -> int:
        return self.functional if self.side is Side.DEBIT else 0

    @property
    def credit(self) -> int:
        return self.functional if self.side is Side.CREDIT else 0


class EntryService:
    def __init__(
        self, *, engine: AsyncEngine, driver: DriverConnections, settings: Settings
    ) -> None:
        self._transactions = driver
        self._reader = for_reading(engine)
        self._writer = for_writing(engine)
        self._functional = settings.functional_currency
        self._threshold = to_minor(settings.approval_threshold, settings.functional_currency)

    # Reads

    async def get(self, entry_id: uuid.UUID) -> EntryPublic:
        async with self._reader.connect() as connection:
            return await self._public(connection, entry_id)

    async def find(self, filters: EntryFilters) -> EntriesPublic:
        conditions = []
        if filters.status is not None:
            conditions.append(entries.c.status == filters.status)
        if filters.start is not None:
            conditions.append(entries.c.entry_date >= filters.start)
        if filters.end is not None:
            conditions.append(entries.c.entry_date <= filters.end)
        if filters.source is not None:
            conditions.append(entries.c.source == filters.source)
        if filters.q:
            conditions.append(
                or_(
                    contains_text(entries.c.description, filters.q),
                    contains_text(entries.c.reference, filters.q),
                )
            )
        async with self._reader.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(entries).where(*conditions)
            )
            ids = await connection.scalars(
                select(entries.c.id)
                .where(*conditions)
                .order_by(entries.c.entry_date, entries.c.sequence, entries.c.created_at)
                .limit(filters.size)
                .offset((filters.page - 1) * filters.size)
            )
            data = await self._publics(connection, ids.all())
        return EntriesPublic(data=data, count=int(count or 0))

    # Writes: each is one transaction, run again when it loses a lock race.

    async def create(
        self, actor: Principal, data: EntryIn, *, post: bool, claim: Claim | None = None
    ) -> EntryPublic:
        async def work() -> EntryPublic:
            async with self._transactions.begin() as connection:
                await take(claim, connection)
                entry_id, known = await self._create(connection, actor, data, post, claim)
                if known is not None:  # posted at once, its answer kept already
                    return known
                entry = await self._public(connection, entry_id)
                await remember(claim, connection, entry)
                return entry

        return await retrying_lock_conflicts(work)

    async def create_batch(
        self, actor: Principal, batch: list[EntryIn], claim: Claim | None = None
    ) -> list[EntryPublic]:
        """Post every entry or none: the way integrations load a day of business events."""
        if not 1 <= len(batch) <= MAX_BATCH:
            raise InvalidInput(f"A batch holds 1 to {MAX_BATCH} entries.")

        async def work() -> list[EntryPublic]:
            async with self._transactions.begin() as connection:
                await take(claim, connection)
                entry_ids = await self._post_many(connection, actor, batch)
                posted = await self._publics(connection, entry_ids)
                await remember(claim, connection, posted)
                return posted

        return await retrying_lock_conflicts(work)

    async def _post_many(
        self, connection: Connection, actor: Principal, batch: list[EntryIn]
    ) -> list[uuid.UUID]:
        """A batch in set-wise statements: the rows of all entries at once, balances summed per
        account and day, and one move of each year's counter. Entries above the approval
        threshold wait for approval, as they would one by one."""
        known = await self._accounts_named(
            connection, {line.account_code for data in batch for line in data.lines}
        )
        years: dict[date, uuid.UUID] = {}
        entry_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        posted_lines: list[tuple[date, PreparedLine]] = []
        numbering: list[tuple[uuid.UUID, uuid.UUID]] = []
        for position, data in enumerate(batch):
            try:
                prepared = await self._prepare(connection, data, known=known)
                self._check_lines(prepared)
                if data.entry_date not in years:
                    years[data.entry_date] = await _open_year_of(connection, data.entry_date)
            except InvalidInput as error:
                error.detail = f"Entry {position}: {error.detail}"
                raise
            entry_id, posts_now = uuid.uuid4(), _total(prepared) <= self._threshold
            status = EntryStatus.DRAFT if posts_now else EntryStatus.PENDING_APPROVAL
            entry_rows.append(_entry_row(entry_id, data, actor, prepared, status=status))
            line_rows += _line_rows(entry_id, data.entry_date, prepared, posted=posts_now)
            if posts_now:
                posted_lines += [(data.entry_date, line) for line in prepared]
                numbering.append((entry_id, years[data.entry_date]))
        await connection.execute(_INSERT_ENTRY, entry_rows)
        await connection.execute(_INSERT_LINES, line_rows)
        await self._number_many(connection, actor, numbering)
        await _add_balance_rows(connection, _day_balance_rows(posted_lines))
        return [row["id"] for row in entry_rows]

    async def _number_many(
        self,
        connection: Connection,
        actor: Principal,
        numbering: list[tuple[uuid.UUID, uuid.UUID]],
    ) -> None:
        """Numbers for many entries, in batch order: each year's counter moves once."""
        per_year: dict[uuid.UUID, list[uuid.UUID]] = {}
        for entry_id, year_id in numbering:
            per_year.setdefault(year_id, []).append(entry_id)
        posted = {"poster": actor.user_id, "posted": utcnow(), "approver": None, "approved": None}
        updates = []
        for year_id in sorted(per_year, key=str):
            entry_ids = per_year[year_id]
            last, year_name = (
                await connection.execute(
                    _NEXT_NUMBERS, {"year_id": year_id, "count": len(entry_ids)}
                )
            ).one()
            first = last - len(entry_ids) + 1
            updates += [
                {
                    **posted,
                    "entry_id": entry_id,
                    "year_id": year_id,
                    "sequence": sequence,
                    "number": _entry_number(year_name, sequence),
                }
                for sequence, entry_id in enumerate(entry_ids, start=first)
            ]
        if updates:
            await connection.execute(_MARK_POSTED, updates)

    async def update_draft(
        self, actor: Principal, entry_id: uuid.UUID, data: EntryIn
    ) -> EntryPublic:
        """Replace a draft; whoever does becomes one of its makers."""
        async with self._writer.begin() as connection:
            entry = await self._locked(connection, entry_id)
            check_may_change(actor, entry)
            prepared = await self._prepare(connection, data)
            await connection.execute(lines.delete().where(lines.c.entry_id == entry_id))
            await self._insert_lines(connection, entry_id, data.entry_date, prepared)
            await connection.execute(
                update(entries)
                .where(entries.c.id == entry_id)
                .values(
                    entry_date=data.entry_date,
                    description=data.description,
                    reference=data.reference,
                    source=data.source,
                    total=_total(prepared),
                    updated_by=actor.user_id,
                    updated_at=utcnow(),
                )
            )
            await add_maker(connection, entry, actor)
            return await self._public(connection, entry_id)

    async def discard(self, actor: Principal, entry_id: uuid.UUID) -> None:
        async with self._writer.begin() as connection:
            check_may_change(actor, await self._locked(connection, entry_id), discarding=True)
            await connection.execute(entries.delete().where(entries.c.id == entry_id))

    async def post(
        self, actor: Principal, entry_id: uuid.UUID, claim: Claim | None = None
    ) -> EntryPublic:
        """Post a draft, or submit it for approval when it is above the threshold."""

        async def work() -> EntryPublic:
            async with self._writer.begin() as connection:
                await take(claim, connection)
                entry = await self._locked(connection, entry_id)
                if entry.status != EntryStatus.DRAFT:
                    raise EntryStateInvalid("Only a draft is posted.")
                await self._post_or_submit(connection, actor, entry)
                return await self._finish(connection, entry_id, claim)

        return await retrying_lock_conflicts(work)

    async def approve(
        self, actor: Principal, entry_id: uuid.UUID, claim: Claim | None = None
    ) -> EntryPublic:
        async def work() -> EntryPublic:
            async with self._writer.begin() as connection:
                await take(claim, connection)
                entry = await self._locked(connection, entry_id)
                await check_may_approve(connection, actor, entry)
                await self._post(connection, actor, entry, approved=True)
                return await self._finish(connection, entry_id, claim)

        return await retrying_lock_conflicts(work)

    async def reject(
        self, actor: Principal, entry_id: uuid.UUID, claim: Claim | None = None
    ) -> EntryPublic:
        """Send an entry awaiting approval back to draft, for its maker to mend or discard."""
        async with self._writer.begin() as connection:
            await take(claim, connection)
            entry = await self._locked(connection, entry_id)
            if entry.status != EntryStatus.PENDING_APPROVAL:
                raise EntryStateInvalid("Only an entry awaiting approval is sent back.")
            await connection.execute(
                update(entries).where(entries.c.id == entry_id).values(status=EntryStatus.DRAFT)
            )
            return await self._finish(connection, entry_id, claim)

    async def reverse(
        self,
        actor: Principal,
        entry_id: uuid.UUID,
        data: ReversalRequest,
        claim: Claim | None = None,
    ) -> EntryPublic:
        """A new entry with the sides swapped; the original, never changed, is marked reversed
        when it posts. It waits for approval when its original needed it (`needs_approval`)."""

        async def work() -> EntryPublic:
            async with self._writer.begin() as connection:
                await take(claim, connection)
                original = await self._locked(connection, entry_id)
                await check_reversible(connection, original)
                day = data.entry_date or await first_open_day_from(connection, original.entry_date)
                if day is None:
                    raise PeriodClosed("No open period on or after the original date.")
                if day < original.entry_date:
                    raise ReversalBeforeOriginal()
                reversal_id = await copy_reversed(
                    connection, actor, original, day, data.description
                )
                reversal = await self._locked(connection, reversal_id)
                await self._post_or_submit(connection, actor, reversal)
                return await self._finish(connection, reversal_id, claim)

        return await retrying_lock_conflicts(work)

    async def reverse_closing_entry(
        self,
        connection: Connection,
        actor: Principal,
        entry_id: uuid.UUID,
        *,
        description: str | None = None,
    ) -> uuid.UUID:
        """Reverse a year-end closing entry inside the caller's transaction (reopening its
        year): on its date and in its year whatever their state, with no approval, as it was
        posted. The reversal is a closing entry too, so neither is ever reversed directly."""
        original = await self._locked(connection, entry_id)
        if original.kind != EntryKind.CLOSING or original.status != EntryStatus.POSTED:
            raise EntryStateInvalid("Only a posted year-end closing entry is reversed here.")
        day = original.entry_date
        reversal_id = await copy_reversed(connection, actor, original, day, description)
        reversal = await self._locked(connection, reversal_id)
        await self._post(
            connection, actor, reversal, approved=False, closing_year_id=original.fiscal_year_id
        )
        return reversal_id

    # The steps

    async def _create(
        self,
        connection: Connection,
        actor: Principal,
        data: EntryIn,
        post: bool,
        claim: Claim | None,
    ) -> tuple[uuid.UUID, EntryPublic | None]:
        """The new entry's id, and when it posted at once, the entry itself, its answer kept
        with `claim`: everything about it is known here, so it is neither checked nor read back
        from the database."""
        prepared = await self._prepare(connection, data)
        entry_id = uuid.uuid4()
        posts_now = post and _total(prepared) <= self._threshold
        if posts_now:
            self._check_lines(prepared)
        row = _entry_row(entry_id, data, actor, prepared)
        await connection.execute(_INSERT_ENTRY, row)
        await self._insert_lines(connection, entry_id, data.entry_date, prepared, posted=posts_now)
        if not posts_now:
            if post:
                await self._post_or_submit(
                    connection, actor, await self._locked(connection, entry_id)
                )
            return entry_id, None
        now = utcnow()
        recording = None
        if claim is not None and connection.dialect.name == "postgresql":
            blank = f"number-{uuid.uuid4().hex}"  # unguessable: no description can hold it
            answer = as_json(self._posted_public(row, prepared, number=blank, posted_at=now))
            recording = claim.recording(answer, blank)
        number, _ = await self._book(
            connection,
            actor,
            entry_id,
            data.entry_date,
            prepared,
            approved=False,
            now=now,
            recording=recording,
        )
        entry = self._posted_public(row, prepared, number=number, posted_at=now)
        if recording is None:
            await remember(claim, connection, entry)
        return entry_id, entry

    def _posted_public(
        self, row: dict[str, Any], prepared: list[PreparedLine], *, number: str, posted_at: datetime
    ) -> EntryPublic:
        return EntryPublic(
            id=row["id"],
            number=number,
            entry_date=row["entry_date"],
            description=row["description"],
            reference=row["reference"],
            source=row["source"],
            status=EntryStatus.POSTED,
            total=to_decimal_string(row["total"], self._functional),
            currency=self._functional,
            lines=[
                LinePublic(
                    line_number=line_number,
                    account_code=line.code,
                    side=line.side,
                    amount=to_decimal_string(line.amount, line.currency),
                    currency=line.currency,
                    rate=plain(line.rate),
                    functional_amount=to_decimal_string(line.functional, self._functional),
                    memo=line.memo,
                )
                for line_number, line in enumerate(prepared, start=1)
            ],
            reversal_of=None,
            reversed_by=None,
            created_by=row["created_by"],
            created_at=row["created_at"],
            approved_by=None,
            approved_at=None,
            posted_by=row["created_by"],
            posted_at=posted_at,
        )

    async def _post_or_submit(
        self, connection: Connection, actor: Principal, entry: Record
    ) -> None:
        if await needs_approval(connection, entry, self._threshold):
            await self._check_rules(connection, entry)
            await add_maker(connection, entry, actor)
            await connection.execute(
                update(entries)
                .where(entries.c.id == entry.id)
                .values(status=EntryStatus.PENDING_APPROVAL)
            )
        else:
            await self._post(connection, actor, entry, approved=False)

    async def post_closing_entry(
        self, connection: Connection, actor: Principal, data: EntryIn, *, year_id: uuid.UUID
    ) -> uuid.UUID:
        """Post a year-end closing entry inside the caller's transaction, on the year's last day
        even if its periods are already closed; it needs no approval (a controller closes)."""
        prepared = await self._prepare(connection, data)
        entry_id = uuid.uuid4()
        row = _entry_row(entry_id, data, actor, prepared, kind=EntryKind.CLOSING)
        await connection.execute(_INSERT_ENTRY, row)
        await self._insert_lines(connection, entry_id, data.entry_date, prepared)
        entry = await self._locked(connection, entry_id)
        await self._post(connection, actor, entry, approved=False, closing_year_id=year_id)
        return entry_id

    async def _post(
        self,
        connection: Connection,
        actor: Principal,
        entry: Record,
        *,
        approved: bool,
        closing_year_id: uuid.UUID | None = None,
    ) -> None:
        await self._check_entry_lines(connection, entry)
        entry_lines = (
            await connection.execute(select(lines).where(lines.c.entry_id == entry.id))
        ).all()
        await connection.execute(
            update(lines).where(lines.c.entry_id == entry.id).values(posted=True)
        )
        await self._book(
            connection,
            actor,
            entry.id,
            entry.entry_date,
            entry_lines,
            approved=approved,
            year_id=closing_year_id,
        )
        if entry.reversal_of_id is not None:
            await connection.execute(
                update(entries)
                .where(entries.c.id == entry.reversal_of_id)
                .values(status=EntryStatus.REVERSED)
            )

    async def _book(
        self,
        connection: Connection,
        actor: Principal,
        entry_id: uuid.UUID,
        day: date,
        entry_lines: Sequence[Any],
        *,
        approved: bool,
        year_id: uuid.UUID | None = None,
        now: datetime | None = None,
        recording: dict[str, Any] | None = None,
    ) -> tuple[str, datetime]:
        """The last step of posting: the next number of the year whose open period holds `day`
        (or of `year_id`, for a closing entry), and the lines added to their day balances. Last,
        so that the year's counter row and the balance rows stay locked for the shortest time;
        the counter first, as a batch takes them. `recording` (PostgreSQL, see
        `Claim.recording`) keeps the request's answer in the same statement."""
        now = now or utcnow()
        balances = _day_balance_rows([(day, line) for line in entry_lines])
        marks = {
            "entry_id": entry_id,
            "day": day,
            "year_id": year_id,
            "poster": actor.user_id,
            "posted": now,
            "approver": actor.user_id if approved else None,
            "approved": now if approved else None,
        }
        if connection.dialect.name == "postgresql":
            columns = {
                "balance_accounts": [row["account_id"] for row in balances],
                "balance_debits": [row["debit"] for row in balances],
                "balance_credits": [row["credit"] for row in balances],
            }
            statement = _BOOK if recording is None else _BOOK_RECORDING
            number = await connection.scalar(statement, {**marks, **columns, **(recording or {})})
            if number is None:
                raise await posting_refusal(connection, day)
            return str(number), now
        marks["year_id"] = year_id or await _open_year_of(connection, day)
        sequence, year_name = (await connection.execute(_NEXT_NUMBERS, {**marks, "count": 1})).one()
        number = _entry_number(year_name, sequence)
        await connection.execute(_MARK_POSTED, {**marks, "sequence": sequence, "number": number})
        await _add_balance_rows(connection, balances)
        return number, now

    async def _check_rules(self, connection: Connection, entry: Record) -> None:
        """Every posting rule, each with its own error code."""
        await self._check_entry_lines(connection, entry)
        await _open_year_of(connection, entry.entry_date)

    async def _check_entry_lines(self, connection: Connection, entry: Record) -> None:
        rows = (
            await connection.execute(
                select(
                    lines.c.debit,
                    lines.c.credit,
                    lines.c.currency,
                    accounts.c.code,
                    accounts.c.is_active,
                    accounts.c.currency.label("account_currency"),
                    _IS_HEADER.label("is_header"),
                )
                .join(accounts, accounts.c.id == lines.c.account_id)
                .where(lines.c.entry_id == entry.id)
            )
        ).all()
        self._check_lines(rows)

    def _check_lines(self, rows: Sequence[Any]) -> None:
        """The posting rules on the lines, each with its own error code."""
        if len(rows) < 2:
            raise TooFewLines()
        debits, credits = sum(row.debit for row in rows), sum(row.credit for row in rows)
        if debits != credits:
            raise EntryUnbalanced(
                f"Debits {to_decimal_string(debits, self._functional)} and credits "
                f"{to_decimal_string(credits, self._functional)} {self._functional} differ."
            )
        for row in rows:
            if not row.is_active:
                raise AccountInactive(f"Account {row.code} is deactivated.")
            if row.is_header:
                raise AccountNotPostable(f"Account {row.code} is a header.")
            if row.account_currency and row.account_currency != row.currency:
                raise CurrencyNotAllowed(f"Account {row.code} takes {row.account_currency} only.")

    async def _accounts_named(self, connection: Connection, codes: set[str]) -> dict[str, Record]:
        named = _ACCOUNTS_NAMED[connection.dialect.name]
        rows = await connection.execute(named, {"codes": list(codes)})
        return {row.code: row for row in rows}

    async def _prepare(
        self, connection: Connection, data: EntryIn, *, known: dict[str, Record] | None = None
    ) -> list[PreparedLine]:
        found = (
            known
            if known is not None
            else await self._accounts_named(connection, {line.account_code for line in data.lines})
        )
        prepared = []
        for number, line in enumerate(data.lines, start=1):
            account = found.get(line.account_code)
            if account is None:
                raise UnknownAccount(f"Line {number}: no account {line.account_code}.")
            prepared.append(
                await self._prepare_line(connection, number, line, account, data.entry_date)
            )
        bounded(_total(prepared), self._functional)
        return prepared

    async def _prepare_line(
        self,
        connection: Connection,
        number: int,
        line: LineIn,
        account: Record,
        day: date,
    ) -> PreparedLine:
        currency = line.currency or self._functional
        amount = to_minor(line.amount, currency)
        if amount <= 0:
            raise InvalidLine(f"Line {number}: the amount must be positive.")
        if currency == self._functional:
            if line.rate is not None and line.rate != 1:
                raise InvalidLine(f"Line {number}: the functional currency has rate 1.")
            rate = Decimal(1)
        else:
            rate = line.rate or await _rate_on(connection, currency, day)
        functional = convert(amount, rate=rate, source=currency, target=self._functional)
        if functional <= 0:
            raise InvalidLine(f"Line {number}: the amount is worth nothing in {self._functional}.")
        return PreparedLine(
            account_id=account.id,
            side=line.side,
            amount=amount,
            currency=currency,
            rate=rate,
            functional=functional,
            memo=line.memo,
            code=account.code,
            is_active=account.is_active,
            is_header=account.is_header,
            account_currency=account.currency,
        )

    async def _insert_lines(
        self,
        connection: Connection,
        entry_id: uuid.UUID,
        day: date,
        prepared: list[PreparedLine],
        *,
        posted: bool = False,
    ) -> None:
        await connection.execute(_INSERT_LINES, _line_rows(entry_id, day, prepared, posted=posted))

    async def _locked(self, connection: Connection, entry_id: uuid.UUID) -> Record:
        row: Record | None = (
            await connection.execute(
                select(entries).where(entries.c.id == entry_id).with_for_update()
            )
        ).first()
        if row is None:
            raise EntryNotFound()
        return row

    async def _finish(
        self,
        connection: Connection,
        entry_id: uuid.UUID,
        claim: Claim | None,
    ) -> EntryPublic:
        entry = await self._public(connection, entry_id)
        await remember(claim, connection, entry)
        return entry

    async def _public(self, connection: Connection, entry_id: uuid.UUID) -> EntryPublic:
        found = await self._publics(connection, [entry_id])
        if not found:
            raise EntryNotFound()
        return found[0]

    async def _publics(
        self, connection: Connection, entry_ids: Sequence[uuid.UUID]
    ) -> list[EntryPublic]:
        """Entries with their lines, in the order asked, in three queries whatever the count."""
        found = {
            row.id: row
            for row in await connection.execute(select(entries).where(entries.c.id.in_(entry_ids)))
        }
        lines_of: dict[uuid.UUID, list[LinePublic]] = {entry_id: [] for entry_id in found}
        for row in await connection.execute(
            select(lines, accounts.c.code)
            .join(accounts, accounts.c.id == lines.c.account_id)
            .where(lines.c.entry_id.in_(entry_ids))
            .order_by(lines.c.entry_id, lines.c.line_number)
        ):
            lines_of[row.entry_id].append(self._line_public(row))
        reversals = await connection.execute(
            select(entries.c.reversal_of_id, entries.c.id).where(
                entries.c.reversal_of_id.in_(entry_ids)
            )
        )
        reversed_by = {row[0]: row[1] for row in reversals}
        return [
            EntryPublic(
                **{
                    key: value
                    for key, value in found[entry_id]._mapping.items()
                    if key in EntryPublic.model_fields and key != "total"
                },
                total=to_decimal_string(found[entry_id].total, self._functional),
                currency=self._functional,
                lines=lines_of[entry_id],
                reversal_of=found[entry_id].reversal_of_id,
                reversed_by=reversed_by.get(entry_id),
            )
            for entry_id in entry_ids
            if entry_id in found
        ]

    def _line_public(self, row: Record) -> LinePublic:
        side = Side.DEBIT if row.debit else Side.CREDIT
        functional = row.debit or row.credit
        return LinePublic(
            line_number=row.line_number,
            account_code=row.code,
            side=side,
            amount=to_decimal_string(row.amount, row.currency),
            currency=row.currency,
            rate=plain(Decimal(row.rate)),
            functional_amount=to_decimal_string(functional, self._functional),
            memo=row.memo,
        )


def _entry_row(
    entry_id: uuid.UUID,
    data: EntryIn,
    actor: Principal,
    prepared: list[PreparedLine],
    *,
    status: EntryStatus = EntryStatus.DRAFT,
    kind: EntryKind = EntryKind.JOURNAL,
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "entry_date": data.entry_date,
        "description": data.description,
        "reference": data.reference,
        "source": data.source,
        "status": status,
        "kind": kind,
        "total": _total(prepared),
        "created_by": actor.user_id,
        "created_at": utcnow(),
    }


def _line_rows(
    entry_id: uuid.UUID, day: date, prepared: list[PreparedLine], *, posted: bool
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "entry_id": entry_id,
            "line_number": number,
            "account_id": line.account_id,
            "entry_date": day,
            "posted": posted,
            "debit": line.debit,
            "credit": line.credit,
            "currency": line.currency,
            "amount": line.amount,
            "rate": line.rate,
            "memo": line.memo,
        }
        for number, line in enumerate(prepared, start=1)
    ]


def _total(prepared: list[PreparedLine]) -> int:
    return sum(line.functional for line in prepared if line.side is Side.DEBIT)


async def _rate_on(connection: Connection, currency: str, day: date) -> Decimal:
    rate = await connection.scalar(
        select(rates.c.rate)
        .where(rates.c.currency == currency, rates.c.effective_date <= day)
        .order_by(rates.c.effective_date.desc())
        .limit(1)
    )
    if rate is None:
        raise RateMissing(f"No {currency} rate on or before {day}.")
    return Decimal(rate)


def _day_balance_rows(dated_lines: Sequence[tuple[date, Any]]) -> list[dict[str, Any]]:
    """Lines summed per account and day, in (account, day) order, so that concurrent posts take
    the row locks in the same order and never deadlock."""
    totals: dict[tuple[str, date], list[Any]] = {}
    for day, line in dated_lines:
        row = totals.setdefault((str(line.account_id), day), [line.account_id, 0, 0])
        row[1] += line.debit
        row[2] += line.credit
    return [
        {"account_id": account_id, "day": day, "debit": debit, "credit": credit}
        for (_, day), (account_id, debit, credit) in sorted(totals.items())
    ]


async def _add_balance_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await connection.execute(_upsert_day_balance(connection.dialect.name), rows)


@cache
def _upsert_day_balance(dialect_name: str) -> Any:
    """One statement for every post, so it is compiled once and run for many rows."""
    return prebuilt(_adding_to_day_balances(insert_or_update(dialect_name, daily_balances)))


async def _open_year_of(connection: Connection, day: date) -> uuid.UUID:
    period = await open_period_of(connection, day)
    if period is None:
        raise await posting_refusal(connection, day)
    return period[0]
