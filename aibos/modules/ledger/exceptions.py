from aibos.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class UnknownCurrency(InvalidInput):
    error_code = "UNKNOWN_CURRENCY"
    title = "Not an ISO 4217 currency"


class InvalidAmount(InvalidInput):
    error_code = "INVALID_AMOUNT"
    title = "The amount is not acceptable"


class AccountNotFound(NotFound):
    error_code = "ACCOUNT_NOT_FOUND"
    title = "No such account"


class AccountCodeTaken(Conflict):
    error_code = "ACCOUNT_CODE_TAKEN"
    title = "An account already has this code"


class AccountInUse(Conflict):
    error_code = "ACCOUNT_IN_USE"
    title = "The account has postings"


class InvalidAccount(InvalidInput):
    error_code = "INVALID_ACCOUNT"
    title = "The account is not consistent"


class FiscalYearNotFound(NotFound):
    error_code = "FISCAL_YEAR_NOT_FOUND"
    title = "No such fiscal year"


class FiscalYearOverlaps(Conflict):
    error_code = "FISCAL_YEAR_OVERLAPS"
    title = "The fiscal year overlaps another"


class PeriodNotFound(NotFound):
    error_code = "PERIOD_NOT_FOUND"
    title = "No such period"


class PeriodStateChange(Conflict):
    error_code = "PERIOD_STATE_INVALID"
    title = "The period cannot move to that state"


class EntryNotFound(NotFound):
    error_code = "ENTRY_NOT_FOUND"
    title = "No such journal entry"


class EntryNotEditable(Conflict):
    error_code = "ENTRY_NOT_EDITABLE"
    title = "Only a draft can be changed"


class EntryStateInvalid(Conflict):
    error_code = "ENTRY_STATE_INVALID"
    title = "The entry is not in a state that allows this"


class TooFewLines(InvalidInput):
    error_code = "ENTRY_TOO_FEW_LINES"
    title = "An entry needs at least two lines"


class InvalidLine(InvalidInput):
    error_code = "LINE_INVALID"
    title = "Each line is a positive debit or a positive credit, not both"


class EntryUnbalanced(InvalidInput):
    error_code = "ENTRY_UNBALANCED"
    title = "Debits and credits differ in the functional currency"


class AccountInactive(InvalidInput):
    error_code = "ACCOUNT_INACTIVE"
    title = "The account is deactivated"


class AccountNotPostable(InvalidInput):
    error_code = "ACCOUNT_NOT_POSTABLE"
    title = "The account is a header: it rolls up, it takes no postings"


class CurrencyNotAllowed(InvalidInput):
    error_code = "CURRENCY_NOT_ALLOWED"
    title = "The account takes postings in another currency only"


class RateMissing(InvalidInput):
    error_code = "EXCHANGE_RATE_MISSING"
    title = "No exchange rate for that currency and date"


class PeriodClosed(InvalidInput):
    error_code = "PERIOD_CLOSED"
    title = "The date is not in an open period"


class ApprovalRequired(PermissionDenied):
    error_code = "APPROVAL_REQUIRED"
    title = "The entry is above the approval threshold"


class SelfApproval(PermissionDenied):
    error_code = "SELF_APPROVAL"
    title = "An entry is approved by someone who neither created, changed nor submitted it"


class DraftNotYours(PermissionDenied):
    error_code = "DRAFT_NOT_YOURS"
    title = "A draft is changed or discarded by its creator, or by a controller"


class ClosingEntryNotReversible(Conflict):
    error_code = "CLOSING_ENTRY_NOT_REVERSIBLE"
    title = "A year-end closing entry is undone only by reopening its year"


class UnknownAccount(InvalidInput):
    error_code = "ACCOUNT_UNKNOWN"
    title = "A line names an account that does not exist"


class FiscalYearClosed(Conflict):
    error_code = "FISCAL_YEAR_CLOSED"
    title = "The fiscal year is already closed"


class ReversalBeforeOriginal(InvalidInput):
    error_code = "REVERSAL_BEFORE_ORIGINAL"
    title = "A reversal is dated on or after the entry it reverses"


class FiscalYearInvalid(InvalidInput):
    error_code = "FISCAL_YEAR_INVALID"
    title = "A fiscal year starts on the first day of a month"


class UserHasHistory(Conflict):
    error_code = "USER_HAS_HISTORY"
    title = "The user acted on the books and cannot be deleted"


class NoFiscalYear(InvalidInput):
    error_code = "NO_FISCAL_YEAR"
    title = "No fiscal year covers the date"


class FiscalYearNotEnded(Conflict):
    error_code = "FISCAL_YEAR_NOT_ENDED"
    title = "A fiscal year is closed on or after its last day"


class FiscalYearHasUnposted(Conflict):
    error_code = "FISCAL_YEAR_HAS_UNPOSTED"
    title = "Drafts or entries awaiting approval are dated in the fiscal year"


class FiscalYearNotClosed(Conflict):
    error_code = "FISCAL_YEAR_NOT_CLOSED"
    title = "Only a closed fiscal year is reopened"


class LaterYearClosed(Conflict):
    error_code = "LATER_YEAR_CLOSED"
    title = "A later fiscal year is closed: reopen it first"


class FiscalYearLocked(Conflict):
    error_code = "FISCAL_YEAR_LOCKED"
    title = "The period of the closing entry is locked"
