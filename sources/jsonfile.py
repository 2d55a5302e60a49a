"""Shared helpers of the Teams, Webex, AudioCodes, multi-vendor and E.164 readers.

- Safe JSON: a file or an HTTP body becomes a document, or a SourceError naming the file (or
  URL), line and column; hostile nesting and oversized integers are refused, not crashed on.
- Records as text: a list of JSON objects (or `Name : value` records) becomes a frame whose
  columns are the vendor's field names, every value text (nested objects flattened to dotted
  names such as `location.name`, lists kept as their JSON text).
- Columns by name whatever their case or spelling, and the first bad record of a check.
- Pages: the SourceFrames of several pages of one API listing, concatenated.
- Files and sites: a source's path, a file's bytes, the site a vendor key names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from sources.base import (
    SourceConfig,
    SourceError,
    SourceFrames,
    default_site,
    files_inside,
    read_file_bytes,
    resolve_site,
)


def keyed_site(key: pl.Expr, config: SourceConfig) -> pl.Expr:
    """The site a vendor key names: the source's default site when the record names none
    (empty key), else the resolved node, or null when it does not resolve (unmapped)."""
    return pl.when(key.fill_null("") == "").then(pl.lit(default_site(config))).otherwise(resolve_site(key, config))


def read_json_file(path: Path) -> Any:
    """The JSON document in `path`, refused with a SourceError when it cannot be read."""
    return parse_json(read_file_bytes(path), path)


def parse_json(body: str | bytes, origin: Path | str) -> Any:
    """Parse a JSON text (a file's bytes or an HTTP response body).

    Duplicate keys keep the last value, as Python's json does (and as most clients do).
    """
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = body[: error.start].count(b"\n") + 1
            raise SourceError(origin, f"line {line}: is not UTF-8 text (JSON must be UTF-8)") from error
    else:
        text = body
    if not text.strip():
        raise SourceError(origin, "is empty: expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            origin, f"is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise SourceError(origin, "is not a usable JSON document: it is nested too deeply") from error
    except ValueError as error:  # e.g. an integer longer than Python converts
        raise SourceError(origin, f"is not a usable JSON document: {error}") from error


def json_page_paths(path: Path) -> list[Path]:
    """The page files of a file source: the file itself, or a folder's `*.json` files in
    natural name order (`page2` before `page10`), for listings saved one page per file."""
    if not path.is_dir():
        return [path]
    pages = sorted(
        (p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".json"),
        # isdecimal, not isdigit: `²` is a digit that int() refuses, and `\d` never captures it.
        key=lambda p: [int(part) if part.isdecimal() else part.lower() for part in re.split(r"(\d+)", p.name)],
    )
    if not pages:
        raise SourceError(path, "is a folder without any .json page file")
    return files_inside(path, pages)


def object_list(document: Any, key: str, origin: Path | str, *, single_object_allowed: bool = False) -> list[Any]:
    """The list under `key` of a JSON object; refuses any other shape.

    `single_object_allowed`: some APIs (and published examples) put a lone record there as an
    object instead of a one-item list.
    """
    if not isinstance(document, dict):
        raise SourceError(origin, f"expected a JSON object with {key!r}, found {_json_kind(document)}")
    if key not in document:
        keys = ", ".join(repr(k) for k in list(document)[:10]) or "no keys"
        raise SourceError(origin, f"has no {key!r} list (its top-level keys: {keys})")
    items = document[key]
    if isinstance(items, dict) and single_object_allowed:
        return [items]
    if not isinstance(items, list):
        raise SourceError(origin, f"{key!r} must be a list, found {_json_kind(items)}")
    return items


def records_frame(records: Sequence[Any], origin: Path | str, *, what: str = "record") -> pl.DataFrame:
    """One text column per field, in the order fields first appear; a field a record lacks is null.

    JSON values become text as JSON writes them (`true`, `12`, lists as `["a","b"]`); nested
    objects are flattened (`owner.id`). Row i of the frame is record i (row i+1 in errors).
    """
    flat_records: list[dict[str, str | None]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise SourceError(origin, f"{what} is {_json_kind(record)}, not an object", row=index + 1)
        try:
            flat_records.append(_flatten(record))
        except RecursionError as error:
            raise SourceError(origin, f"{what} is nested too deeply", row=index + 1) from error
    names = dict.fromkeys(name for flat in flat_records for name in flat)
    columns = {name: [flat.get(name) for flat in flat_records] for name in names}
    try:
        return pl.DataFrame(columns, schema={name: pl.String() for name in columns})
    except UnicodeEncodeError as error:
        raise SourceError(
            origin,
            f"{what} holds text that is not valid Unicode (a lone surrogate \\u escape)",
            row=_first_unencodable(columns),
        ) from error


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, str | None]:
    flat: dict[str, str | None] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = json_text(value)
    return flat


def json_text(value: Any) -> str | None:
    """A JSON value as text: strings as they are, null as None, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _first_unencodable(columns: Mapping[str, list[str | None]]) -> int | None:
    for values in columns.values():
        for index, value in enumerate(values):
            if value is not None and not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return index + 1
    return None


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


def find_columns(
    columns: Sequence[str],
    wanted: Mapping[str, Sequence[str]],
    origin: Path | str,
    *,
    optional: Iterable[str] = (),
    row: int | None = 1,
    why: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """The actual column for each wanted field, given its accepted spellings (any case).

    Refuses a missing field that is not optional (adding `why[field]` to the message), and a
    field spelled by two columns (which one holds the data would be a guess). `row` is where
    the header is (1 for a CSV).
    """
    optional = set(optional)
    found: dict[str, str | None] = {}
    for field, spellings in wanted.items():
        lowered = {s.lower() for s in spellings}
        matches = [c for c in columns if c.strip().lower() in lowered]
        if len(matches) > 1:
            raise SourceError(
                origin,
                f"columns {', '.join(repr(c) for c in matches)} all mean {spellings[0]!r}: keep one",
                row=row,
                column=matches[1],
            )
        if not matches and field not in optional:
            accepted = f" (or {', '.join(repr(s) for s in spellings[1:])})" if len(spellings) > 1 else ""
            header = ", ".join(repr(c) for c in columns) or "nothing"
            reason = f": {why[field]}" if why and field in why else ""
            raise SourceError(
                origin,
                f"missing column {spellings[0]!r}{accepted}{reason}; found {header}",
                row=row,
                column=spellings[0],
            )
        found[field] = matches[0] if matches else None
    return found


def first_bad_record(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """0-based index of the first row where `bad` holds, or None."""
    hits = frame.with_row_index("_index").filter(bad.fill_null(False)).select("_index").head(1)
    return None if hits.is_empty() else int(hits.item())


def concat_pages(pages: Iterable[SourceFrames]) -> SourceFrames:
    """One SourceFrames from the pages of a listing (each parsed with its own `first_row`).

    Raw tables are concatenated by column name: a page may lack a field every record of it
    lacked (Webex leaves `owner` out of unassigned numbers).
    """
    pages = list(pages)
    if not pages:
        return SourceFrames()
    raw_names = list(dict.fromkeys(name for page in pages for name in page.raw))
    return SourceFrames(
        raw={name: pl.concat([p.raw[name] for p in pages if name in p.raw], how="diagonal") for name in raw_names},
        usages=pl.concat([p.usages for p in pages]),
        vendor_numbers=pl.concat([p.vendor_numbers for p in pages]),
        e164=pl.concat([p.e164 for p in pages]),
    )
