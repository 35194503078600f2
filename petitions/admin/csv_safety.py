"""CSV cells that spreadsheets will not run as formulas, written exactly as PostgreSQL's COPY
writes them.

A cell that starts with =, +, -, @, a tab or a carriage return can be read by Excel,
LibreOffice or Google Sheets as a formula (CSV injection, CWE-1236). Such a cell gets a
leading single quote, which spreadsheets show as text.

The signer list is written either by COPY ... WITH (FORMAT csv) on PostgreSQL or by
csv_line() here, and both must give the same bytes. So csv_line() follows COPY's rules
rather than the csv module's: a field is quoted when it holds a comma, a double quote, a
line feed or a carriage return (Python 3.11's csv module leaves a lone carriage return
unquoted when lines end in "\\n"); quotes are doubled; lines end in "\\n". An empty value is
an unquoted empty field, as COPY writes NULL; the SQL side turns empty text into NULL
(sql_cell) so that COPY never writes "" for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NEEDS_QUOTES = re.compile(r'[,"\n\r]')


def neutralise(value: str | None) -> str:
    """The text of a cell, with a leading quote if a spreadsheet would take it as a formula."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_field(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_line(values: Iterable[str]) -> str:
    """One CSV record; values are text already (neutralise() text cells first)."""
    return ",".join([csv_field(value) for value in values]) + "\n"


def sql_cell(column: str) -> str:
    """neutralise() as a PostgreSQL expression over a trusted column name, for COPY."""
    starts = ", ".join("E'\\t'" if c == "\t" else "E'\\r'" if c == "\r" else f"'{c}'"
                       for c in FORMULA_STARTS)
    return (f"CASE WHEN left({column}, 1) IN ({starts}) THEN '''' || {column}"
            f" ELSE NULLIF({column}, '') END")
