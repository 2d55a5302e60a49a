"""Cisco Unity Connection: CUPI `GET /vmrest/handlers/callhandlers` (kind `unity_cupi_callhandlers`).

The body is JSON (`{"@total":"N","Callhandler":[...]}`; a single handler is an object, not
a one-element list; no handler may mean no `Callhandler` key) or XML
(`<Callhandlers total="N"><Callhandler>...`); the first non-space character decides.
Every value is a string. Only system call handlers use a number: a user's primary call
handler (`IsPrimary` "true") and templates (`IsTemplate` "true") do not. The number is
`DtmfAccessId`, which CUPI omits when it is unset: such a handler is landed raw but uses
no number. A `path` is one body, or a folder of bodies (pages) in sorted order.

Raw table `raw_unity_callhandler`: one row per handler, every field as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sources.base import SourceConfig, SourceError, SourceFrames, read_file_bytes, require_path
from sources.jsonfile import concat_pages, parse_json
from sources.xmlfile import (
    Origin,
    children,
    flatten_record,
    land_records,
    local_name,
    parse_xml,
    source_files,
    staged_usages,
    usage_input,
)

CALL_HANDLER = "device/cuc/Callhandler"
ITEM = "Callhandler"
NUMBER = "DtmfAccessId"
NAME = "DisplayName"

_LEADING_SPACE = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 byte order mark counts as space here


def read_unity_callhandlers(config: SourceConfig) -> SourceFrames:
    extracted_at = datetime.now(UTC).replace(tzinfo=None)
    files = source_files(require_path(config), "*.json", "*.xml")
    return concat_pages(parse_callhandlers(read_file_bytes(f), f, config, extracted_at=extracted_at) for f in files)


def parse_callhandlers(
    data: bytes,
    origin: Origin,
    config: SourceConfig,
    *,
    extracted_at: datetime | None = None,
    first_record: int = 1,
) -> SourceFrames:
    """One CUPI call handler list body (a file, or one page of a live extraction)."""
    at = extracted_at or datetime.now(UTC).replace(tzinfo=None)
    start = data.lstrip(_LEADING_SPACE)[:1]
    if not start:
        raise SourceError(origin, "is empty: expected a CUPI call handler list (JSON or XML)")
    if start in (b"{", b"["):
        handlers, total = _json_handlers(data, origin, first_record)
    elif start == b"<":
        handlers, total = _xml_handlers(data, origin)
    else:
        raise SourceError(origin, "is neither a JSON nor an XML CUPI response")
    if total and not handlers:
        # A different CUPI list (users, distribution lists ...) has a total and no Callhandler.
        raise SourceError(origin, f"says there are {total} items but holds no {ITEM}: is it a call handler list?")
    numbers = list(range(first_record, first_record + len(handlers)))
    site_field = config.site_field
    if handlers and site_field and not any(site_field in handler for handler in handlers):
        raise SourceError(origin, "no call handler has this field (the source's site_field)", column=site_field)
    usages = [
        {
            "source_row": number,
            "number_raw": handler[NUMBER],
            "device_type": CALL_HANDLER,
            "device_name": handler.get(NAME, ""),
            "site_key": handler.get(site_field) if site_field else None,
        }
        for number, handler in zip(numbers, handlers, strict=True)
        if is_system_handler(handler) and handler.get(NUMBER, "").strip()
    ]
    return SourceFrames(
        raw={"raw_unity_callhandler": land_records(handlers, numbers, config, at, origin)},
        usages=staged_usages(usage_input(usages), config),
    )


def is_system_handler(handler: Mapping[str, str]) -> bool:
    """Not a user's primary call handler, not a template."""
    return not any(handler.get(flag, "").strip().lower() == "true" for flag in ("IsPrimary", "IsTemplate"))


def _json_handlers(data: bytes, origin: Origin, first_record: int) -> tuple[list[dict[str, str]], int]:
    document = parse_json(data, origin)
    if not isinstance(document, dict):
        raise SourceError(origin, f'is not a CUPI list: expected an object like {{"@total": ..., "{ITEM}": [...]}}')
    items = document.get(ITEM, [])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise SourceError(origin, f"{ITEM!r} is neither a list nor an object", column=ITEM)
    for number, item in enumerate(items, start=first_record):
        if not isinstance(item, dict):
            raise SourceError(origin, f"the {ITEM} is not an object", row=number, column=ITEM)
    handlers = [{key: _as_text(value) for key, value in item.items()} for item in items]
    return handlers, _total(_as_text(document.get("@total", "")), origin, "@total")


def _as_text(value: Any) -> str:
    """CUPI sends strings; anything else is kept as its JSON text."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _xml_handlers(data: bytes, origin: Origin) -> tuple[list[dict[str, str]], int]:
    root = parse_xml(data, origin)
    if local_name(root.tag) != "Callhandlers":
        raise SourceError(origin, f"is a <{local_name(root.tag)}> document, not <Callhandlers>")
    return [flatten_record(item) for item in children(root, ITEM)], _total(root.get("total", ""), origin, "total")


def _total(value: str, origin: Origin, column: str) -> int:
    if not value.strip():
        return 0
    # ASCII digits only: str.isdigit() also accepts `²`, which int() then refuses.
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise SourceError(origin, f"the total {value!r} is not a count", column=column)
    return int(value)


READERS = {"unity_cupi_callhandlers": read_unity_callhandlers}
