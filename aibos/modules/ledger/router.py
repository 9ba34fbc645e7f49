import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request, Response, status
from pydantic import BaseModel

from aibos.modules.ledger import api as permissions
from aibos.modules.ledger.container import LedgerContainer
from aibos.modules.ledger.csv_export import csv_answer, csv_response, csv_text
from aibos.modules.ledger.exceptions import InvalidAccount
from aibos.modules.ledger.schemas import (
    AccountBalance,
    AccountCreate,
    AccountFilters,
    AccountLedger,
    AccountPublic,
    AccountsPublic,
    AccountUpdate,
    ChartLoaded,
    ClosingEntries,
    EntriesPublic,
    EntryCreate,
    EntryFilters,
    EntryIn,
    EntryPublic,
    ExchangeRateIn,
    ExchangeRatePublic,
    FiscalYearCreate,
    FiscalYearPublic,
    LedgerDate,
    LedgerLine,
    PeriodChange,
    PeriodPublic,
    ReversalRequest,
    Statement,
    StatementLine,
    TrialBalance,
    TrialBalanceRow,
    YearEndClose,
    YearReopen,
)
from aibos.modules.ledger.service.chart_io import default_chart
from aibos.platform import idempotency
from aibos.platform.idempotency import MAX_KEY_LENGTH, Claim
from aibos.platform.routing import ModuleRouter, module_container
from aibos.platform.security import Principal, require

router = ModuleRouter("ledger")


async def _ledger(request: Request) -> LedgerContainer:
    return module_container(request, LedgerContainer)


Ledger = Annotated[LedgerContainer, Depends(_ledger)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[\x20-\x7e]+$",
        description="Repeat a request safely: same key, same answer. 1 to 255 printable ASCII "
        "characters; kept 24 hours per user",
    ),
]
CanRead = Depends(require(permissions.READ))
CanKeepAccounts = Annotated[Principal, Depends(require(permissions.KEEP_ACCOUNTS))]
CanManagePeriods = Annotated[Principal, Depends(require(permissions.MANAGE_PERIODS))]
CanKeepRates = Annotated[Principal, Depends(require(permissions.KEEP_RATES))]
CREATED = status.HTTP_201_CREATED
NO_CONTENT = status.HTTP_204_NO_CONTENT


@dataclass(frozen=True, slots=True)
class Once:
    """Runs a write once per Idempotency-Key, when the client sends one."""

    request: Request
    key: str | None

    async def run(
        self,
        principal: Principal,
        body: BaseModel | None,
        work: Callable[[Claim | None], Awaitable[BaseModel | list[Any]]],
    ) -> Response:
        """The answer as sent: FastAPI passes a Response through without serializing again."""
        status_code = self.request.scope["route"].status_code or status.HTTP_200_OK
        claim = None
        if self.key is not None:
            claim = idempotency.claim(
                owner=principal.user_id,
                key=self.key,
                operation=f"{self.request.method} {self.request.url.path}",
                body=body,
                status_code=status_code,
            )
        return await idempotency.answer_once(claim, work, status_code=status_code)


async def _once(request: Request, idempotency_key: IdempotencyKey = None) -> Once:
    return Once(request, idempotency_key)


OnceDep = Annotated[Once, Depends(_once)]


# Chart of accounts


@router.get("/accounts", dependencies=[CanRead])
async def list_accounts(
    ledger: Ledger, filters: Annotated[AccountFilters, Query()]
) -> AccountsPublic:
    """The chart of accounts, filtered and a page at a time."""
    return await ledger.accounts().find(filters)


CSV_ONLY = csv_answer(also_json=False)
_CSV_BODY = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.post("/accounts/default-chart", status_code=CREATED, response_model=ChartLoaded)
async def load_default_chart(ledger: Ledger, once: OnceDep, principal: CanKeepAccounts) -> Response:
    """Load the default chart for a Malaysian company, classified for MFRS (into an empty chart)."""
    return await once.run(
        principal, None, lambda claim: ledger.chart_files().load(default_chart(), claim)
    )


