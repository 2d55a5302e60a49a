"""Shared helpers for sources that arrive as XML or JSON documents (AXL, CUPI, ...).

- Safe XML: `parse_xml` uses defusedxml and refuses any DOCTYPE or entity declaration, so
  an external entity is never resolved and an entity bomb never expands.
- SOAP: `soap_response` returns the operation's response element, or refuses a SOAP Fault
  quoting its faultstring.
- Records: `flatten_record` turns one record element into text fields; `land_records` makes
  a raw table of such records (XML or JSON) with lineage; `staged_usages` completes their
  usages with the site and E.164.
- Files: `source_files` lists a source's documents (one file, or a folder of pages).
JSON parsing, reading a file's bytes and joining pages are in sources.jsonfile.
Errors are SourceErrors that name the document (file path or URL).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeElementTree
import polars as pl

from schemas.tables import RAW_LINEAGE
from sources.base import (
    SourceConfig,
    SourceError,
    default_site,
    files_inside,
    resolve_site,
    usages_frame,
    with_lineage,
)

Origin = Path | str
Element = ElementTree.Element

# Deeper than any vendor document; a deeper one is hostile or broken, and refusing it
# early keeps the recursive flattening far from Python's recursion limit.
MAX_DEPTH = 64


# ----------------------------------------------------------------------------- files


def source_files(path: Path, *patterns: str) -> list[Path]:
    """`path` itself, or the files of folder `path` that match `patterns`, in sorted order
    (the pages of an extraction, or one response per device)."""
    if path.is_dir():
        files = sorted({p for pattern in patterns for p in path.glob(pattern) if p.is_file()})
        if not files:
            raise SourceError(path, f"the folder holds no {' or '.join(patterns)} files")
        return files_inside(path, files)
    if not path.exists():
        raise SourceError(path, "file not found")
    return [path]


# ----------------------------------------------------------------------------- XML


def parse_xml(data: bytes, origin: Origin) -> Element:
    """The document's root element; refuses DOCTYPEs, entities and malformed XML."""
    if not data.strip():
        raise SourceError(origin, "is empty: expected an XML document")
    try:
        root: Element = SafeElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as error:
        raise SourceError(
            origin,
            f"declares a DOCTYPE or entities ({type(error).__name__}); refused: "
            "vendor responses never need them and they can read local files",
        ) from error
    except ElementTree.ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        raise SourceError(origin, f"is not well-formed XML at line {line}, column {column + 1}: {reason}") from error
    _check_depth(root, origin)
    return root


def _check_depth(root: Element, origin: Origin) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SourceError(origin, f"nests elements more than {MAX_DEPTH} deep; refused")
        stack.extend((child, depth + 1) for child in element)


def local_name(tag: str) -> str:
    """`{http://www.cisco.com/AXL/API/11.5}getPhoneResponse` -> `getPhoneResponse`."""
    return tag.rsplit("}", 1)[-1]


def child(element: Element, name: str) -> Element | None:
    """The first child element with local name `name` (namespaces vary by release)."""
    return next((c for c in element if local_name(c.tag) == name), None)


def children(element: Element, name: str) -> list[Element]:
    return [c for c in element if local_name(c.tag) == name]


def text(element: Element | None) -> str:
    """Element text as written; '' for an absent or empty element (`<x/>` is NULL/unset),
    and for one holding only the indentation of a pretty-printed document."""
    if element is None or element.text is None or not element.text.strip():
        return ""
    return element.text


def soap_response(root: Element, origin: Origin) -> Element:
    """The operation's response element (`ns:getPhoneResponse` ...) of a SOAP envelope.

    A bare response element (no envelope) is accepted as it is. A SOAP Fault is refused
    with its faultstring (and AXL's error code when present)."""
    if local_name(root.tag) != "Envelope":
        return root
    body = child(root, "Body")
    if body is None:
        raise SourceError(origin, "is a SOAP envelope without a Body")
    response = next(iter(body), None)
    if response is None:
        raise SourceError(origin, "has an empty SOAP Body: expected an AXL response")
    if local_name(response.tag) == "Fault":
        fault = text(child(response, "faultstring")).strip() or "(no faultstring)"
        code = _axl_error_code(response)
        raise SourceError(
            origin,
            f"is a SOAP Fault, not data: {fault!r}" + (f" (axlcode {code})" if code else ""),
        )
    return response


def _axl_error_code(fault: Element) -> str:
    detail = child(fault, "detail")
    error = child(detail, "axlError") if detail is not None else None
    return text(child(error, "axlcode")).strip() if error is not None else ""


