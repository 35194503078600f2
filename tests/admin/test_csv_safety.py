"""Formula neutralising and COPY-compatible CSV lines, without a database."""

from __future__ import annotations

import csv
import io

import pytest

from petitions.admin.csv_safety import csv_line, neutralise, sql_cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(start):
    assert neutralise(f"{start}HYPERLINK(\"http://evil.example\")") == (
        f"'{start}HYPERLINK(\"http://evil.example\")")


@pytest.mark.parametrize("value", ["Ada Lovelace", "a=b", "1+1", "x-y", "me@example.org",
                                   " =leading space", "'already quoted", "Zoë 李"])
def test_ordinary_cells_are_left_alone(value):
    assert neutralise(value) == value


def test_empty_and_missing_cells_are_empty():
    assert neutralise("") == ""
    assert neutralise(None) == ""


def test_lines_are_quoted_only_where_needed_and_end_in_a_line_feed():
    line = csv_line(["plain", "a,b", 'say "hi"', "two\nlines", "carriage\rreturn", "", "Zoë"])
    assert line == ('plain,"a,b","say ""hi""","two\nlines","carriage\rreturn",,Zoë\n')


def test_lines_read_back_with_the_csv_module():
    values = ["a,b", 'q"q', "l1\r\nl2", "'=1+1", "", "ü"]
    assert next(csv.reader(io.StringIO(csv_line(values), newline=""))) == values


def test_the_sql_expression_lists_every_formula_start():
    assert sql_cell("name") == (
        "CASE WHEN left(name, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || name"
        " ELSE NULLIF(name, '') END"
    )
