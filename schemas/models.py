"""pandera models: the SPEC 2 invariants, checked where data enters (load) and leaves (write).

DuckLake has no keys or CHECK constraints, so these models are what keeps the inventory
true: nothing is committed unless its frame passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.tables import NODE_KINDS, STATUSES
from transforms.usage_types import DEVICE_TYPES, UTILITY_USAGES

NUMBER_PATTERN = r"^\+?[0-9]+$"
_USAGE_TYPES = r"(Device|User|" + "|".join(sorted(UTILITY_USAGES)) + ")"
_HAS_UTILITY = r"(^|,)(" + "|".join(sorted(UTILITY_USAGES)) + r")(,|$)"


def _ancestor_holds_same_number(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Per row: does another entry of the same number sit above it on its path?"""
    indexed = frame.select("number", "hierarchy").with_row_index("_row")
    clashes = (
        indexed.join(indexed.select("number", pl.col("hierarchy").alias("_other")), on="number")
        .filter(pl.col("hierarchy").str.starts_with(pl.col("_other") + "."))
        .select("_row")
        .unique()
        .with_columns(_clash=pl.lit(True))
    )
    return indexed.join(clashes, on="_row", how="left").sort("_row").select(
        pl.col("_clash").fill_null(False).not_().alias("one_entry_per_path")
    )


class InventoryModel(pa.DataFrameModel):
    """number_inventory (SPEC 2)."""

    number: str = pa.Field(str_matches=NUMBER_PATTERN)
    hierarchy: str = pa.Field(str_length={"min_value": 1})
    status: str = pa.Field(isin=list(STATUSES))
    usage: str
    vendor: str
    number_type: str
    e164: str
    release_date: date | None = pa.Field(nullable=True)
    reserved_until: date | None = pa.Field(nullable=True)
    tag: str
    description: str
    reservation_notes: str
    extra1: str
    extra2: str
    extra3: str
    extra4: str
    extra5: str
    extra6: str
    extra7: str
    extra8: str
    extra9: str
    created_at: datetime
    updated_at: datetime
    last_audit_id: str

    class Config:
        strict = True
        coerce = True
        unique = ["number", "hierarchy"]  # noqa: RUF012 - pandera reads this class attribute

    @pa.dataframe_check(error="Available entries have no usage")
    def available_has_no_usage(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("status") != "Available") | (pl.col("usage") == ""))

    @pa.dataframe_check(error="Used entries have a Device or User usage")
    def used_has_device_or_user(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("status") != "Used") | pl.col("usage").str.contains(r"(^|,)(Device|User)(,|$)")
        )

    # SPEC 2 says "only utility types", but SPEC 3 keeps a Used-Utility entry Used-Utility when a
    # Device/User usage joins its utility usage; the rule that decides wins, so the check asks
    # for a utility usage, not for utility usages only.
    @pa.dataframe_check(error="Used-Utility entries have a utility usage")
    def used_utility_has_utility(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("status") != "Used-Utility") | pl.col("usage").str.contains(_HAS_UTILITY))

    @pa.dataframe_check(error="Cooling entries have a release date, and only they do")
    def release_date_only_when_cooling(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("status") == "Cooling") == pl.col("release_date").is_not_null())

    @pa.dataframe_check(error="usage lists known usage types")
    def usage_types_known(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("usage") == "") | pl.col("usage").str.contains(rf"^{_USAGE_TYPES}(,{_USAGE_TYPES})*$")
        )

    @pa.dataframe_check(error="a number appears at most once on any root-to-leaf path")
    def one_entry_per_path(cls, data: PolarsData) -> pl.LazyFrame:
        return _ancestor_holds_same_number(data.lazyframe)


class HierarchyModel(pa.DataFrameModel):
    path: str = pa.Field(str_matches=r"^[^.\s]+(\.[^.\s]+)*$", unique=True)
    kind: str = pa.Field(isin=list(NODE_KINDS))
    parent: str | None = pa.Field(nullable=True)
    number_management: bool
    slc_dial_plan: bool
    hybrid: bool

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="a node's parent is the path without its last part")
    def parent_is_prefix(cls, data: PolarsData) -> pl.LazyFrame:
        expected = pl.col("path").str.replace(r"\.[^.]+$", "")
        return data.lazyframe.select(
            pl.when(pl.col("path").str.contains(r"\.")).then(pl.col("parent") == expected).otherwise(pl.col("parent").is_null())
        )


class SettingsModel(pa.DataFrameModel):
    customer: str = pa.Field(unique=True)
    cooling_enabled: bool
    cooling_days: int = pa.Field(ge=0, le=3650)
    audiocodes_cooling_days: int = pa.Field(ge=0, le=3650)
    max_release_fraction: float = pa.Field(ge=0.0, le=1.0)
    hybrid_prefix: str = pa.Field(str_matches=r"^\+?[0-9]*$")

    class Config:
        strict = True
        coerce = True


class StagedUsageModel(pa.DataFrameModel):
    """What readers hand to the loader: known device types, numbers normalised or null."""

    customer: str
    source: str
    source_row: int
    number_raw: str | None = pa.Field(nullable=True)
    number: str | None = pa.Field(nullable=True, str_matches=NUMBER_PATTERN)
    device_type: str = pa.Field(isin=list(DEVICE_TYPES))
    device_name: str
    cluster: str
    partition: str
    site: str | None = pa.Field(nullable=True)
    site_key: str
    vendor: str
    number_type: str
    owner: str
    online: bool
    e164: str

    class Config:
        strict = True
        coerce = True


@dataclass(frozen=True)
class Violation:
    row: int | None  # 0-based row of the validated frame
    column: str | None
    check: str
    value: str | None


def violations(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> list[Violation]:
    """Every failure of `model` on `frame`, or [] when it is valid."""
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        return [
            Violation(
                row=None if case.get("index") is None else int(case["index"]),
                column=case.get("column"),
                check=str(case.get("check")),
                value=None if case.get("failure_case") is None else str(case["failure_case"]),
            )
            for case in cases.to_dicts()
        ]
    return []


class InvariantError(ValueError):
    """A frame about to be written breaks a SPEC 2 invariant; nothing was written."""
