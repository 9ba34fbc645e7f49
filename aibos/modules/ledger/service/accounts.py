from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aibos.modules.ledger.exceptions import (
    AccountCodeTaken,
    AccountInUse,
    AccountNotFound,
    InvalidAccount,
)
from aibos.modules.ledger.models import Account
from aibos.modules.ledger.money import exponent
from aibos.modules.ledger.schemas import (
    CLASSES_OF_TYPE,
    AccountCreate,
    AccountFilters,
    AccountPublic,
    AccountsPublic,
    AccountType,
    AccountUpdate,
    MfrsClass,
    normal_balance,
)
from aibos.modules.ledger.tables import accounts, lines
from aibos.platform.db import Record, contains_text, for_reading, for_writing, utcnow
from aibos.platform.idempotency import Claim, remember, take

_parent = accounts.alias("parent")
_child = accounts.alias("child")
_IS_HEADER = exists().where(_child.c.parent_id == accounts.c.id)
_ACCOUNT_COLUMNS = (*accounts.c, _parent.c.code.label("parent_code"), _IS_HEADER.label("is_header"))


def _select_accounts() -> Any:
    return select(*_ACCOUNT_COLUMNS).outerjoin(_parent, _parent.c.id == accounts.c.parent_id)


def to_public(row: Record) -> AccountPublic:
    return AccountPublic(
        **{key: value for key, value in row._mapping.items() if key in AccountPublic.model_fields},
        normal_balance=normal_balance(AccountType(row.type), is_contra=row.is_contra),
    )


class AccountService:
    def __init__(self, *, engine: AsyncEngine) -> None:
        self._reader = for_reading(engine)
        self._writer = for_writing(engine)

    async def find(self, filters: AccountFilters) -> AccountsPublic:
        conditions = []
        if filters.q:
            conditions.append(
                or_(
                    contains_text(accounts.c.code, filters.q),
                    contains_text(accounts.c.name, filters.q),
                )
            )
        for column, value in (
            (accounts.c.type, filters.type),
            (accounts.c.mfrs_class, filters.mfrs_class),
            (accounts.c.is_active, filters.is_active),
        ):
            if value is not None:
                conditions.append(column == value)
        async with self._reader.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(accounts).where(*conditions)
            )
            rows = await connection.execute(
                _select_accounts()
                .where(*conditions)
                .order_by(accounts.c.code)
                .limit(filters.size)
                .offset((filters.page - 1) * filters.size)
            )
            return AccountsPublic(data=[to_public(row) for row in rows], count=int(count or 0))

    async def everything(self) -> list[AccountPublic]:
        """The whole chart in code order, for export."""
        async with self._reader.connect() as connection:
            rows = await connection.execute(_select_accounts().order_by(accounts.c.code))
            return [to_public(row) for row in rows]

    async def get(self, account_id: uuid.UUID) -> AccountPublic:
        async with self._reader.connect() as connection:
            return to_public(await _account_row(connection, accounts.c.id == account_id))

    async def create(self, data: AccountCreate, claim: Claim | None = None) -> AccountPublic:
        async with self._writer.begin() as connection:
            await take(claim, connection)
            account_id = await add_account(connection, data)
            account = to_public(await _account_row(connection, accounts.c.id == account_id))
            await remember(claim, connection, account)
            return account

    async def update(self, account_id: uuid.UUID, changes: AccountUpdate) -> AccountPublic:
        async with self._writer.begin() as connection:
            current = await _account_row(connection, accounts.c.id == account_id)
            values = changes.model_dump(exclude_unset=True, exclude={"parent_code"})
            if values.get("code", current.code) != current.code and await _has_lines(
                connection, account_id
            ):
                raise AccountInUse("The code of an account with entries cannot change.")
            _check_class(AccountType(current.type), values.get("mfrs_class", current.mfrs_class))
            if values.get("currency"):
                exponent(values["currency"])
            if "parent_code" in changes.model_fields_set:
                values["parent_id"] = await parent_for(
                    connection, changes.parent_code, AccountType(current.type), child_id=account_id
                )
            try:
                await connection.execute(
                    update(accounts)
                    .where(accounts.c.id == account_id)
                    .values(**values, updated_at=utcnow())
                )
            except IntegrityError as error:
                raise AccountCodeTaken() from error
            return to_public(await _account_row(connection, accounts.c.id == account_id))

    async def delete(self, account_id: uuid.UUID) -> None:
        async with self._writer.begin() as connection:
            row = await _account_row(connection, accounts.c.id == account_id)
            if row.is_header:
                raise AccountInUse("Move or delete its sub-accounts first.")
            if await _has_lines(connection, account_id):
                raise AccountInUse("An account with entries is never deleted; deactivate it.")
            await connection.execute(accounts.delete().where(accounts.c.id == account_id))


async def add_account(connection: AsyncConnection, data: AccountCreate) -> uuid.UUID:
    _check_class(data.type, data.mfrs_class)
    if data.currency:
        exponent(data.currency)
    parent_id = await parent_for(connection, data.parent_code, data.type, child_id=None)
    account = Account(**data.model_dump(exclude={"parent_code"}), parent_id=parent_id)
    try:
        async with connection.begin_nested():
            await connection.execute(insert(accounts).values(**account.model_dump()))
    except IntegrityError as error:
        raise AccountCodeTaken(f"Code {data.code} is taken.") from error
    return account.id


def _check_class(kind: AccountType, mfrs_class: MfrsClass | str) -> None:
    if MfrsClass(mfrs_class) not in CLASSES_OF_TYPE[kind]:
        allowed = ", ".join(sorted(CLASSES_OF_TYPE[kind]))
        raise InvalidAccount(f"An {kind} account is presented as one of: {allowed}.")


async def parent_for(
    connection: AsyncConnection, code: str | None, kind: AccountType, *, child_id: uuid.UUID | None
) -> uuid.UUID | None:
    if code is None:
        return None
    parent = await _account_row(connection, accounts.c.code == code)
    if parent.type != kind:
        raise InvalidAccount("A sub-account has its parent's type.")
    if await _has_lines(connection, parent.id):
        raise InvalidAccount(f"{code} has entries: a header takes no postings.")
    ancestor: uuid.UUID | None = parent.id
    while ancestor is not None:  # walk up: the account may not become its own ancestor
        if ancestor == child_id:
            raise InvalidAccount("An account cannot sit under itself.")
        ancestor = await connection.scalar(
            select(accounts.c.parent_id).where(accounts.c.id == ancestor)
        )
    parent_id: uuid.UUID = parent.id
    return parent_id


async def _account_row(connection: AsyncConnection, condition: Any) -> Record:
    row = (await connection.execute(_select_accounts().where(condition))).first()
    if row is None:
        raise AccountNotFound()
    return row


async def _has_lines(connection: AsyncConnection, account_id: uuid.UUID) -> bool:
    query = select(exists().where(lines.c.account_id == account_id))
    return bool(await connection.scalar(query))
