"""CSV answers for reports: the same figures as the JSON, one row a line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import Response


def csv_response(
    rows: Iterable[Mapping[str, Any]], *, columns: Iterable[str], filename: str
) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _inert(value) for key, value in row.items()})
    return csv_text(buffer.getvalue(), filename=filename)


def _inert(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    formula = isinstance(value, str) and value[:1] in ("=", "+", "@", "-", "\t", "\r")
    if formula and not value.lstrip("-").replace(".", "", 1).isdigit():
        return "'" + value
    return value


def csv_text(text: str, *, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def csv_answer(*, also_json: bool) -> dict[int | str, dict[str, Any]]:
    """The 200 answer's CSV content, for the OpenAPI document (beside the JSON, or alone)."""
    content: dict[str, Any] = {"text/csv": {"schema": {"type": "string"}}}
    if also_json:
        return {200: {"content": content, "description": "JSON, or CSV with `format=csv`"}}
    return {200: {"content": content, "description": "CSV"}}