@router.post(
    "/accounts/import", status_code=CREATED, openapi_extra=_CSV_BODY, response_model=ChartLoaded
)
async def import_chart(
    request: Request, ledger: Ledger, once: OnceDep, principal: CanKeepAccounts
) -> Response:
    """Add accounts from CSV (code,name,type,mfrs_class,parent_code,currency): all or none."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidAccount("The CSV must be UTF-8.") from error
    return await once.run(
        principal, _Csv(text=text), lambda claim: ledger.chart_files().load(text, claim)
    )


class _Csv(BaseModel):
    text: str


@router.get("/accounts/export", dependencies=[CanRead], response_class=Response, responses=CSV_ONLY)
async def export_chart(ledger: Ledger) -> Response:
    """The whole chart as CSV, in the import's format."""
    return csv_text(await ledger.chart_files().export(), filename="chart-of-accounts")


@router.post("/accounts", status_code=CREATED, response_model=AccountPublic)
async def create_account(
    ledger: Ledger, data: AccountCreate, once: OnceDep, principal: CanKeepAccounts
) -> Response:
    """Open an account; its type fixes its normal balance."""
    return await once.run(principal, data, lambda claim: ledger.accounts().create(data, claim))


@router.get("/accounts/{account_id}", dependencies=[CanRead])
async def read_account(account_id: uuid.UUID, ledger: Ledger) -> AccountPublic:
    """One account."""
    return await ledger.accounts().get(account_id)


@router.patch("/accounts/{account_id}", dependencies=[Depends(require(permissions.KEEP_ACCOUNTS))])
async def update_account(
    account_id: uuid.UUID, ledger: Ledger, changes: AccountUpdate
) -> AccountPublic:
    """Rename, reclassify, move or deactivate an account; its code is fixed once used."""
    return await ledger.accounts().update(account_id, changes)


@router.delete(
    "/accounts/{account_id}",
    status_code=NO_CONTENT,
    dependencies=[Depends(require(permissions.KEEP_ACCOUNTS))],
)
async def delete_account(account_id: uuid.UUID, ledger: Ledger) -> Response:
    """Delete an account that was never used."""
    await ledger.accounts().delete(account_id)
    return Response(status_code=NO_CONTENT)


# Fiscal years and periods


@router.get("/fiscal-years", dependencies=[CanRead])
async def list_fiscal_years(ledger: Ledger) -> list[FiscalYearPublic]:
    """Every fiscal year with its periods."""
    return await ledger.periods().years()


@router.post("/fiscal-years", status_code=CREATED, response_model=FiscalYearPublic)
async def open_fiscal_year(
    ledger: Ledger, data: FiscalYearCreate, once: OnceDep, principal: CanManagePeriods
) -> Response:
    """Open a fiscal year of twelve monthly periods from any month."""
    return await once.run(
        principal,
        data,
        lambda claim: ledger.periods().open_year(
            start_date=data.start_date, name=data.name, claim=claim
        ),
    )


@router.get("/fiscal-years/{year_id}", dependencies=[CanRead])
async def read_fiscal_year(year_id: uuid.UUID, ledger: Ledger) -> FiscalYearPublic:
    """One fiscal year with its periods."""
    return await ledger.periods().year(year_id)


@router.post("/fiscal-years/{year_id}/close", response_model=FiscalYearPublic)
async def close_fiscal_year(
    year_id: uuid.UUID,
    ledger: Ledger,
    data: YearEndClose,
    once: OnceDep,
    principal: CanManagePeriods,
) -> Response:
    """Year-end close, from the year's last day on and once nothing dated in it is a draft or
    awaits approval: the closing entry takes income and expenses to retained earnings on the
    last day, the open periods close (closing is not locking), the next year opens."""
    return await once.run(
        principal,
        data,
        lambda claim: ledger.year_end().close(
            principal, year_id, retained_earnings_code=data.retained_earnings_code, claim=claim
        ),
    )


