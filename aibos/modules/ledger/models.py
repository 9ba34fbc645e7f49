import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from aibos.platform.db import UtcDateTime, utcnow


class Account(SQLModel, table=True):
    __tablename__ = "ledger_account"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200)
    type: str = Field(max_length=20)  # asset, liability, equity, income, expense
    mfrs_class: str = Field(max_length=40)
    parent_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("ledger_account.id"), nullable=True, index=True)
    )
    currency: str | None = Field(default=None, max_length=3)  # postings only in this currency
    is_contra: bool = Field(default=False)  # normal balance opposite to its type's
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class FiscalYear(SQLModel, table=True):
    __tablename__ = "ledger_fiscal_year"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=20, unique=True)
    start_date: date = Field(unique=True)
    end_date: date
    status: str = Field(default="open", max_length=10)  # open, closed
    closing_entry_id: uuid.UUID | None = Field(default=None)
    last_entry_number: int = Field(default=0, sa_type=BigInteger)


class Period(SQLModel, table=True):
    __tablename__ = "ledger_period"
    __table_args__ = (UniqueConstraint("fiscal_year_id", "number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fiscal_year_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("ledger_fiscal_year.id"), nullable=False, index=True)
    )
    number: int
    start_date: date = Field(index=True)
    end_date: date
    status: str = Field(default="open", max_length=10)  # open, closed, locked
    status_reason: str = Field(default="", max_length=500)
    status_changed_by: uuid.UUID | None = Field(default=None)
    status_changed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ExchangeRate(SQLModel, table=True):
    """Units of the functional currency for one unit of `currency`, from `effective_date` on."""

    __tablename__ = "ledger_exchange_rate"

    currency: str = Field(primary_key=True, max_length=3)
    effective_date: date = Field(primary_key=True)
    rate: str = Field(sa_column=Column(Numeric(24, 10), nullable=False))


class Entry(SQLModel, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("fiscal_year_id", "sequence"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str | None = Field(default=None, max_length=32, unique=True)
    fiscal_year_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("ledger_fiscal_year.id"), nullable=True)
    )
    sequence: int | None = Field(default=None, sa_type=BigInteger)
    entry_date: date = Field(index=True)
    description: str = Field(max_length=500)
    reference: str = Field(default="", max_length=100)
    source: str = Field(default="", max_length=50)
    status: str = Field(max_length=20, index=True)  # draft, pending_approval, posted, reversed
    # journal; closing: a year-end closing entry, or the reversal of one when its year reopens
    kind: str = Field(max_length=20, sa_column_kwargs={"server_default": "journal"})
    total: int = Field(sa_type=BigInteger)  # debits (= credits) in functional minor units
    reversal_of_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("ledger_entry.id"), nullable=True, unique=True)
    )
    created_by: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_by: uuid.UUID | None = Field(default=None)  # the last change of the draft
    updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    approved_by: uuid.UUID | None = Field(default=None)
    approved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    posted_by: uuid.UUID | None = Field(default=None)
    posted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class EntryMaker(SQLModel, table=True):
    """Someone who changed or submitted an entry: like its creator, they may not approve it."""

    __tablename__ = "ledger_entry_maker"

    entry_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("ledger_entry.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    user_id: uuid.UUID = Field(primary_key=True)


class Line(SQLModel, table=True):
    __tablename__ = "ledger_line"
    __table_args__ = (
        Index("ix_ledger_line_account_posted_date", "account_id", "posted", "entry_date"),
        CheckConstraint(
            "(debit > 0 AND credit = 0) OR (credit > 0 AND debit = 0)", name="one_sided"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    entry_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("ledger_entry.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    line_number: int
    account_id: uuid.UUID = Field(sa_column=Column(ForeignKey("ledger_account.id"), nullable=False))
    entry_date: date  # the entry's, kept here so an account's ledger reads one index
    posted: bool = Field(default=False)
    debit: int = Field(default=0, sa_type=BigInteger)  # functional minor units
    credit: int = Field(default=0, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_type=BigInteger)  # in `currency`, minor units, positive
    rate: str = Field(sa_column=Column(Numeric(24, 10), nullable=False))
    memo: str = Field(default="", max_length=300)


class DailyBalance(SQLModel, table=True):
    """Posted debits and credits per account and day: reports add days, never lines."""

    __tablename__ = "ledger_daily_balance"

    account_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("ledger_account.id"), primary_key=True, nullable=False)
    )
    day: date = Field(primary_key=True)
    debit: int = Field(default=0, sa_type=BigInteger)
    credit: int = Field(default=0, sa_type=BigInteger)
