from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from aibos.platform.fields import Flag, IsoDate, QueryFlag, omittable

Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.-]{0,19}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
LINE_DIGITS = 11  # before the decimal point
DecimalAmount = Annotated[
    str,
    StringConstraints(pattern=rf"^[0-9]{{1,{LINE_DIGITS}}}(\.[0-9]{{1,6}})?$"),
    Field(
        description="A positive decimal string, e.g. '1234.56': at most 11 digits before the "
        "point, and under 10^13 minor units in its currency and in the functional currency",
        examples=["1234.56"],
    ),
]
Rate = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=10)]
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
LedgerDate = Annotated[
    IsoDate, Field(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD, 1900-01-01 to 2999-12-31")
]
Page = Annotated[int, Field(ge=1, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class MfrsClass(StrEnum):
    CURRENT_ASSET = "current_asset"
    NON_CURRENT_ASSET = "non_current_asset"
    CURRENT_LIABILITY = "current_liability"
    NON_CURRENT_LIABILITY = "non_current_liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    OTHER_INCOME = "other_income"
    COST_OF_SALES = "cost_of_sales"
    OPERATING_EXPENSE = "operating_expense"
    FINANCE_COST = "finance_cost"
    TAX_EXPENSE = "tax_expense"


CLASSES_OF_TYPE = {
    AccountType.ASSET: {MfrsClass.CURRENT_ASSET, MfrsClass.NON_CURRENT_ASSET},
    AccountType.LIABILITY: {MfrsClass.CURRENT_LIABILITY, MfrsClass.NON_CURRENT_LIABILITY},
    AccountType.EQUITY: {MfrsClass.EQUITY},
    AccountType.INCOME: {MfrsClass.REVENUE, MfrsClass.OTHER_INCOME},
    AccountType.EXPENSE: {
        MfrsClass.COST_OF_SALES,
        MfrsClass.OPERATING_EXPENSE,
        MfrsClass.FINANCE_COST,
        MfrsClass.TAX_EXPENSE,
    },
}
DEBIT_NORMAL = {AccountType.ASSET, AccountType.EXPENSE}


def normal_balance(kind: AccountType, *, is_contra: bool) -> Side:
    """The side an account's balance normally sits on: its type's, the other one if contra."""
    debit = (kind in DEBIT_NORMAL) != is_contra
    return Side.DEBIT if debit else Side.CREDIT


CONTRA_DESCRIPTION = (
    "A contra account (accumulated depreciation, an allowance for impairment, sales returns): "
    "the opposite normal balance of its type, deducted within its MFRS class in the statements"
)


class AccountCreate(Strict):
    code: Code
    name: Name
    type: AccountType
    mfrs_class: MfrsClass
    parent_code: Code | None = None
    currency: Currency | None = None
    is_contra: bool = Field(default=False, description=CONTRA_DESCRIPTION)


class AccountUpdate(Strict):
    """Fields left out stay; `parent_code: null` makes it top-level, `currency: null` lifts the
    currency restriction."""

    code: Code | None = omittable()
    name: Name | None = omittable()
    mfrs_class: MfrsClass | None = omittable()
    parent_code: Code | None = None
    currency: Currency | None = None
    is_active: Flag | None = omittable()
    is_contra: Flag | None = omittable(CONTRA_DESCRIPTION)

    @field_validator("code", "name", "mfrs_class", "is_active", "is_contra")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class AccountPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    is_contra: bool = Field(description=CONTRA_DESCRIPTION)
    normal_balance: Side = Field(description="Its type's, or the other side for a contra account")
    mfrs_class: MfrsClass
    parent_code: str | None
    is_header: bool
    currency: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ChartLoaded(BaseModel):
    loaded: int = Field(description="Accounts added")


class AccountsPublic(BaseModel):
    data: list[AccountPublic]
    count: int


class AccountFilters(BaseModel):
    q: str | None = Field(default=None, max_length=200, description="Text in code or name")
    type: AccountType | None = None
    mfrs_class: MfrsClass | None = None
    is_active: QueryFlag | None = None
    page: Page = 1
    size: int = Field(default=100, ge=1, le=500)


class FiscalYearCreate(Strict):
    start_date: LedgerDate = Field(
        le=date(LAST_DAY.year, 1, 1),
        description="The first day: the 1st of any month; the year ends by 2999-12-31",
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None


class YearEndClose(Strict):
    retained_earnings_code: Code = Field(description="The equity account that takes the profit")


class YearReopen(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


class PeriodPublic(BaseModel):
    id: uuid.UUID
    number: int
    start_date: date
    end_date: date
    status: PeriodStatus
    status_reason: str


class FiscalYearPublic(BaseModel):
    id: uuid.UUID
    name: str
    start_date: date
    end_date: date
    status: str
    closing_entry_id: uuid.UUID | None
    periods: list[PeriodPublic]


class PeriodChange(Strict):
    status: PeriodStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class LineIn(Strict):
    account_code: Code
    side: Side
    amount: DecimalAmount
    currency: Currency | None = Field(default=None, description="Default: functional currency")
    rate: Rate | None = Field(default=None, description="Default: the rate table for the date")
    memo: Annotated[str, StringConstraints(max_length=300)] = ""


class EntryIn(Strict):
    entry_date: LedgerDate
    description: Name
    reference: Annotated[str, StringConstraints(max_length=100)] = ""
    source: Annotated[str, StringConstraints(max_length=50)] = ""
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class EntryCreate(EntryIn):
    post: Flag = Field(default=False, description="Post at once (or submit for approval)")


class LinePublic(BaseModel):
    line_number: int
    account_code: str
    side: Side
    amount: str
    currency: str
    rate: Decimal
    functional_amount: str
    memo: str


class EntryStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    POSTED = "posted"
    REVERSED = "reversed"


class EntryKind(StrEnum):
    JOURNAL = "journal"
    CLOSING = "closing"  # a year-end closing entry, or its reversal when the year reopens


class EntryPublic(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: uuid.UUID
    number: str | None
    entry_date: date
    description: str
    reference: str
    source: str
    status: EntryStatus
    kind: EntryKind = EntryKind.JOURNAL
    total: str
    currency: str
    lines: list[LinePublic]
    reversal_of: uuid.UUID | None
    reversed_by: uuid.UUID | None
    created_by: uuid.UUID
    created_at: datetime
    updated_by: uuid.UUID | None = Field(default=None, description="Who last changed the draft")
    updated_at: datetime | None = None
    approved_by: uuid.UUID | None
    approved_at: datetime | None
    posted_by: uuid.UUID | None
    posted_at: datetime | None


class EntriesPublic(BaseModel):
    data: list[EntryPublic]
    count: int


class EntryFilters(BaseModel):
    status: EntryStatus | None = None
    start: LedgerDate | None = Field(default=None, description="Entry date from")
    end: LedgerDate | None = Field(default=None, description="Entry date to")
    q: str | None = Field(
        default=None, max_length=200, description="Text in description or reference"
    )
    source: str | None = Field(default=None, max_length=50)
    page: Page = 1
    size: int = Field(default=50, ge=1, le=200)


class ReversalRequest(Strict):
    entry_date: LedgerDate | None = Field(
        default=None,
        description="Default: the original date if its period is open, else the first open period",
    )
    description: Annotated[str, StringConstraints(max_length=500)] | None = None


class ExchangeRateIn(Strict):
    currency: Currency
    effective_date: LedgerDate
    rate: Rate


class ExchangeRatePublic(BaseModel):
    currency: str
    effective_date: date
    rate: Decimal


class Balance(BaseModel):
    debit: str
    credit: str
    balance: str = Field(description="Positive on the account's normal side")


class AccountBalance(Balance):
    account_code: str
    as_of: date
    currency: str


class LedgerLine(BaseModel):
    entry_id: uuid.UUID
    entry_number: str
    entry_date: date
    description: str
    line_number: int
    debit: str
    credit: str
    running_balance: str
    memo: str


class AccountLedger(BaseModel):
    account_code: str
    currency: str
    opening_balance: str
    data: list[LedgerLine]
    next_cursor: str | None


class ClosingEntries(StrEnum):
    """Whether the year-end closing entries dated in a report's range count."""

    INCLUDE = "include"  # after closing: income and expenses of a closed year at zero
    EXCLUDE = "exclude"  # before closing: the year's income and expenses as they were


class TrialBalanceRow(BaseModel):
    """Each balance in the column of its side: a debit balance under debit, a credit one under
    credit, the other column 0.00."""

    account_code: str
    account_name: str
    type: AccountType
    normal_balance: Side
    opening_debit: str
    opening_credit: str
    debits: str = Field(description="Posted debits from the start")
    credits: str = Field(description="Posted credits from the start")
    closing_debit: str
    closing_credit: str


class TrialBalance(BaseModel):
    start_date: date | None
    end_date: date
    closing_entries: ClosingEntries = Field(
        description="include: after the year-end closing entries; exclude: before them"
    )
    currency: str
    rows: list[TrialBalanceRow]
    total_opening_debit: str
    total_opening_credit: str
    total_debits: str
    total_credits: str
    total_closing_debit: str
    total_closing_credit: str


class StatementLine(BaseModel):
    key: str
    label: str
    amount: str
    comparative: str


class Statement(BaseModel):
    title: str
    start_date: date | None = Field(description="First day covered; none for a position")
    end_date: date = Field(description="Last day covered, or the day of a position")
    currency: str
    period: str
    comparative_period: str
    lines: list[StatementLine]