@router.post("/fiscal-years/{year_id}/reopen", response_model=FiscalYearPublic)
async def reopen_fiscal_year(
    year_id: uuid.UUID,
    ledger: Ledger,
    data: YearReopen,
    once: OnceDep,
    principal: Annotated[Principal, Depends(require(permissions.REOPEN_YEARS))],
) -> Response:
    """Reopen a closed year (administrators only, with a reason) while no later year is closed:
    its closing entry is reversed on the same day and the year is open again; its periods stay
    closed until reopened one by one."""
    return await once.run(
        principal,
        data,
        lambda claim: ledger.year_end().reopen(principal, year_id, reason=data.reason, claim=claim),
    )


@router.patch("/periods/{period_id}")
async def change_period(
    period_id: uuid.UUID,
    ledger: Ledger,
    data: PeriodChange,
    principal: Annotated[Principal, Depends(require(permissions.MANAGE_PERIODS))],
) -> PeriodPublic:
    """Close, reopen (with a reason) or lock (for good) a period."""
    return await ledger.periods().change_period(
        principal, period_id, status=data.status, reason=data.reason
    )


# Exchange rates


@router.get("/exchange-rates", dependencies=[CanRead])
async def list_rates(
    ledger: Ledger, currency: str | None = None, on: LedgerDate | None = None
) -> list[ExchangeRatePublic]:
    """Rates by currency and date; with `on`, the rate in force that day."""
    return await ledger.rates().find(currency=currency, on=on)


@router.post("/exchange-rates", status_code=CREATED, response_model=ExchangeRatePublic)
async def set_rate(
    ledger: Ledger, data: ExchangeRateIn, once: OnceDep, principal: CanKeepRates
) -> Response:
    """Set the rate of a currency from a date on."""
    return await once.run(principal, data, lambda claim: ledger.rates().set(data, claim))


# Journal entries


@router.post("/entries", status_code=CREATED, response_model=EntryPublic)
async def create_entry(
    once: OnceDep,
    ledger: Ledger,
    data: EntryCreate,
    principal: Annotated[Principal, Depends(require(permissions.DRAFT))],
) -> Response:
    """Draft an entry, or with `post: true` post it (or submit it, above the approval threshold)."""
    if data.post:
        await require(permissions.POST)(principal)
    return await once.run(
        principal,
        data,
        lambda claim: ledger.entries().create(principal, data, post=data.post, claim=claim),
    )


@router.get("/entries", dependencies=[CanRead])
async def list_entries(ledger: Ledger, filters: Annotated[EntryFilters, Query()]) -> EntriesPublic:
    """Journal entries by status, date, source or text, a page at a time."""
    return await ledger.entries().find(filters)


@router.post("/entries/batch", status_code=CREATED, response_model=list[EntryPublic])
async def post_batch(
    once: OnceDep,
    ledger: Ledger,
    batch: list[EntryIn],
    principal: Annotated[Principal, Depends(require(permissions.POST))],
) -> Response:
    """Post up to 1,000 entries in one call, all or nothing."""
    body = _Batch(entries=batch)
    return await once.run(
        principal,
        body,
        lambda claim: ledger.entries().create_batch(principal, batch, claim=claim),
    )


class _Batch(BaseModel):
    entries: list[EntryIn]


@router.get("/entries/{entry_id}", dependencies=[CanRead])
async def read_entry(entry_id: uuid.UUID, ledger: Ledger) -> EntryPublic:
    """One entry with its lines."""
    return await ledger.entries().get(entry_id)


@router.put("/entries/{entry_id}")
async def update_draft(
    entry_id: uuid.UUID,
    ledger: Ledger,
    data: EntryIn,
    principal: Annotated[Principal, Depends(require(permissions.DRAFT))],
) -> EntryPublic:
    """Replace a draft: its creator, or a controller (who then may not approve it)."""
    return await ledger.entries().update_draft(principal, entry_id, data)


