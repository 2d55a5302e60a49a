"""Number normalisation (SPEC 5): one vectorised expression, shared by every reader."""

from __future__ import annotations

import polars as pl

# Separators administrators and platforms put inside numbers; removed before the check.
_SEPARATORS = r"[\s\-\.\(\)\[\]]"
# E.164 allows 15 digits; internal numbers are shorter. Anything far longer is a bad value.
MAX_DIGITS = 32
_VALID = rf"^\+?[0-9]{{1,{MAX_DIGITS}}}$"


def normalise_number(raw: pl.Expr) -> pl.Expr:
    """`+` and ASCII digits, or null when the value is not a number after normalisation.

    `tel:+14255550100;ext=100` -> `+14255550100` (the part before `;`), `\\+1919...` ->
    `+1919...`, spaces, dashes, dots and brackets removed. Leading zeros are kept.
    Unicode digits are not numbers here: platforms dial ASCII digits only.
    """
    cleaned = (
        raw.str.strip_chars()
        .str.replace(r"^(?i)tel:", "")
        .str.split(";")
        .list.first()
        .str.replace_all(r"\\\+", "+")
        .str.replace_all(_SEPARATORS, "")
    )
    return pl.when(cleaned.str.contains(_VALID)).then(cleaned).otherwise(None)


def normalise_one(value: str) -> str | None:
    """The same rule for a single value (configuration, CLI arguments)."""
    result = pl.select(normalise_number(pl.lit(value, dtype=pl.String()))).item()
    return result if isinstance(result, str) else None
