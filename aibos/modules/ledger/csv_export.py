"""CSV answers for reports: the same figures as the JSON, one row a line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import Response


def csv_response(rows: Iterable[Mapping[str, Any]], *, filename: str) -> Response:
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow(row)
    return csv_text(buffer.getvalue(), filename=filename)


def csv_text(text: str, *, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
