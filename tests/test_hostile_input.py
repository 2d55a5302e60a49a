"""The hostile and broken input corpus (tests/hostile/, README there): every case goes through
`load_estate` as an operator's `numaudit load` would, and either is refused with a message
naming the file (and row and column where there are any) while the warehouse stays exactly as
it was, or loads as the SPEC says (BOM and CRLF read normally, a value that is not a number
staged for the audit's bad_number exception, formula-looking text kept as written).

A secret file sits outside every case's estate folder: XML entities, XInclude, absolute
paths and links all point at it, and its content must never show in a message or the warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from numaudit.auditing import AuditRequest, run_audit
from numaudit.estate import load_estate
from schemas.tables import TABLES
from sources.base import SourceError
from storage.lake import Warehouse
from tests.conftest import ESTATE, write_estate

HOSTILE = Path(__file__).resolve().parent / "hostile"
SECRET = "numaudit-hostile-secret-5b1f0c9e"
SECRET_URI_MARK = b"SECRET_FILE_URI"
HUGE = 2 * 1024 * 1024  # a multi-MB cell
LONGEST_MESSAGE = 1000  # a refusal quoting a huge cell must not flood the terminal
ROLES = {"hierarchy": "hierarchy.csv", "inventory": "inventory.csv", "estate": "estate.toml"}
SOURCE = '\n[[sources]]\nname = "hostile"\nkind = "{kind}"\npath = "{path}"\n'


@dataclass(frozen=True)
class Case:
    id: str
    role: str  # a source kind, or what else of the estate the input is: hierarchy, inventory, estate
    corpus: str | None = None  # tests/hostile/<corpus>, copied into the estate folder
    build: Callable[[Path, Path], str] | None = (
        None  # or: writes it (estate folder, a folder outside), returns its path
    )
    refused: str | None = None  # the refusal's reason (a regex); None: the input loads as the SPEC says
    row: int | None = None
    column: str | None = None
    names: str | None = None  # the file the refusal names, when it is not the input itself
    numbers: tuple[str | None, ...] | None = None  # the hostile source's staged numbers (None: bad_number)
    check: Callable[[Warehouse], None] | None = None  # what else must hold once it loaded


# ----------------------------------------------------------------------------- built inputs


def huge_device_name(folder: Path, outside: Path) -> str:
    header = "hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n"
    row = f"London,device/cucm/Phone,{'x' * HUGE},1001,PT_INT,,,,,true\n"
    (folder / "huge-cell.csv").write_text(header + row, encoding="utf-8")
    return "huge-cell.csv"


def huge_bad_flag(folder: Path, outside: Path) -> str:
    header = "hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n"
    row = f"London,device/cucm/Phone,SEP001,1001,PT_INT,,,,,{'y' * HUGE}\n"
    (folder / "huge-flag.csv").write_text(header + row, encoding="utf-8")
    return "huge-flag.csv"


def huge_axl_device_name(folder: Path, outside: Path) -> str:
    row = f"<row><dnorpattern>1001</dnorpattern><tkpatternusage>2</tkpatternusage><devicename>{'S' * HUGE}</devicename></row>"
    (folder / "huge-cell.xml").write_text(_axl_sql(row), encoding="utf-8")
    return "huge-cell.xml"


def deep_axl(folder: Path, outside: Path) -> str:
    (folder / "deep.xml").write_text(_axl_sql("<row>" + "<a>" * 5000 + "</a>" * 5000 + "</row>"), encoding="utf-8")
    return "deep.xml"


def deep_json(key: str) -> Callable[[Path, Path], str]:
    def build(folder: Path, outside: Path) -> str:
        (folder / "deep.json").write_text(f'{{"{key}": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
        return "deep.json"

    return build


def deep_json_record(folder: Path, outside: Path) -> str:
    record = '{"phoneNumber": "+1001", "owner": {"id": "u1"}, "x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    (folder / "deep-record.json").write_text(f'{{"phoneNumbers": [{record}]}}', encoding="utf-8")
    return "deep-record.json"


def huge_graph_target(folder: Path, outside: Path) -> str:
    record = f'{{"telephoneNumber": "+14255550100", "assignmentStatus": "userAssigned", "assignmentTargetId": "{"t" * HUGE}", "locationId": ""}}'
    (folder / "huge-cell.json").write_text(f'{{"value": [{record}]}}', encoding="utf-8")
    return "huge-cell.json"


def deep_toml(folder: Path, outside: Path) -> str:
    text = ESTATE.replace("[settings]", "nesting = " + "[" * 5000 + "]" * 5000 + "\n\n[settings]")
    (folder / "estate.toml").write_text(text, encoding="utf-8")
    return "estate.toml"


def linked_source_file(folder: Path, outside: Path) -> str:
    (folder / "linked.csv").symlink_to(outside / "usages.csv")
    return "linked.csv"


def linked_source_folder(folder: Path, outside: Path) -> str:
    (folder / "pages").symlink_to(outside)
    return "pages"


def linked_page(suffix: str) -> Callable[[Path, Path], str]:
    """A folder of pages inside the estate, one of them a link to a page outside it."""

    def build(folder: Path, outside: Path) -> str:
        (folder / "pages").mkdir()
        (folder / "pages" / f"page1{suffix}").symlink_to(outside / f"page{suffix}")
        return "pages"

    return build


def linked_hierarchy(folder: Path, outside: Path) -> str:
    (folder / "hierarchy.csv").unlink()
    (folder / "hierarchy.csv").symlink_to(outside / "hierarchy.csv")
    return "hierarchy.csv"


def page_named_with_superscript(folder: Path, outside: Path) -> str:
    """`1²2.json`: str.isdigit() says `²` is a digit, int() refuses it (natural page order)."""
    (folder / "pages").mkdir()
    page = '{{"phoneNumbers": [{{"phoneNumber": "{}", "owner": {{"id": "u"}}, "location": {{"name": "London"}}}}]}}'
    (folder / "pages" / "page1.json").write_text(page.format("+1001"), encoding="utf-8")
    (folder / "pages" / "page1²2.json").write_text(page.format("+1002"), encoding="utf-8")
    return "pages"


def _axl_sql(rows: str) -> str:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<ns:executeSQLQueryResponse xmlns:ns="http://www.cisco.com/AXL/API/11.5"><return>{rows}</return>'
        "</ns:executeSQLQueryResponse></soapenv:Body></soapenv:Envelope>"
    )


# ----------------------------------------------------------------------------- checks of loaded cases


def raw_keeps(table: str, column: str, value: str) -> Callable[[Warehouse], None]:
    def check(lake: Warehouse) -> None:
        kept = lake.query(f'SELECT "{column}" FROM {table} WHERE source = ? ORDER BY source_row', ["hostile"])
        assert value in kept[column].to_list(), f"{table}.{column} does not keep {value[:40]!r} as written"

    return check


def staged_usage_keeps(**fields: str) -> Callable[[Warehouse], None]:
    def check(lake: Warehouse) -> None:
        first = lake.read("staged_usages", "source = ?", ["hostile"]).sort("source_row").row(0, named=True)
        assert {name: first[name] for name in fields} == fields

    return check


def inventory_keeps(number: str, **fields: str) -> Callable[[Warehouse], None]:
    def check(lake: Warehouse) -> None:
        entry = lake.read("number_inventory", "number = ?", [number]).row(0, named=True)
        assert {name: entry[name] for name in fields} == fields

    return check


def hierarchy_has(*paths: str) -> Callable[[Warehouse], None]:
    def check(lake: Warehouse) -> None:
        assert set(paths) <= set(lake.read("hierarchy")["path"].to_list())

    return check


def huge_value_kept(lake: Warehouse) -> None:
    length = lake.query("SELECT max(length(device_name)) FROM staged_usages WHERE source = 'hostile'").item()
    assert length == HUGE


# ----------------------------------------------------------------------------- the corpus

NOT_A_NUMBER = None
CSV = [
    Case("csv-empty", "usages", "csv/empty.csv", refused="is empty"),
    Case("csv-blank-lines-only", "usages", "csv/blank-lines-only.csv", refused="is empty"),
    # A source may legitimately have no rows; SPEC 4.8's guard stops it freeing numbers (tests/test_guard.py).
    Case("csv-header-only", "usages", "csv/usages-header-only.csv", numbers=()),
    Case("csv-latin1", "usages", "csv/usages-latin1.csv", refused="is not UTF-8 text", row=3),
    Case("csv-utf16", "usages", "csv/usages-utf16.csv", refused="is not UTF-8 text", row=1),
    Case("csv-bom-crlf", "usages", "csv/usages-bom-crlf.csv", numbers=("1001", "+33140000000")),
    Case("csv-cr-only-line-ends", "usages", "csv/usages-cr-only.csv", numbers=("1001", "1002")),
    Case("csv-trailing-blank-lines", "usages", "csv/usages-trailing-blank-lines.csv", numbers=("1001", "1002")),
    Case(
        "csv-quoted-separators-and-line-breaks",
        "usages",
        "csv/usages-quoted-line-breaks.csv",
        numbers=("1001", "1002"),
        check=staged_usage_keeps(device_name="Lobby, main\r\nfloor 2"),
    ),
    Case(
        "csv-numbers-with-letters-unicode-digits-formulas",
        "usages",
        "csv/usages-hostile-numbers.csv",
        numbers=(*[NOT_A_NUMBER] * 9, "+442071234567", "1005", "0800123456"),
    ),
    Case(
        "csv-formula-cells-in-text-columns",
        "usages",
        "csv/usages-formula-cells.csv",
        numbers=("1001", "1002"),
        check=staged_usage_keeps(device_name="=cmd|' /C calc'!A0", owner="@jdoe"),
    ),
    Case(
        "csv-formula-header",
        "usages",
        "csv/usages-formula-header.csv",
        numbers=("1001",),
        check=raw_keeps("raw_usages", "=cmd|' /C calc'!A0", "=1+1"),
    ),
    # SPEC 3: several usages of one number map to one entry (test_duplicated_rows_map_to_one_entry).
    Case("csv-duplicated-rows", "usages", "csv/usages-duplicated-rows.csv", numbers=("1001", "1001", "1001")),
    Case("csv-huge-cell", "usages", build=huge_device_name, numbers=("1001",), check=huge_value_kept),
    Case(
        "csv-huge-bad-value",
        "usages",
        build=huge_bad_flag,
        refused="characters left out.* is not true or false",
        row=2,
        column="online",
    ),
    Case(
        "csv-duplicate-header",
        "usages",
        "csv/usages-duplicate-header.csv",
        refused="names column 'number' twice",
        row=1,
        column="number",
    ),
    Case("csv-short-row", "usages", "csv/usages-short-row.csv", refused="the row has 9 field", row=3),
    Case("csv-unquoted-separator", "usages", "csv/usages-long-row.csv", refused="the row has 11 field", row=2),
    Case("csv-truncated-last-row", "usages", "csv/usages-truncated-last-row.csv", refused="the row has 5 field", row=4),
    Case("csv-unclosed-quote", "usages", "csv/usages-unclosed-quote.csv", refused="not a well-formed CSV", row=3),
    Case(
        "csv-blank-line-between-rows",
        "usages",
        "csv/usages-blank-line-between-rows.csv",
        refused="the row is blank",
        row=3,
    ),
    Case("hierarchy-bom-crlf", "hierarchy", "csv/hierarchy-bom-crlf.csv", check=hierarchy_has("sys.prov.Acme.London")),
    Case(
        "hierarchy-header-only",
        "hierarchy",
        "csv/hierarchy-header-only.csv",
        refused="it is not in the file",
        column="path",
    ),
    Case(
        "hierarchy-duplicated-row",
        "hierarchy",
        "csv/hierarchy-duplicated-row.csv",
        refused=r"'sys.prov.Acme.London' is listed twice \(first at row 5\)",
        row=7,
        column="path",
    ),
    Case(
        "inventory-formula-cells",
        "inventory",
        "csv/inventory-formula-cells.csv",
        check=inventory_keeps("+442071234567", tag="=cmd|' /C calc'!A0", description="@SUM(1+1)*cmd|' /C calc'!A0"),
    ),
    Case(
        "inventory-unicode-digits",
        "inventory",
        "csv/inventory-unicode-digits.csv",
        refused="'１００２' is not a number",
        row=3,
        column="number",
    ),
    Case(
        "inventory-duplicated-row",
        "inventory",
        "csv/inventory-duplicated-row.csv",
        refused=r"'1001' at 'sys.prov.Acme.London' is listed twice \(first at row 2\)",
        row=3,
        column="number",
    ),
    Case("inventory-latin1", "inventory", "csv/inventory-latin1.csv", refused="is not UTF-8 text", row=2),
    Case(
        "multivendor-unicode-digits",
        "multivendor_phones",
        "csv/multivendor-unicode-digits.csv",
        numbers=(NOT_A_NUMBER, "1002"),
    ),
    # Administrators' data is refused rather than reported later (sources/e164.py).
    Case(
        "e164-formula",
        "e164_associations",
        "csv/e164-formula.csv",
        refused="is not an E.164 number",
        row=3,
        column="e164",
    ),
    Case(
        "audiocodes-unicode-digits",
        "audiocodes_registered_users",
        "csv/audiocodes-unicode-digits.csv",
        numbers=(NOT_A_NUMBER, "1001"),
    ),
    Case("bat-short-row", "cucm_bat_phones", "csv/bat-short-row.csv", refused="the row has 3 field", row=3),
    Case(
        "teams-export-csv-utf16-crlf",
        "teams_number_assignment",
        "csv/teams-export-csv-utf16.csv",
        numbers=("+14255550100", NOT_A_NUMBER),
    ),
    Case(
        "teams-export-csv-wrong-header-no-rows",
        "teams_number_assignment",
        "csv/teams-export-csv-wrong-header.csv",
        refused="missing column 'TelephoneNumber'",
        row=1,
        column="TelephoneNumber",
    ),
    Case(
        "teams-export-csv-utf32", "teams_number_assignment", "csv/teams-export-csv-utf32.csv", refused="is UTF-32 text"
    ),
    Case(
        "teams-online-users-hostile",
        "teams_online_users",
        "csv/teams-online-users-hostile.csv",
        numbers=(NOT_A_NUMBER, "+14255550101", NOT_A_NUMBER),
    ),
]

XML = [
    Case("xml-empty", "cucm_axl_sql", "xml/axl-sql-empty.xml", refused="is empty"),
    Case("xml-external-entity", "cucm_axl_sql", "xml/axl-sql-xxe.xml", refused="DOCTYPE"),
    Case("xml-external-dtd", "cucm_axl_sql", "xml/axl-sql-external-dtd.xml", refused="DOCTYPE"),
    Case(
        "xml-billion-laughs",
        "cucm_axl_sql",
        "../fixtures/formats/cucm/axl_executeSQLQuery_entity_bomb.hostile.response.xml",
        refused="DOCTYPE",
    ),
    # XInclude is never processed: the element stays an element, the number is missing.
    Case(
        "xml-xinclude",
        "cucm_axl_sql",
        "xml/axl-sql-xinclude.xml",
        refused="has no <dnorpattern>",
        row=1,
        column="dnorpattern",
    ),
    Case(
        "xml-truncated",
        "cucm_axl_sql",
        "../fixtures/formats/cucm/axl_executeSQLQuery.truncated.response.xml",
        refused="not well-formed XML at line 21, column 14",
    ),
    Case("xml-deep-nesting", "cucm_axl_sql", build=deep_axl, refused="nests elements more than 64 deep"),
    Case(
        "xml-latin1-undeclared",
        "cucm_axl_sql",
        "xml/axl-sql-latin1-undeclared.xml",
        refused="not well-formed XML at line 7, column 86",
    ),
    # An XML document says its own encoding: one that declares ISO-8859-1 is read as such.
    Case(
        "xml-latin1-declared",
        "cucm_axl_sql",
        "xml/axl-sql-latin1-declared.xml",
        numbers=("1001",),
        check=staged_usage_keeps(device_name="Café"),
    ),
    Case("xml-utf16", "cucm_axl_sql", "xml/axl-sql-utf16.xml", numbers=("1001",)),
    Case("xml-bom-crlf", "cucm_axl_sql", "xml/axl-sql-bom-crlf.xml", numbers=("1001", "+442071234567")),
    Case(
        "xml-numbers-with-letters-unicode-digits-formulas",
        "cucm_axl_sql",
        "xml/axl-sql-hostile-numbers.xml",
        numbers=(*[NOT_A_NUMBER] * 5, "+442071234567"),
    ),
    Case("xml-huge-cell", "cucm_axl_sql", build=huge_axl_device_name, numbers=("1001",), check=huge_value_kept),
    Case("xml-getphone-external-entity", "cucm_axl_getphone", "xml/axl-getphone-xxe.xml", refused="DOCTYPE"),
    Case("xml-list-parameter-entity", "cucm_axl_list", "xml/axl-list-parameter-entity.xml", refused="DOCTYPE"),
    Case("xml-cupi-external-entity", "unity_cupi_callhandlers", "xml/unity-callhandlers-xxe.xml", refused="DOCTYPE"),
    Case(
        "xml-cupi-billion-laughs",
        "unity_cupi_callhandlers",
        "xml/unity-callhandlers-billion-laughs.xml",
        refused="DOCTYPE",
    ),
    Case(
        "xml-page-linked-outside",
        "cucm_axl_sql",
        build=linked_page(".xml"),
        refused="is a link to .*outside the folder",
        names="page1.xml",
    ),
]

JSON = [
    Case("json-whitespace-only", "webex_numbers", "json/webex-whitespace-only.json", refused="is empty"),
    Case("json-latin1", "webex_numbers", "json/webex-latin1.json", refused="line 3: is not UTF-8 text"),
    Case("json-utf16", "webex_numbers", "json/webex-utf16.json", refused="is not UTF-8 text"),
    Case("json-bom-crlf", "webex_numbers", "json/webex-bom-crlf.json", numbers=("+442071234567", "+14255550100")),
    Case(
        "json-numbers-with-letters-unicode-digits-formulas",
        "webex_numbers",
        "json/webex-hostile-numbers.json",
        numbers=(*[NOT_A_NUMBER] * 5, "+442071234567"),
    ),
    Case("json-deep-nesting-webex", "webex_numbers", build=deep_json("phoneNumbers"), refused="nested too deeply"),
    Case("json-deep-nesting-in-a-record", "webex_numbers", build=deep_json_record, refused="nested too deeply"),
    Case(
        "json-deep-nesting-graph",
        "teams_graph_number_assignments",
        build=deep_json("value"),
        refused="nested too deeply",
    ),
    Case(
        "json-deep-nesting-cupi", "unity_cupi_callhandlers", build=deep_json("Callhandler"), refused="nested too deeply"
    ),
    Case("json-huge-cell", "teams_graph_number_assignments", build=huge_graph_target, numbers=("+14255550100",)),
    Case(
        "json-cupi-total-superscript",
        "unity_cupi_callhandlers",
        "json/unity-callhandlers-total-superscript.json",
        refused="the total '²' is not a count",
        column="@total",
    ),
    Case(
        "json-cupi-whitespace-only",
        "unity_cupi_callhandlers",
        "json/unity-callhandlers-whitespace-only.json",
        refused="is empty",
    ),
    Case(
        "json-page-named-with-superscript",
        "webex_numbers",
        build=page_named_with_superscript,
        numbers=("+1001", "+1002"),
    ),
    Case(
        "json-page-linked-outside",
        "webex_numbers",
        build=linked_page(".json"),
        refused="is a link to .*outside the folder",
        names="page1.json",
    ),
]

ESTATE_FILES = [
    Case("toml-empty", "estate", "estate/empty.toml", refused="`customer` is required"),
    Case("toml-bom-crlf", "estate", "estate/bom-crlf.toml", check=hierarchy_has("sys.prov.Acme.Paris")),
    Case("toml-latin1", "estate", "estate/latin1.toml", refused="is not UTF-8 text"),
    Case("toml-utf16", "estate", "estate/utf16.toml", refused="is not UTF-8 text"),
    Case("toml-deep-nesting", "estate", build=deep_toml, refused="nests arrays or tables too deeply"),
    Case("toml-kind-not-text", "estate", "estate/kind-not-text.toml", refused=r"kind \['usages'\] is not one of"),
    Case(
        "toml-site-field-not-text",
        "estate",
        "estate/site-field-not-text.toml",
        refused="`site_field` must be a text value",
    ),
    Case(
        "toml-default-site-not-a-node",
        "estate",
        "estate/default-site-not-a-node.toml",
        refused="default_site 'Berlin' is not a node",
    ),
    Case(
        "toml-setting-out-of-range",
        "estate",
        "estate/setting-out-of-range.toml",
        refused="cooling_days = 99999999999999999999 is out of range",
    ),
    Case("path-absolute", "estate", "estate/path-absolute.toml", refused="'/etc/passwd' is outside the estate folder"),
    Case(
        "path-dotdot-inventory",
        "estate",
        "estate/inventory-outside.toml",
        refused="`inventory` = '../outside/inventory.csv' is outside",
    ),
    Case("path-nul-character", "estate", "estate/path-nul.toml", refused="is not a usable path"),
    Case(
        "path-symlinked-file",
        "usages",
        build=linked_source_file,
        refused="'linked.csv' is outside the estate folder",
        names="estate.toml",
    ),
    Case(
        "path-symlinked-folder",
        "cucm_axl_sql",
        build=linked_source_folder,
        refused="'pages' is outside the estate folder",
        names="estate.toml",
    ),
    Case(
        "path-symlinked-hierarchy",
        "estate",
        build=linked_hierarchy,
        refused="`hierarchy` = 'hierarchy.csv' is outside",
        names="estate.toml",
    ),
]

CASES = CSV + XML + JSON + ESTATE_FILES


# ----------------------------------------------------------------------------- harness


@pytest.fixture(scope="module")
def shared_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One loaded warehouse for the refused cases: each checks it is unchanged afterwards."""
    home = tmp_path_factory.mktemp("hostile")
    with Warehouse(home / "warehouse") as lake:
        load_estate(lake, write_estate(home / "estate"))
        yield lake


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the estate, holding what a hostile estate or document reaches for."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    usages = "hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n"
    (folder / "usages.csv").write_text(usages + f"London,device/cucm/Phone,{SECRET},4711,,,,,,true\n", encoding="utf-8")
    (folder / "inventory.csv").write_text(
        f"number,hierarchy,status,tag\n4711,sys.prov.Acme.London,Reserved,{SECRET}\n", encoding="utf-8"
    )
    (folder / "hierarchy.csv").write_text(
        (HOSTILE / "csv" / "hierarchy-bom-crlf.csv").read_text(encoding="utf-8-sig"), encoding="utf-8"
    )
    (folder / "page.xml").write_text(
        _axl_sql(
            f"<row><dnorpattern>4711</dnorpattern><tkpatternusage>2</tkpatternusage><devicename>{SECRET}</devicename></row>"
        )
    )
    (folder / "page.json").write_text(
        f'{{"phoneNumbers": [{{"phoneNumber": "+4711", "owner": {{"id": "{SECRET}"}}}}]}}'
    )
    return folder


