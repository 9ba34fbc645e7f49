"""Amounts as integers of minor units; decimal strings at the edge; exact currency exponents.

Conversion rule: a foreign amount times its rate is rounded half away from zero (ROUND_HALF_UP
on the magnitude) to the functional currency's minor unit. An entry balances when its debits
and credits are equal in the functional currency after that rounding, line by line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from aibos.modules.ledger.exceptions import InvalidAmount, UnknownCurrency

MAX_MINOR_UNITS = 10**17  # an entry's total: keeps every sum far inside a signed 64-bit integer
# A line, in its currency and in the functional currency: 922,337 such lines on one account and
# day still fit the day's 64-bit balance.
MAX_LINE_MINOR_UNITS = 10**13


@cache
def exponent(currency: str) -> int:
    """Digits after the decimal point: MYR 2, JPY 0, KWD 3 (from CLDR, through Babel)."""
    if currency not in list_currencies():
        raise UnknownCurrency(f"{currency} is not an ISO 4217 currency.")
    return int(get_currency_precision(currency))


def to_minor(amount: str, currency: str) -> int:
    """'1234.56' MYR -> 123456; more decimals than the currency has is refused, never rounded."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError) as error:
        raise InvalidAmount(f"{amount!r} is not a decimal amount.") from error
    if not value.is_finite():
        raise InvalidAmount(f"{amount!r} is not a finite amount.")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(
            f"{amount} has more decimals than {currency} allows ({exponent(currency)})."
        )
    if abs(scaled) >= MAX_LINE_MINOR_UNITS:
        raise InvalidAmount(f"{amount} {currency} is too large for one line.")
    return int(scaled)


def to_decimal_string(minor: int, currency: str) -> str:
    """123456 MYR -> '1234.56'."""
    places = exponent(currency)
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def convert(minor: int, *, rate: Decimal, source: str, target: str) -> int:
    """Minor units of `source` at `rate` (target per source unit), rounded half up."""
    value = Decimal(minor).scaleb(-exponent(source)) * rate
    scaled = value.scaleb(exponent(target))
    converted = int(
        scaled.copy_abs().quantize(Decimal(1), rounding=ROUND_HALF_UP).copy_sign(scaled)
    )
    return bounded(converted, target, limit=MAX_LINE_MINOR_UNITS)


def bounded(minor: int, currency: str, *, limit: int = MAX_MINOR_UNITS) -> int:
    """Refuse an amount too large to add up safely in a signed 64-bit integer."""
    if abs(minor) >= limit:
        raise InvalidAmount(f"{to_decimal_string(minor, currency)} {currency} is too large.")
    return minor


def plain(rate: Decimal) -> Decimal:
    """4.2125000000 -> 4.2125, and 100 stays 100 (not 1E+2)."""
    return Decimal(format(rate.normalize(), "f"))
