"""Identifiers and clocks shared by loads and audits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utc_now() -> datetime:
    """Naive UTC, as the warehouse's TIMESTAMP columns hold it."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_id(prefix: str) -> str:
    """Sortable by time, unique: `A20261122T030000-1a2b3c4d`."""
    return f"{prefix}{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
