"""Strict field types shared by every module's schemas.

Pydantic's lax mode reads `0` as 1970-01-01 and `0`, `"no"` or `"off"` as false. A date here is
only an ISO `YYYY-MM-DD` string; a flag in a body only JSON `true`/`false`, in a query only
`true`/`false`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "Input should be a date as YYYY-MM-DD")


def _query_flag(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("bool_type", "Input should be true or false")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Flag = StrictBool
QueryFlag = Annotated[bool, BeforeValidator(_query_flag)]


def _drop_null(schema: dict[str, Any]) -> None:
    choices = schema.pop("anyOf", [])
    schema.update(next((choice for choice in choices if choice.get("type") != "null"), {}))


def omittable(description: str | None = None) -> Any:
    """A field that may be left out but not set to null: the document shows it not nullable."""
    return Field(default=None, description=description, json_schema_extra=_drop_null)
