"""The generic `usages` and `vendor_numbers` CSV kinds, read one source or many at once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sources.base import SourceConfig, SourceError
from sources.generic import read_usages, read_usages_batch, read_vendor_numbers_batch

CUSTOMERS = ("sys.prov.Acme", "sys.prov.Globex")
NODES = frozenset({"sys", "sys.prov", *CUSTOMERS, *(f"{c}.London" for c in CUSTOMERS)})
HEADER = "hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n"
TEAMS_HEADER = "hierarchy,number,vendor,number_type,assigned,blocked_state,blocked_until\n"


def source(folder: Path, customer: str, name: str, text: str, kind: str = "usages") -> SourceConfig:
    path = folder / f"{customer}-{name}.csv"
    path.write_text(text)
    return SourceConfig(name=name, kind=kind, customer=customer, path=path, cluster="CL1", known_nodes=NODES)


def test_a_batch_reads_as_its_sources_read_alone(tmp_path: Path) -> None:
    configs = [
        source(tmp_path, CUSTOMERS[0], "cucm", HEADER + "London,device/cucm/Phone,SEP1,1001,,,,,,true\n,device/cucm/Phone,SEP2,1002,,CL9,,,,\n"),
        source(tmp_path, CUSTOMERS[1], "cucm", HEADER + "sys.prov.Globex.London,device/cucm/Phone,SEP3,+441,,,,,,no\n"),
    ]
    together = read_usages_batch(configs)
    alone = [read_usages(c) for c in configs]

    assert together.usages.equals(pl.concat([a.usages for a in alone]))
    assert together.raw["raw_usages"].drop("extracted_at").equals(pl.concat([a.raw["raw_usages"] for a in alone]).drop("extracted_at"))
    usages = together.usages
    assert usages.select("customer", "source_row", "site", "cluster", "online").rows() == [
        ("sys.prov.Acme", 2, "sys.prov.Acme.London", "CL1", True),
        ("sys.prov.Acme", 3, None, "CL9", True),
        ("sys.prov.Globex", 2, "sys.prov.Globex.London", "CL1", False),
    ]
    assert together.raw["raw_usages"]["source_file"].to_list() == [str(configs[0].path)] * 2 + [str(configs[1].path)]


def test_a_bad_row_is_named_in_its_own_file(tmp_path: Path) -> None:
    good = source(tmp_path, CUSTOMERS[0], "cucm", HEADER + "London,device/cucm/Phone,SEP1,1001,,,,,,true\n")
    bad = source(tmp_path, CUSTOMERS[1], "cucm", HEADER + "London,device/cucm/Phone,SEP1,1001,,,,,,true\nParis,device/cucm/Phone,SEP2,1002,,,,,,true\n")
    with pytest.raises(SourceError, match=r"row 3, column 'hierarchy': 'Paris' is not a node of the hierarchy under sys\.prov\.Globex") as error:
        read_usages_batch([good, bad])
    assert error.value.file == str(bad.path)


def test_vendor_numbers_check_dates_and_states_per_file(tmp_path: Path) -> None:
    good = source(tmp_path, CUSTOMERS[0], "teams", TEAMS_HEADER + "London,+4411,,,false,BlockedUntil,2026-12-01\n", "vendor_numbers")
    bad = source(tmp_path, CUSTOMERS[1], "teams", TEAMS_HEADER + "London,+4412,,,false,BlockedUntil,01/12/2026\n", "vendor_numbers")
    numbers = read_vendor_numbers_batch([good]).vendor_numbers
    assert numbers.select("site", "vendor", "blocked_until").rows() == [("sys.prov.Acme.London", "Microsoft", date(2026, 12, 1))]
    with pytest.raises(SourceError, match="row 2, column 'blocked_until': '01/12/2026' is not a date") as error:
        read_vendor_numbers_batch([good, bad])
    assert error.value.file == str(bad.path)


@pytest.mark.parametrize("column", ["customer", "source_row", "_file"])
def test_a_column_named_like_lineage_is_refused(tmp_path: Path, column: str) -> None:
    config = source(tmp_path, CUSTOMERS[0], "cucm", HEADER.rstrip("\n") + f",{column}\nLondon,device/cucm/Phone,SEP1,1001,,,,,,true,x\n")
    with pytest.raises(SourceError, match=f"column '{column}' is a name numaudit keeps for lineage"):
        read_usages_batch([config])
