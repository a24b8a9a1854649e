"""The one rule that keeps a CSV cell from running as a spreadsheet formula, and the file around it."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seminars.csv_export import FORMULA_STARTS, csv_filename, csv_lines, csv_original, csv_response, csv_safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23 45 67 89", "'+33 1 23 45 67 89"),
        ("-5", "'-5"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("'Tis", "''Tis"),  # so that every quoted cell can be read back
        ("Zoé", "Zoé"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (-3, "'-3"),
    ],
)
def test_csv_safe_cell(value, cell):
    assert csv_safe_cell(value) == cell


@given(st.text())
def test_a_neutralised_cell_never_starts_with_a_formula_character_and_gives_back_the_text(text):
    cell = csv_safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert csv_original(cell) == text


@given(st.lists(st.lists(st.text(), min_size=1, max_size=4), max_size=5))
def test_rows_round_trip_through_the_csv_module(rows):
    body = "".join(csv_lines(["Name", "=Header"], rows))
    assert body.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline="")))
    assert read[0] == ["Name", "'=Header"]
    assert [[csv_original(cell) for cell in row] for row in read[1:]] == rows


def test_a_streamed_response_sends_utf8_with_a_byte_order_mark_in_batches():
    rows = ([f"Zoé {number}", "=1"] for number in range(450))
    response = csv_response(filename=csv_filename("report", "Fire wardens", "2030-06-01"), header=["A", "B"], rows=rows)
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then batches of at most 200 rows
    body = b"".join(chunks)
    assert body.startswith(b"\xef\xbb\xbf")
    assert "Zoé 449,'=1" in body.decode("utf-8")
    assert response["Content-Disposition"] == 'attachment; filename="report-fire-wardens-2030-06-01.csv"'


def test_a_short_file_is_sent_at_once():
    response = csv_response(filename="x.csv", header=["A"], rows=[["é"]], streamed=False)
    assert response.content == "\ufeffA\r\né\r\n".encode()


def test_a_name_without_letters_still_makes_a_file_name():
    assert csv_filename("???") == "export.csv"
