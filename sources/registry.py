"""Source kinds an estate file may name, and the reader for each."""

from __future__ import annotations

from sources import audiocodes, cucm, e164, live, multivendor, teams, unity, webex
from sources.base import Reader
from sources.generic import BATCH_READERS as GENERIC_BATCH
from sources.generic import READERS as GENERIC

READERS: dict[str, Reader] = {
    **GENERIC,
    **cucm.READERS,
    **unity.READERS,
    **teams.READERS,
    **webex.READERS,
    **audiocodes.READERS,
    **multivendor.READERS,
    **e164.READERS,
    **live.READERS,
}
# Kinds whose reader also reads many sources at once (a night loads hundreds of them).
BATCH_READERS = {**GENERIC_BATCH}
