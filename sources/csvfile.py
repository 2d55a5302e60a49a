"""Reading CSV exports as text, with errors that name the file, row and column."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from sources.base import SourceError, read_file_bytes

# CSV rows are numbered as a spreadsheet shows them: the header is row 1.
FIRST_DATA_ROW = 2

_QUOTE, _COMMA, _LF, _CR = b'"'[0], b","[0], b"\n"[0], b"\r"[0]
# The first character `str.strip()` would keep, when it is ASCII: a non-ASCII byte starts a
# character that may be Unicode white space (NBSP, U+2028...), looked at on its own.
_NOT_ASCII_SPACE = re.compile(rb"[^\t\n\x0b\x0c\r\x1c-\x1f ]")
# UTF-8 is checked this many bytes at a time, so that no text as long as the file is made.
_DECODE_CHUNK = 1 << 20
# Records are counted this many bytes at a time: a chunk's separators, quotes and line ends
# each take a row of a frame, and memory stays well below the parser's own.
_CHUNK = 1 << 21
# Byte positions are Polars row indices (32 bits): a larger text takes the Python path.
_VECTORISED_LIMIT = 2**32 - 2
# Blank lines at the end of a file are looked for in this many last bytes.
_TAIL = 1 << 12


def read_text_csv(path: Path, required: Iterable[str] = (), *, case_insensitive: bool = False) -> pl.DataFrame:
    """Every column as text ('' for an empty cell); refuses a missing file, bad encoding,
    ragged rows and missing required columns."""
    data = read_file_bytes(path)
    body = data.removeprefix(codecs.BOM_UTF8)  # as the "utf-8-sig" codec does: one BOM, if any
    if not _is_utf8(body):
        try:
            data.decode("utf-8-sig")  # for the error's position
        except UnicodeDecodeError as error:
            row = data[: error.start].count(b"\n") + 1
            raise SourceError(path, "is not UTF-8 text (export it as UTF-8)", row=row) from error
    if _is_blank(body):
        raise SourceError(path, "is empty: expected a header row and data rows")
    frame = _parse_csv_bytes(body, path, header_row=1)
    present = {c.lower() if case_insensitive else c: c for c in frame.columns}
    missing = [c for c in required if (c.lower() if case_insensitive else c) not in present]
    if missing:
        raise SourceError(
            path,
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the header has "
            f"{', '.join(repr(c) for c in frame.columns)}",
            row=1,
        )
    return frame


def parse_csv_text(text: str, origin: Path | str, *, header_row: int = 1) -> pl.DataFrame:
    """A CSV text as text columns ('' for an empty cell), header names stripped of spaces.

    Stricter than the parser: a header naming one column twice is refused (which of the two
    holds the data would be a guess), and so is a row whose number of fields differs from the
    header's, naming the row (`header_row` is the header's row number): a short row would
    otherwise read as empty cells, and a truncated extract as a complete one. Blank lines at
    the end are ignored, a blank line between rows is refused. Line ends may be LF, CRLF, or
    CR alone (Excel for Mac's "CSV (Macintosh)").
    """
    return _parse_csv_bytes(text.encode("utf-8"), origin, header_row=header_row)


def _parse_csv_bytes(data: bytes, origin: Path | str, *, header_row: int) -> pl.DataFrame:
    """`parse_csv_text` of UTF-8 text without a BOM, read as bytes: no Python object per row."""
    if b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")
    frame = _parse_plain(data)
    if frame is not None:
        return frame
    header, widths = _record_shape(data, origin, header_row)
    names = [name.strip() for name in header]
    if not any(names):
        raise SourceError(origin, "has no header row: the first row is blank", row=header_row)
    for index, name in enumerate(names):
        if name and name in names[:index]:
            raise SourceError(origin, f"the header names column {name!r} twice", row=header_row, column=name)
    filled = (widths != 0).arg_true()
    records = max(int(filled[-1]) + 1, 1) if filled.len() else 1
    ragged = (widths.slice(1, records - 1) != len(header)).arg_true()
    if ragged.len():
        index = int(ragged[0]) + 1
        width = int(widths[index])
        found = (
            "the row is blank (a blank line between rows)"
            if width == 0
            else f"the row has {width} field(s), the header {len(header)} "
            "(a value lost, or a separator in an unquoted value?)"
        )
        raise SourceError(origin, f"is not a well-formed CSV file: {found}", row=header_row + index)
    try:
        frame = _read_csv(data)
    except pl.exceptions.PolarsError as error:
        raise SourceError(origin, f"is not a well-formed CSV file: {_first_line(error)}") from error
    # The parser reads each blank line at the end as a row of empty cells.
    return frame.head(records - 1).rename({c: c.strip() for c in frame.columns})


def _read_csv(data: bytes, quote_char: str | None = '"') -> pl.DataFrame:
    return pl.read_csv(
        data,
        quote_char=quote_char,
        infer_schema=False,
        empty_string_is_null=False,
        truncate_ragged_lines=False,
    )


def _parse_plain(data: bytes) -> pl.DataFrame | None:
    """`_parse_csv_bytes` of a file shaped as most exports are, without counting the fields of
    each record (which takes longer than parsing); None for a file of another shape or not
    well-formed, which `_parse_csv_bytes` then reads record by record and refuses precisely.

    The shape: a header of two or more columns, named once each and without quotes; quotes
    only as empty values (`""` between separators or line ends); a CR only in a CRLF. Then a
    record is a line and has as many fields as separators plus one. The parser refuses a line
    with more fields than the header (but the last, counted here), so when it reads the file
    and the separators number the header's count less one on every line, no line has fewer
    either (a blank line has none).
    """
    header_end = data.find(b"\n")
    if header_end < 0 or len(data) > _VECTORISED_LIMIT or b'"' in data[:header_end]:
        return None
    header = data[:header_end].decode("utf-8").removesuffix("\r").split(",")
    names = [name.strip() for name in header]
    if len(header) < 2 or not all(names) or len(set(names)) < len(names):
        return None  # refused, or a blank line may hide among the records: see `_parse_csv_bytes`
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    # The blank lines at the end: only line ends after the last record (looked for near the end).
    window = data[-_TAIL:]
    kept = len(window.rstrip(b"\r\n"))
    if kept == 0:
        return None
    trailing = window.count(b"\n", kept)
    records = data.count(b"\n") - trailing  # data records, each a line (the header's ends the first)
    separators = len(header) - 1
    if data.count(b",") != (records + 1) * separators:
        return None
    # The parser lets a last line with no line end hold empty fields more: counted here.
    last_end = len(data) - len(window) + kept
    if data.count(b",", data.rfind(b"\n", 0, last_end) + 1, last_end) != separators:
        return None
    quotes = data.count(b'"') if b'"' in data else 0
    try:
        # Quotes are read as text: a value that is not exactly `""` shows one out of place.
        frame = _read_csv(data, quote_char=None if quotes else '"')
    except pl.exceptions.PolarsError:
        return None
    # The parser reads a row of empty values for each line end after the last record but one.
    if frame.width != len(header) or frame.height != records + max(trailing - 1, 0):
        return None
    frame = frame.head(records)
    if quotes:
        # Every quote is in a value (the header has none): all are in `""` values, or one is not.
        empty = pl.all() == pl.lit('""')
        if quotes != 2 * frame.select(pl.sum_horizontal(empty.sum())).item():
            return None
        frame = frame.with_columns(pl.when(empty).then(pl.lit("")).otherwise(pl.all()).name.keep())
    return frame.rename({c: c.strip() for c in frame.columns})


def _is_utf8(data: bytes) -> bool:
    """Whether `data` decodes as UTF-8, checked a chunk at a time rather than as one text."""
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _DECODE_CHUNK):
            decoder.decode(view[start : start + _DECODE_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_blank(data: bytes) -> bool:
    """`not data.decode("utf-8").strip()` for UTF-8 `data`, decoding no more than its leading white space."""
    position = 0
    while (match := _NOT_ASCII_SPACE.search(data, position)) is not None:
        start = match.start()
        if data[start] < 0x80:
            return False
        char = data[start : start + 4].decode("utf-8", "ignore")[0]
        if not char.isspace():
            return False
        position = start + len(char.encode("utf-8"))
    return True


def _record_shape(data: bytes, origin: Path | str, header_row: int) -> tuple[list[str], pl.Series]:
    """The header's fields, and the number of fields of every record (0 for a blank line).

    Counted on the bytes, vectorised (exports run to millions of rows): a record ends at a
    line feed outside quotes and has one field more than it has separators outside quotes, a
    byte being inside quotes after an odd number of quotes. That is how the csv module reads
    a file whose quotes open and close whole values; a file quoted otherwise (a quote inside
    an unquoted value, text after a closing quote, an unclosed quote), or holding quotes and
    a CR that is not part of a CRLF, is read by the csv module itself, which gives the error.
    Without quotes a record is a line: a CR is not a line end there, only part of a CRLF.
    """
    quoted = b'"' in data
    shape = _record_widths(data, quoted) if len(data) <= _VECTORISED_LIMIT else None
    if shape is None:
        return _record_shape_of_text(data.decode("utf-8"), origin, header_row)
    header_end, widths = shape
    line = data[:header_end].decode("utf-8")
    if not quoted:
        return line.removesuffix("\r").split(","), widths
    # The csv module's default field size limit (128 KiB) would refuse a large but well-formed cell.
    csv.field_size_limit(max(csv.field_size_limit(), len(line) + 1))
    return next(csv.reader(io.StringIO(line, newline=""), strict=True), []), widths


def _record_widths(data: bytes, quoted: bool) -> tuple[int, pl.Series] | None:
    """Where the first record ends, and the number of fields of every record; None for a file
    whose quotes the bytes cannot tell (see `_record_shape`). Each chunk of bytes becomes a
    frame of its special bytes (separators, line ends, CRs, quotes) with their positions."""
    byte, at, inside, adjacent = pl.col("byte"), pl.col("at"), pl.col("inside"), pl.col("adjacent")
    before, inside_before, separators = pl.col("before"), pl.col("inside_before"), pl.col("separators")
    quote = byte == _QUOTE
    outside = ~inside if quoted else pl.lit(True)
    separator = (byte == _COMMA) & outside
    line_end = (byte == _LF) & outside
    special = [_COMMA, _LF, _CR, _QUOTE] if quoted else [_COMMA, _LF, _CR]
    # Each special byte comes after the special byte `before`, `adjacent` if right after it. A
    # quote or CR is checked against the byte after it when the next special byte comes.
    misquoted = (
        # An opening quote follows a separator, a line end or a quote (a "" in a value).
        (quote & inside & ~adjacent)
        # A closing quote comes before a separator, a line end or a quote.
        | ((before == _QUOTE) & ~inside_before & ~adjacent)
        # A CR is part of a CRLF.
        | ((before == _CR) & (~adjacent | (byte != _LF)))
    )
    size, quotes, separators_seen = len(data), 0, 0
    # The last special byte before the chunk: its position (-1: the start, as after a line end), the
    # byte (0: none), whether it is inside quotes.
    last_at, last_byte, last_inside = -1, 0, False
    last_end, last_separators = -1, 0  # the last line end before the chunk, and the separators up to it
    header_end = size
    widths: list[pl.Series] = []
    for chunk in range(0, size, _CHUNK):
        own = pl.Series([data[chunk : chunk + _CHUNK]], dtype=pl.Binary).cast(pl.List(pl.UInt8)).explode()
        plan = pl.DataFrame({"byte": own}).lazy().with_row_index("at", offset=chunk).filter(byte.is_in(special))
        # (Counts as `cum_count` of non-null values and UInt32 literals: a `cum_sum` of booleans,
        # or arithmetic in Int64, takes several times longer.)
        if quoted:
            # After an odd number of quotes a byte is inside a quoted value; such a quote opens one.
            plan = plan.with_columns(inside=(pl.when(quote).then(1).cum_count() + _u32(quotes)) % _u32(2) == 1)
        plan = plan.with_columns(
            adjacent=(at.shift(1) + _u32(1) == at).fill_null(at == _u32(last_at + 1)),
            before=byte.shift(1, fill_value=last_byte),
            separators=pl.when(separator).then(1).cum_count() + _u32(separators_seen),
        )
        if quoted:
            plan = plan.with_columns(inside_before=inside.shift(1, fill_value=last_inside))
        found = plan.with_columns(misquoted=misquoted if quoted else pl.lit(False)).collect()
        del own
        if found.is_empty():
            continue
        if found["misquoted"].any():
            return None
        last = found.row(-1, named=True)
        last_at, last_byte, last_inside = last["at"], last["byte"], last.get("inside", False)
        separators_seen = last["separators"]
        if quoted:
            quotes += int((found["byte"] == _QUOTE).sum())
        ends = found.filter(line_end).select("at", "separators", crlf=(before == _CR) & adjacent)
        del found
        if ends.is_empty():
            continue
        end = pl.col("at").cast(pl.Int64)
        length = end - end.shift(1, fill_value=last_end) - 1
        widths.append(
            ends.select(
                pl.when((length == 0) | ((length == 1) & pl.col("crlf")))
                .then(0)
                .otherwise(separators - separators.shift(1, fill_value=last_separators) + 1)
                .cast(pl.UInt32)
            ).to_series()
        )
        if last_end < 0:
            header_end = int(ends["at"][0])
        last_end, last_separators = int(ends["at"][-1]), int(ends["separators"][-1])
    if quoted and (
        quotes % 2  # a quote left open
        or last_byte == _CR  # a CR with no line feed after it
        or (last_byte == _QUOTE and not last_inside and last_at < size - 1)  # text after the last quote
    ):
        return None
    # The last record, after the last line feed (a file's last line may have none).
    rest = size - last_end - 1
    blank = rest == 0 or (rest == 1 and data[-1] == _CR)
    widths.append(pl.Series([0 if blank else separators_seen - last_separators + 1], dtype=pl.UInt32))
    return header_end, pl.concat(widths)


def _u32(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.UInt32)


def _record_shape_of_text(text: str, origin: Path | str, header_row: int) -> tuple[list[str], pl.Series]:
    """`_record_shape` with the csv module, for a text it cannot count on the bytes."""
    if '"' not in text:
        lines = pl.Series(text.split("\n"), dtype=pl.String())
        blank = lines.str.strip_suffix("\r") == ""
        counts = pl.select(pl.when(blank).then(0).otherwise(lines.str.count_matches(",", literal=True) + 1)).to_series()
        return lines[0].removesuffix("\r").split(","), counts
    # A quoted value may hold separators and line ends: let the csv module find the records.
    # Its default field size limit (128 KiB) would refuse a large but well-formed cell.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    widths: list[int] = []
    header: list[str] = []
    try:
        for record in reader:
            if not widths:
                header = record
            widths.append(len(record))
    except csv.Error as error:
        raise SourceError(origin, f"is not a well-formed CSV file: {error}", row=header_row + len(widths)) from error
    return header, pl.Series(widths, dtype=pl.Int64)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def first_bad_row(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """Spreadsheet row number of the first row where `bad` holds, or None."""
    hits = frame.with_row_index("_i").filter(bad).select("_i").head(1)
    return None if hits.is_empty() else int(hits.item()) + FIRST_DATA_ROW


def parse_bool_column(frame: pl.DataFrame, column: str, path: Path, *, default: bool) -> pl.Expr:
    """`true/false`, `t/f`, `yes/no`, `1/0` (any case); '' gives `default`; anything else is refused."""
    value = pl.col(column).str.strip_chars().str.to_lowercase()
    truthy, falsy = ["true", "t", "yes", "y", "1"], ["false", "f", "no", "n", "0"]
    row = first_bad_row(frame, ~(value.is_in(truthy + falsy) | (value == "")))
    if row is not None:
        bad = frame[row - FIRST_DATA_ROW, column]
        raise SourceError(path, f"{bad!r} is not true or false", row=row, column=column)
    return pl.when(value == "").then(default).otherwise(value.is_in(truthy))


def parse_date_column(frame: pl.DataFrame, column: str, path: Path) -> pl.Expr:
    """ISO dates (YYYY-MM-DD); '' is null; anything else is refused with its row."""
    value = pl.col(column).str.strip_chars()
    parsed = value.str.to_date("%Y-%m-%d", strict=False)
    row = first_bad_row(frame, (value != "") & parsed.is_null())
    if row is not None:
        bad = frame[row - FIRST_DATA_ROW, column]
        raise SourceError(path, f"{bad!r} is not a date (expected YYYY-MM-DD)", row=row, column=column)
    return pl.when(value == "").then(None).otherwise(parsed)
