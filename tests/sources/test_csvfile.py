"""The CSV reader shared by the CSV sources: record shapes counted on the bytes, errors naming rows."""

from __future__ import annotations

from pathlib import Path

import pytest

import sources.csvfile as csvfile
from sources.base import SourceError
from sources.csvfile import parse_csv_text, read_text_csv

RAGGED = "is not a well-formed CSV file: the row has"
BLANK = "is not a well-formed CSV file: the row is blank"

# (text, the rows read, or (the start of the refusal after the origin, the row it names))
CASES: list[tuple[str, list[tuple[str, ...]] | tuple[str, int]]] = [
    ("a,b\n1,2\n", [("1", "2")]),
    ("a, b \r\n1,\r\n,2\r\n", [("1", ""), ("", "2")]),
    ("a,b\r1,2\r3,4\r", [("1", "2"), ("3", "4")]),
    ("a,b\n1,2", [("1", "2")]),
    ("a,b\n1,2\n\n\n", [("1", "2")]),
    ("a,b\r\n1,2\r\n\r\n\r\n", [("1", "2")]),
    ("a,b\r\n1,2\r\n\r", [("1", "2")]),
    ("a,b\n", []),
    # Quoted values: separators, line ends and doubled quotes inside, empty quoted values.
    ('a,b\n"x,y","l1\nl2"\n', [("x,y", "l1\nl2")]),
    ('a,b\r\n"x\r\ny",1\r\n"",""\r\n', [("x\r\ny", "1"), ("", "")]),
    ('a,b,c\n"",x,"say ""hi"""\n', [("", "x", 'say "hi"')]),
    ('"a,b",c\n1,2\n', [("1", "2")]),
    ('a,b\r"x\ry",1\r', [("x\ny", "1")]),
    ('a,b\n"",""\n\n', [("", "")]),
    # A short last row without a line end after it.
    ("a,b,c\n1,2,3\n4,5", (RAGGED + " 2 field(s), the header 3", 3)),
    ('a,b,c\n"1",2,3\n4,"5"', (RAGGED + " 2 field(s), the header 3", 3)),
    ("a,b\n1,2,3\n", (RAGGED + " 3 field(s), the header 2", 2)),
    # A record holding a line end is one row: the short row after it is row 3, not line 4.
    ('a,b\n"x\ny",1\n2\n', (RAGGED + " 1 field(s), the header 2", 3)),
    ('a,b\r\n"x\r\n\r\ny",1\r\n"2"\r\n', (RAGGED + " 1 field(s), the header 2", 3)),
    ('a,b\n"x,\n",1\n"y\n",1,\n', (RAGGED + " 3 field(s), the header 2", 3)),
    # Blank lines between rows, with and without quotes.
    ("a,b\n1,2\n\n3,4\n", (BLANK, 3)),
    ('a,b\r\n"1",2\r\n\r\n3,4\r\n', (BLANK, 3)),
    ('a,b\n"1",2\n\n', [("1", "2")]),
    # Quotes that do not open and close whole values: the csv module's errors and rows.
    ('a,b\n"x"y,2\n', ("is not a well-formed CSV file: ',' expected after '\"'", 2)),
    ('a,b\n1,2\n"3,4\n', ("is not a well-formed CSV file: unexpected end of data", 3)),
    ('a,b\n1,2\n3,"4', ("is not a well-formed CSV file: unexpected end of data", 3)),
    # The header.
    ("a,b,a\n1,2,3\n", ("the header names column 'a' twice", 1)),
    ('a,"b ",b\n1,2,3\n', ("the header names column 'b' twice", 1)),
    ("\na,b\n", ("has no header row: the first row is blank", 1)),
    ('\r\n"a",b\n', ("has no header row: the first row is blank", 1)),
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, csvfile._CHUNK])
@pytest.mark.parametrize(("text", "expected"), CASES)
def test_records_are_counted_the_same_across_chunks(
    monkeypatch: pytest.MonkeyPatch, chunk: int, text: str, expected: list[tuple[str, ...]] | tuple[str, int]
) -> None:
    # Small chunks put a chunk's edge at every byte: quotes, CRLFs and line ends split across.
    monkeypatch.setattr(csvfile, "_CHUNK", chunk)
    if isinstance(expected, list):
        assert parse_csv_text(text, "f.csv").rows() == expected
    else:
        message, row = expected
        with pytest.raises(SourceError) as caught:
            parse_csv_text(text, "f.csv")
        assert caught.value.reason.startswith(message), caught.value.reason
        assert caught.value.row == row