def install(case: Case, folder: Path, outside: Path) -> tuple[Path, str]:
    """The case's estate file, and the name of the file holding the hostile input."""
    estate = write_estate(folder)
    if case.corpus is not None:
        data = (HOSTILE / case.corpus).read_bytes().replace(SECRET_URI_MARK, (outside / "secret.txt").as_uri().encode())
        target = folder / ROLES.get(case.role, Path(case.corpus).name)
        target.write_bytes(data)
        path = target.name
    else:
        assert case.build is not None, case.id
        path = case.build(folder, outside)
    if case.role not in ROLES:
        estate.write_text(ESTATE + SOURCE.format(kind=case.role, path=path), encoding="utf-8")
    return estate, Path(path).name


def contents(lake: Warehouse) -> dict[str, int]:
    """The lake's snapshot and the row count of every table, the raw tables included."""
    tables = lake.query("SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'")["table_name"].to_list()
    counts = {t: int(lake.query(f'SELECT count(*) FROM "{t}"').item()) for t in sorted(set(tables) | set(TABLES))}
    return {"snapshot": lake.latest_snapshot(), **counts}


def secret_in_warehouse(lake: Warehouse) -> bool:
    tables = lake.query("SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'")["table_name"].to_list()
    for table in tables:
        frame = lake.query(f'SELECT * FROM "{table}"')
        text = [pl.col(c).str.contains(SECRET, literal=True).any() for c, t in frame.schema.items() if t == pl.String()]
        if text and any(frame.select(text).row(0)):
            return True
    return False


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_is_refused_cleanly_or_loads_as_the_spec_says(
    case: Case, request: pytest.FixtureRequest, tmp_path: Path, outside: Path
) -> None:
    estate, hostile_file = install(case, tmp_path / "estate", outside)
    if case.refused is not None:
        lake: Warehouse = request.getfixturevalue("shared_lake")
        before = contents(lake)
        with pytest.raises(SourceError) as caught:
            load_estate(lake, estate)
        error = caught.value
        assert re.search(case.refused, error.reason), f"{case.id}: {error}"
        assert Path(error.file).name == (case.names or hostile_file), f"{case.id} names {error.file}"
        assert (error.row, error.column) == (case.row, case.column), f"{case.id}: {error}"
        assert len(str(error)) < LONGEST_MESSAGE
        assert SECRET not in str(error)
        assert contents(lake) == before, f"{case.id}: a refused load wrote to the warehouse"
        return
    with Warehouse(tmp_path / "warehouse") as lake:
        load_estate(lake, estate)
        if case.numbers is not None:
            staged = lake.read("staged_usages", "source = ?", ["hostile"]).sort("source_row")
            assert tuple(staged["number"].to_list()) == case.numbers
        if case.check is not None:
            case.check(lake)
        assert not secret_in_warehouse(lake)


