"""CSV files people open in a spreadsheet: UTF-8 with a byte order mark (so Excel keeps accents
intact), streamed row by row, and no cell a spreadsheet would run as a formula.

Every CSV the product writes goes through csv_safe_cell: the sign-in sheet's and the reports'.
"""

import csv
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.text import slugify

BOM = "\ufeff"
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The prefix that neutralises such a cell: a spreadsheet shows the rest as text.
QUOTE = "'"
# Rows are sent in batches of this many: one small write per row would cost more than the rows.
ROWS_PER_CHUNK = 200


def csv_safe_cell(value) -> str:
    """`value` as the text of a cell no spreadsheet runs as a formula.

    A text starting with a formula character gets a single quote in front. So does a text that
    already starts with a quote: then every cell starting with a quote was prefixed, and
    csv_original gives back exactly what was written (a learner called "'Tis" stays "'Tis").
    """
    text = "" if value is None else str(value)
    if text.startswith((*FORMULA_STARTS, QUOTE)):
        return QUOTE + text
    return text


def csv_original(cell: str) -> str:
    """The text csv_safe_cell was given, from the cell it made."""
    return cell[len(QUOTE) :] if cell.startswith(QUOTE) else cell


class _Echo:
    """A file-like object whose write returns the line, so csv.writer formats without a buffer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The byte order mark and the header, then the rows, every cell through csv_safe_cell."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([csv_safe_cell(cell) for cell in header])
    batch = []
    for row in rows:
        batch.append(writer.writerow([csv_safe_cell(cell) for cell in row]))
        if len(batch) >= ROWS_PER_CHUNK:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_filename(*words) -> str:
    """A file name from `words` (the report's name, its date): ASCII, no spaces, ".csv"."""
    return (slugify(" ".join(str(word) for word in words)) or "export") + ".csv"


def csv_response(*, filename: str, header: Iterable, rows: Iterable[Iterable], streamed: bool = True):
    """A download of the rows. Streamed, a large report is never held in memory whole (`rows` may be
    a generator reading the database as it goes); a short one (a session's sheet) is sent at once."""
    lines = csv_lines(header, rows)
    content_type = "text/csv; charset=utf-8"
    if streamed:
        response = StreamingHttpResponse(lines, content_type=content_type)
    else:
        response = HttpResponse("".join(lines), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