@router.delete("/entries/{entry_id}", status_code=NO_CONTENT)
async def discard_draft(
    entry_id: uuid.UUID,
    ledger: Ledger,
    principal: Annotated[Principal, Depends(require(permissions.DRAFT))],
) -> Response:
    """Discard a draft: its creator, or a controller."""
    await ledger.entries().discard(principal, entry_id)
    return Response(status_code=NO_CONTENT)


@router.post("/entries/{entry_id}/post", response_model=EntryPublic)
async def post_entry(
    entry_id: uuid.UUID,
    once: OnceDep,
    ledger: Ledger,
    principal: Annotated[Principal, Depends(require(permissions.POST))],
) -> Response:
    """Post a draft; above the approval threshold it waits for a controller instead."""
    return await once.run(
        principal,
        None,
        lambda claim: ledger.entries().post(principal, entry_id, claim=claim),
    )


@router.post("/entries/{entry_id}/approve", response_model=EntryPublic)
async def approve_entry(
    entry_id: uuid.UUID,
    once: OnceDep,
    ledger: Ledger,
    principal: Annotated[Principal, Depends(require(permissions.APPROVE))],
) -> Response:
    """Approve and post an entry awaiting approval; not by anyone who created, changed or
    submitted it."""
    return await once.run(
        principal,
        None,
        lambda claim: ledger.entries().approve(principal, entry_id, claim=claim),
    )


@router.post("/entries/{entry_id}/reject", response_model=EntryPublic)
async def reject_entry(
    entry_id: uuid.UUID,
    once: OnceDep,
    ledger: Ledger,
    principal: Annotated[Principal, Depends(require(permissions.APPROVE))],
) -> Response:
    """Send an entry awaiting approval back to draft."""
    return await once.run(
        principal, None, lambda claim: ledger.entries().reject(principal, entry_id, claim=claim)
    )


@router.post("/entries/{entry_id}/reverse", status_code=CREATED, response_model=EntryPublic)
async def reverse_entry(
    entry_id: uuid.UUID,
    once: OnceDep,
    ledger: Ledger,
    principal: Annotated[Principal, Depends(require(permissions.POST))],
    data: ReversalRequest | None = None,
) -> Response:
    """Reverse a posted entry with a new linked entry, sides swapped; it waits for approval
    when its original did. A year-end closing entry is undone by reopening its year."""
    request_body = data or ReversalRequest()
    return await once.run(
        principal,
        request_body,
        lambda claim: ledger.entries().reverse(principal, entry_id, request_body, claim=claim),
    )


# Reports

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
OR_CSV = csv_answer(also_json=True)


@router.get(
    "/accounts/{account_id}/balance",
    dependencies=[CanRead],
    response_model=AccountBalance,
    responses=OR_CSV,
)
async def account_balance(
    account_id: uuid.UUID, ledger: Ledger, as_of: LedgerDate, format: Format = "json"
) -> AccountBalance | Response:
    """An account's posted balance at the end of a day."""
    balance = await ledger.reports().balance(account_id, as_of)
    if format == "csv":
        rows = [balance.model_dump(mode="json")]
        return csv_response(rows, columns=AccountBalance.model_fields, filename="balance")
    return balance


@router.get(
    "/accounts/{account_id}/ledger",
    dependencies=[CanRead],
    response_model=AccountLedger,
    responses=OR_CSV,
)
async def account_ledger(
    account_id: uuid.UUID,
    ledger: Ledger,
    start: LedgerDate | None = None,
    end: LedgerDate | None = None,
    cursor: str | None = None,
    size: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Format = "json",
) -> AccountLedger | Response:
    """Every posted line of an account with its running balance; follow `next_cursor`."""
    page = await ledger.reports().ledger(account_id, start=start, end=end, cursor=cursor, size=size)
    if format == "csv":
        rows = [line.model_dump(mode="json") for line in page.data]
        return csv_response(rows, columns=LedgerLine.model_fields, filename="account-ledger")
    return page


