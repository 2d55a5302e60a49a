"""Source kinds an estate file may name, and the reader for each."""

from __future__ import annotations

from sources.base import Reader
from sources.generic import READERS as GENERIC

READERS: dict[str, Reader] = {**GENERIC}
