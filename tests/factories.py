"""Small hand-made estates for tests: build frames with only the columns a test cares about."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from schemas.tables import NUMBER_INVENTORY, STAGED_E164, STAGED_USAGES, STAGED_VENDOR_NUMBERS
from transforms.audit import AuditInputs, AuditParams

CUSTOMER = "sys.prov.Acme"
LONDON = f"{CUSTOMER}.London"
PARIS = f"{CUSTOMER}.Paris"
AS_OF = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 3, 0, 0)


def frame(columns: dict[str, pl.DataType], rows: list[dict[str, Any]], defaults: dict[str, Any]) -> pl.DataFrame:
    filled = [{**defaults, **row} for row in rows]
    return pl.DataFrame(filled, schema=columns) if filled else pl.DataFrame(schema=columns)


def entries(*rows: dict[str, Any]) -> pl.DataFrame:
    defaults: dict[str, Any] = {c: "" for c, t in NUMBER_INVENTORY.items() if t == pl.String()}
    defaults.update(status="Available", release_date=None, reserved_until=None, created_at=NOW, updated_at=NOW, last_audit_id="")
    return frame(NUMBER_INVENTORY, list(rows), defaults)


def usages(*rows: dict[str, Any]) -> pl.DataFrame:
    defaults: dict[str, Any] = {c: "" for c, t in STAGED_USAGES.items() if t == pl.String()}
    defaults.update(customer=CUSTOMER, source="cucm", online=True, device_type="device/cucm/Phone")
    built = [{**defaults, **{"source_row": i + 2, "number_raw": r.get("number", "")}, **r} for i, r in enumerate(rows)]
    return frame(STAGED_USAGES, built, {})


def vendor_numbers(*rows: dict[str, Any]) -> pl.DataFrame:
    defaults: dict[str, Any] = {c: "" for c, t in STAGED_VENDOR_NUMBERS.items() if t == pl.String()}
    defaults.update(customer=CUSTOMER, source="teams", vendor="Microsoft", number_type="Calling Plan", assigned=False, blocked_until=None, site=None)
    built = [{**defaults, "source_row": i + 2, "number_raw": r.get("number", ""), **r} for i, r in enumerate(rows)]
    return frame(STAGED_VENDOR_NUMBERS, built, {})


def e164_links(*rows: dict[str, Any]) -> pl.DataFrame:
    defaults = {"customer": CUSTOMER, "source": "e164", "source_row": 2, "is_primary": True}
    return frame(STAGED_E164, list(rows), defaults)


def params(**overrides: Any) -> AuditParams:
    values: dict[str, Any] = dict(
        audit_id="A1", customer=CUSTOMER, mode="customer", sites=(LONDON, PARIS), as_of=AS_OF, now=NOW
    )
    values.update(overrides)
    return AuditParams(**values)


def inputs(
    entry_rows: pl.DataFrame | None = None,
    usage_rows: pl.DataFrame | None = None,
    vendor_rows: pl.DataFrame | None = None,
    e164_rows: pl.DataFrame | None = None,
) -> AuditInputs:
    return AuditInputs(
        entries=(entry_rows if entry_rows is not None else entries()).lazy(),
        usages=(usage_rows if usage_rows is not None else usages()).lazy(),
        vendor_numbers=(vendor_rows if vendor_rows is not None else vendor_numbers()).lazy(),
        e164=(e164_rows if e164_rows is not None else e164_links()).lazy(),
    )


def merged(entry_rows: pl.DataFrame, written: pl.DataFrame) -> pl.DataFrame:
    """The inventory after an audit: `written` rows replace or add to `entry_rows` (never delete)."""
    kept = entry_rows.join(written.select("number", "hierarchy"), on=["number", "hierarchy"], how="anti")
    return pl.concat([kept, written.select(entry_rows.columns)], how="vertical").sort("number", "hierarchy")


def by_key(frame_: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of a frame keyed by (number, hierarchy); fails on a duplicated key."""
    rows = {(r["number"], r["hierarchy"]): r for r in frame_.to_dicts()}
    assert len(rows) == frame_.height, "duplicated (number, hierarchy)"
    return rows