def flatten_record(record: Element, list_containers: frozenset[str] = frozenset()) -> dict[str, str]:
    """One record element as text fields, every value kept.

    Leaf children become `name`; attributes `name.attr` (the record's own attributes
    keep their bare name, e.g. `uuid`); a nested structure is flattened with dots
    (`vendorConfig.garp`, `dirn.routePartitionName.uuid`). A list container (one of
    `list_containers`, or any element whose children repeat a name) is kept as the XML
    text of its items, so a record's columns do not depend on how many items it has.
    A repeated leaf directly under the record gets `name[2]`, `name[3]` ...
    """
    fields: dict[str, str] = {local_name(k): v for k, v in record.attrib.items()}
    _flatten_into(fields, record, "", list_containers)
    return fields


def _flatten_into(fields: dict[str, str], element: Element, prefix: str, lists: frozenset[str]) -> None:
    for item in element:
        key = _unique(fields, prefix + local_name(item.tag))
        nested = len(item) > 0 and local_name(item.tag) not in lists and not _repeats(item)
        if not nested:
            fields[key] = (
                "".join(ElementTree.tostring(c, encoding="unicode").strip() for c in item) if len(item) else text(item)
            )
        for attribute, value in item.attrib.items():
            fields[_unique(fields, f"{key}.{local_name(attribute)}")] = value
        if nested:
            _flatten_into(fields, item, key + ".", lists)


def _repeats(element: Element) -> bool:
    names = [local_name(c.tag) for c in element]
    return len(names) != len(set(names))


def _unique(fields: Mapping[str, str], key: str) -> str:
    if key not in fields:
        return key
    n = 2
    while f"{key}[{n}]" in fields:
        n += 1
    return f"{key}[{n}]"


# ----------------------------------------------------------------------------- landing


def land_records(
    records: Sequence[Mapping[str, str | None]],
    record_numbers: Sequence[int],
    config: SourceConfig,
    extracted_at: datetime,
    origin: Origin,
) -> pl.DataFrame:
    """A raw table: one row per record, every field as text (null where a record lacks a
    field other records have), with lineage naming `origin` and each record's number."""
    columns = list(dict.fromkeys(key for record in records for key in record))
    # A vendor field named like a lineage column keeps its value under another name.
    names = {name: f"vendor.{name}" if name in RAW_LINEAGE else name for name in columns}
    table = pl.DataFrame(
        {names[name]: [record.get(name) for record in records] for name in columns},
        schema={names[name]: pl.String() for name in columns},
    )
    return with_lineage(table, config, extracted_at).with_columns(
        source_file=pl.lit(str(origin)),
        source_row=pl.Series(list(record_numbers), dtype=pl.Int64()),
    )


def e164_or_empty(mask: pl.Expr) -> pl.Expr:
    """A mask that is a complete `+` E.164 number (CUCM may escape the `+` as `\\+`), or ''.

    National numbers (`6024641171`) and masks with wildcard digits (`+1919555` followed by `X`s) are not E.164."""
    value = mask.str.strip_chars().str.replace(r"^\\\+", "+")
    return pl.when(value.str.contains(r"^\+[1-9][0-9]{1,14}$")).then(value).otherwise(pl.lit(""))


USAGE_INPUT: dict[str, pl.DataType] = {
    "source_row": pl.Int64(),
    "number_raw": pl.String(),
    "device_type": pl.String(),
    "device_name": pl.String(),
    "partition": pl.String(),
    "owner": pl.String(),
    "site_key": pl.String(),  # null: the record has no site field (lands at the default site)
    "e164_mask": pl.String(),
}


def usage_input(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows of USAGE_INPUT fields as a frame (typed even when there are no rows); a missing
    text field is '' except `site_key`, which stays null."""
    return pl.DataFrame(
        {name: [row.get(name, None if name == "site_key" else "") for row in rows] for name in USAGE_INPUT},
        schema=USAGE_INPUT,
    )


def staged_usages(rows: pl.DataFrame, config: SourceConfig) -> pl.DataFrame:
    """STAGED_USAGES from USAGE_INPUT rows. A row without a site key (null: its record has
    no site field, e.g. a hunt pilot) lands at the source's default site; a site key is
    resolved, and one that does not resolve (even '') leaves the site null: an unmapped
    device. `e164` is the mask when that is a full E.164."""
    site = (
        pl.when(pl.col("site_key").is_null())
        .then(pl.lit(default_site(config)))
        .otherwise(resolve_site(pl.col("site_key"), config))
    )
    return usages_frame(rows.with_columns(site=site, e164=e164_or_empty(pl.col("e164_mask"))), config)
