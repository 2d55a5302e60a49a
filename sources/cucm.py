"""Cisco CUCM source kinds: AXL responses (sources.cucm_axl) and BAT exports (sources.cucm_bat)."""

from __future__ import annotations

from sources.base import Reader
from sources.cucm_axl import READERS as AXL
from sources.cucm_bat import READERS as BAT

READERS: dict[str, Reader] = {**AXL, **BAT}