def test_header_names_are_stripped_and_quoted_names_kept() -> None:
    frame = parse_csv_text('" a ,b", c \n1,2\n', "f.csv")
    assert frame.columns == ["a ,b", "c"]


def test_rows_are_numbered_from_the_header_row() -> None:
    with pytest.raises(SourceError) as caught:
        parse_csv_text("a,b\n1,2\n3\n", "f.csv", header_row=2)
    assert caught.value.row == 4


def test_a_file_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b'\xef\xbb\xbfnumber,name\r\n1001,"Z\xc3\xbcrich, HQ"\r\n')
    assert read_text_csv(path, ["number"]).rows() == [("1001", "Zürich, HQ")]
    path.write_bytes("Ñame,b\n1,2\n".encode())
    assert read_text_csv(path).columns == ["Ñame", "b"]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\t\n", "\u00a0\n\u2028".encode(), b"\x1c\x0b\n"])
def test_a_blank_file_is_refused_as_empty(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(SourceError, match="is empty"):
        read_text_csv(path)


def test_bad_utf8_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 3 + b"4,\xff\n")
    with pytest.raises(SourceError, match="is not UTF-8 text") as caught:
        read_text_csv(path)
    assert caught.value.row == 5


# Files an export is shaped as (the fast path's), and near misses: the records' fields are then
# not counted one by one, so each must read, or be refused, exactly as when they are.
PLAIN_SHAPED = [
    'n,a,b\n1,"",x\n2,y,""\n',
    'n,a,b\r\n1,"",""\r\n"",2,z\r\n\r\n\r\n',
    "n,a\n1,2\n3,4",
    "n,a\n1,2\n\n",
    "n,a\n",
    "n,a\n\n\n",
    # A blank line, or a short row, made up for in separators by a longer row after it.
    "n,a\n1,2\n\n,,",
    "n,a\n1,2\n\n3,4,\n",
    "n,a\n1\n3,4,",
    "n,a\n1\n3,4,\n5,6\n",
    "n,a,b\n1,2\n3,4,5,\n",
    # Quotes other than empty values, and CRs outside CRLFs.
    'n,a\n1,""""\n',
    'n,a\n1,a""\n',
    'n,a\n1,"" \n',
    'n,a\n"1",2\n',
    'n,a\n1,2\n""\n',
    'n,a\n1,"",\n"",2\n',
    "n,a\n1,2\r3,4\n",
    "n,a\r\n1,2\r\n\r",
    # Headers it leaves to the record counting.
    "n\n1\n\n2\n",
    "n,n\n1,2\n",
    ",a\n1,2\n",
    '"n",a\n1,2\n',
]


def _outcome(text: str) -> object:
    try:
        frame = parse_csv_text(text, "f.csv", header_row=2)
    except SourceError as error:
        return ("refused", error.reason, error.row, error.column)
    return (frame.columns, frame.dtypes, frame.rows())


@pytest.mark.parametrize("text", PLAIN_SHAPED)
def test_plain_files_read_as_when_each_record_is_counted(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    fast = _outcome(text)
    monkeypatch.setattr(csvfile, "_parse_plain", lambda data: None)
    assert fast == _outcome(text)


def test_an_export_is_read_without_counting_its_records() -> None:
    assert csvfile._parse_plain(b'n,a,b\r\n1,"",x\r\n2,y,""\r\n\r\n') is not None
    assert csvfile._parse_plain(b"n,a\n1,2\n\n,,") is None
