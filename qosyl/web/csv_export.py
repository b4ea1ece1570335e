"""Tables as CSV downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: object) -> object:
    """Text that a spreadsheet would take for a formula, made plain text; numbers as they are."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[object]]) -> Response:
    """A download: the header row, then one line per row."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([neutral(cell) for cell in header])
    writer.writerows([neutral(cell) for cell in row] for row in rows)
    return Response(
        text.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