@router.get(
    "/reports/trial-balance", dependencies=[CanRead], response_model=TrialBalance, responses=OR_CSV
)
async def trial_balance(
    ledger: Ledger,
    end: Annotated[LedgerDate | None, Query(description="Last day (default: today)")] = None,
    start: Annotated[
        LedgerDate | None,
        Query(description="First day of the movements (default: since the first)"),
    ] = None,
    closing: Annotated[
        ClosingEntries,
        Query(
            description="include (default): after the year-end closing entries dated in the "
            "range, a closed year's income and expenses at zero; exclude: before them"
        ),
    ] = ClosingEntries.INCLUDE,
    format: Format = "json",
) -> TrialBalance | Response:
    """Opening, debits, credits and closing per account, up to `end` (default: today), with the
    movements from `start` (default: since the beginning).

    `closing=include` (the default) shows the books as they stand, after the year-end closing
    entries; `closing=exclude` shows them before those dated in the range."""
    report = await ledger.reports().trial_balance(start=start, end=end, closing=closing)
    if format == "csv":
        rows = [row.model_dump(mode="json") for row in report.rows]
        rows.append({"account_name": "Total", **_totals(report)})
        filename = _dated("trial-balance", report.start_date, report.end_date)
        return csv_response(rows, columns=TrialBalanceRow.model_fields, filename=filename)
    return report


@router.get(
    "/reports/profit-or-loss", dependencies=[CanRead], response_model=Statement, responses=OR_CSV
)
async def profit_or_loss(
    ledger: Ledger,
    start: Annotated[
        LedgerDate | None,
        Query(description="First day (default: start of the fiscal year of `end`)"),
    ] = None,
    end: Annotated[LedgerDate | None, Query(description="Last day (default: today)")] = None,
    format: Format = "json",
) -> Statement | Response:
    """Statement of profit or loss by MFRS class, beside the period just before.

    Without dates it covers the current fiscal year to date: from the first day of the fiscal
    year holding today to today (422 `NO_FISCAL_YEAR` when no fiscal year holds the day). A
    closed year's closing entry is never income or expense here."""
    statement = await ledger.reports().profit_or_loss(start=start, end=end)
    return _statement(statement, "profit-or-loss", format)


@router.get(
    "/reports/financial-position",
    dependencies=[CanRead],
    response_model=Statement,
    responses=OR_CSV,
)
async def financial_position(
    ledger: Ledger,
    as_of: Annotated[LedgerDate | None, Query(description="The day (default: today)")] = None,
    compare_to: Annotated[
        LedgerDate | None, Query(description="Comparative day (default: the previous year end)")
    ] = None,
    format: Format = "json",
) -> Statement | Response:
    """Statement of financial position by MFRS class as at `as_of` (default: today), compared
    with the previous year end."""
    statement = await ledger.reports().financial_position(as_of=as_of, compare_to=compare_to)
    return _statement(statement, "financial-position", format)


def _totals(report: TrialBalance) -> dict[str, str]:
    """The total of each column, for the CSV's last row."""
    totals = report.model_dump(
        include={f"total_{column}" for column in TrialBalanceRow.model_fields}
    )
    return {key.removeprefix("total_"): value for key, value in totals.items()}


def _statement(statement: Statement, name: str, format: str) -> Statement | Response:
    if format == "csv":
        rows = [line.model_dump(mode="json") for line in statement.lines]
        filename = _dated(name, statement.start_date, statement.end_date)
        return csv_response(rows, columns=StatementLine.model_fields, filename=filename)
    return statement


def _dated(name: str, start: date | None, end: date) -> str:
    """A download's name: the report and its dates, e.g. profit-or-loss_2026-01-01_2026-12-31."""
    return "_".join([name, *([start.isoformat()] if start else []), end.isoformat()])
