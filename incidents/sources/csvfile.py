"""CSV exports with the documented column set (:mod:`incidents.sources.columns`).

The delimiter is detected from the header (``,``, ``;``, tab or ``|``). With ``;`` —
what French spreadsheets write — decimal commas in coordinates are understood.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from incidents.inputs import InputError

from .columns import REQUIRED, missing_columns, row_item
from .parsing import ParsedItem

FORMAT = "csv"
DELIMITERS = ",;\t|"


def read(lines: Iterator[str], *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per data row; raise :class:`InputError` when the header lacks a required column."""
    lines = iter(lines)
    header_lines = 0
    for header in lines:
        header_lines += 1
        if header.strip():
            break
    else:
        return
    try:
        delimiter = csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    try:
        fieldnames = next(csv.reader([header], delimiter=delimiter))
    except csv.Error as error:
        raise InputError(f"the CSV header cannot be read ({error}); check the first line of the file") from None
    missing = missing_columns(fieldnames)
    if missing:
        raise InputError(
            f"the CSV header lacks the column(s) {', '.join(missing)}; it has: {', '.join(fieldnames) or '(nothing)'}. "
            f"Every row needs at least {', '.join(REQUIRED)} (see docs/ingest.md for the column set)."
        )
    reader = csv.DictReader(lines, fieldnames=fieldnames, delimiter=delimiter)
    consumed = 0  # physical lines the reader has consumed (a quoted field may span several)
    while True:
        position = f"line {header_lines + consumed + 1}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # A field longer than csv.field_size_limit() (128 KiB): that row only; the reader goes on after it.
            consumed = reader.line_num
            yield ParsedItem.rejected(position, f"unreadable CSV row: {error}")
            continue
        consumed = reader.line_num
        if not any((value or "").strip() for key, value in row.items() if key is not None):
            continue
        yield row_item(row, position=position, source=source, decimal_comma=delimiter == ";")