def test_the_corpus_files_are_all_used() -> None:
    used = {case.corpus for case in CASES if case.corpus}
    on_disk = {
        str(p.relative_to(HOSTILE))
        for p in HOSTILE.rglob("*")
        if p.is_file() and p.suffix != ".md" and not p.name.startswith(".")
    }
    assert on_disk - used == set(), "a corpus file no case reads"


# ----------------------------------------------------------------------------- through an audit


def test_non_numbers_become_bad_number_exceptions_and_duplicated_rows_one_entry(tmp_path: Path) -> None:
    """SPEC 4.6 and 3: what the hostile CSV stages as no number is a bad_number exception of the
    audit (which goes on), and the three usages of 1001 (a duplicated row, a second partition)
    are one inventory entry."""
    folder = tmp_path / "estate"
    estate = write_estate(folder)
    for name in ("usages-hostile-numbers.csv", "usages-duplicated-rows.csv"):
        (folder / name).write_bytes((HOSTILE / "csv" / name).read_bytes())
    sources = "".join(
        SOURCE.replace('"hostile"', f'"{name}"').format(kind="usages", path=f"{name}.csv")
        for name in ("usages-hostile-numbers", "usages-duplicated-rows")
    )
    estate.write_text(ESTATE + sources, encoding="utf-8")
    raw = pl.read_csv(HOSTILE / "csv" / "usages-hostile-numbers.csv", infer_schema=False)["number"].to_list()
    with Warehouse(tmp_path / "warehouse") as lake:
        load_estate(lake, estate)
        summary = run_audit(lake, AuditRequest("sys.prov.Acme", as_of=date(2026, 11, 22)))
        assert summary.state == "completed"
        bad = lake.read("audit_exceptions", "audit_id = ? AND kind = 'bad_number'", [summary.audit_id])
        assert sorted(bad["number"].to_list()) == sorted([*raw[:9], "12a4"])  # and the shared estate's own 12a4
        inventory = lake.read("number_inventory")
        assert inventory.filter(pl.col("number") == "1001").height == 1
        assert not inventory["number"].is_in(raw[:9]).any()
        usage = lake.read("number_usage", "number = '1001'")
        assert set(usage["partition"].to_list()) >= {"PT_INT", "PT_OTHER"}
