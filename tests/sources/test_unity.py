"""Unity Connection CUPI call handler reader (JSON and XML)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sources.base import SourceConfig, SourceError, SourceFrames
from sources.registry import READERS
from sources.unity import concat_pages, parse_callhandlers, read_unity_callhandlers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats" / "unity"
REPAIRED = FIXTURES / "cupi_callhandlers_list.repaired.json"
VERBATIM = FIXTURES / "cupi_callhandlers_list.doc-verbatim.json.txt"
XML = FIXTURES / "cupi_callhandlers_list.variant.xml"
SINGLE = FIXTURES / "cupi_callhandlers_single.variant.json"
EMPTY = FIXTURES / "cupi_callhandlers_empty.variant.json"

CUSTOMER = "sys.prov.Acme"
LONDON = f"{CUSTOMER}.London"
NODES = frozenset({CUSTOMER, LONDON})
LOCATION = "bbf3e6ed-0278-479c-9a6e-2da8756eeb6f"
CALL_HANDLER = "device/cuc/Callhandler"
USAGE_COLUMNS = ("source_row", "number_raw", "number", "device_type", "device_name", "partition", "cluster", "site", "site_key")


def config(path: Path | None, **changes: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "cuc",
        "kind": "unity_cupi_callhandlers",
        "customer": CUSTOMER,
        "path": path,
        "cluster": "CUC1",
        "known_nodes": NODES,
    }
    return SourceConfig(**(values | changes))


def usages(frames: SourceFrames, *columns: str) -> list[tuple[Any, ...]]:
    return frames.usages.select(columns).rows()


def test_json_sample_only_the_handler_with_a_dtmf_access_id_uses_a_number() -> None:
    frames = read_unity_callhandlers(config(REPAIRED))
    # "Opening Greeting" has no DtmfAccessId; "Operator" has "0"
    assert usages(frames, *USAGE_COLUMNS) == [(2, "0", "0", CALL_HANDLER, "Operator", "", "CUC1", CUSTOMER, "")]


def test_json_sample_lands_every_handler_and_field_raw() -> None:
    raw = read_unity_callhandlers(config(REPAIRED)).raw["raw_unity_callhandler"]
    document = json.loads(REPAIRED.read_text())
    assert raw.height == 2
    assert raw["source_row"].to_list() == [1, 2]
    for row, handler in zip(raw.iter_rows(named=True), document["Callhandler"], strict=True):
        assert {key: row[key] for key in handler} == handler
    # a key one record lacks is null in its row, not ''
    assert raw["DtmfAccessId"].to_list() == [None, "0"]
    assert raw["TenantObjectId"].to_list() == ["fe6541fb-b42c-44f2-8404-ded14cbf7438", None]


def test_doc_verbatim_json_is_refused_naming_file_line_and_column() -> None:
    with pytest.raises(SourceError) as error:
        read_unity_callhandlers(config(VERBATIM))
    assert error.value.file == str(VERBATIM)
    assert "line 11, column 76" in str(error.value)


def test_single_result_is_an_object() -> None:
    frames = read_unity_callhandlers(config(SINGLE))
    assert usages(frames, "source_row", "number", "device_name") == [(1, "0", "Operator")]


def test_total_zero_without_callhandler_key_is_no_handler() -> None:
    frames = read_unity_callhandlers(config(EMPTY))
    assert frames.usages.is_empty()
    assert frames.raw["raw_unity_callhandler"].is_empty()


def test_xml_only_system_handlers_with_a_number_count() -> None:
    frames = read_unity_callhandlers(config(XML))
    # Goodbye has no DtmfAccessId; Jane Doe's is a user's primary handler; the template is a template
    assert usages(frames, *USAGE_COLUMNS) == [(1, "5000", "5000", CALL_HANDLER, "Main Auto Attendant", "", "CUC1", CUSTOMER, "")]
    raw = frames.raw["raw_unity_callhandler"]
    assert raw.select("DisplayName", "DtmfAccessId", "IsPrimary", "IsTemplate").rows() == [
        ("Main Auto Attendant", "5000", "false", "false"),
        ("Goodbye", None, "false", "false"),
        ("Jane Doe", "1001", "true", "false"),
        ("System Call Handler Template", "5999", "false", "true"),
    ]


def test_empty_dtmf_access_id_and_flag_spelling() -> None:
    body = json.dumps(
        {
            "@total": "3",
            "Callhandler": [
                {"DisplayName": "Empty id", "DtmfAccessId": "", "IsPrimary": "false", "IsTemplate": "false"},
                {"DisplayName": "Primary", "DtmfAccessId": "1002", "IsPrimary": "True", "IsTemplate": "false"},
                {"DisplayName": "No flags", "DtmfAccessId": "5001"},
            ],
        }
    ).encode()
    frames = parse_callhandlers(body, "page", config(None))
    assert usages(frames, "source_row", "number", "device_name") == [(3, "5001", "No flags")]


def test_configured_site_field_resolves_the_site() -> None:
    frames = read_unity_callhandlers(config(XML, site_field="LocationObjectId", site_map={LOCATION: "London"}))
    assert usages(frames, "site", "site_key") == [(LONDON, LOCATION)]
    with pytest.raises(SourceError) as error:
        read_unity_callhandlers(config(XML, site_field="Location"))
    assert error.value.column == "Location"


def test_default_site() -> None:
    frames = read_unity_callhandlers(config(REPAIRED, default_site="London"))
    assert usages(frames, "site") == [(LONDON,)]


def test_folder_of_json_and_xml_pages(tmp_path: Path) -> None:
    shutil.copy(REPAIRED, tmp_path / "page1.json")
    shutil.copy(XML, tmp_path / "page2.xml")
    frames = read_unity_callhandlers(config(tmp_path))
    assert usages(frames, "number", "device_name") == [("0", "Operator"), ("5000", "Main Auto Attendant")]
    assert frames.raw["raw_unity_callhandler"].height == 6


def test_pages_of_a_live_extraction_keep_their_record_numbers() -> None:
    pages = [
        parse_callhandlers(REPAIRED.read_bytes(), "https://cuc/vmrest/handlers/callhandlers?pageNumber=1", config(None)),
        parse_callhandlers(
            SINGLE.read_bytes(), "https://cuc/vmrest/handlers/callhandlers?pageNumber=2", config(None), first_record=3
        ),
    ]
    frames = concat_pages(pages)
    assert usages(frames, "source_row", "number") == [(2, "0"), (3, "0")]
    assert frames.raw["raw_unity_callhandler"]["source_file"].to_list() == [
        "https://cuc/vmrest/handlers/callhandlers?pageNumber=1",
        "https://cuc/vmrest/handlers/callhandlers?pageNumber=1",
        "https://cuc/vmrest/handlers/callhandlers?pageNumber=2",
    ]


def test_deeply_nested_json_is_refused() -> None:
    data = ('{"@total":"1","Callhandler":' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    with pytest.raises(SourceError, match="nested too deeply") as error:
        parse_callhandlers(data, "deep.json", config(None))
    assert error.value.file == "deep.json"


def test_xml_with_a_doctype_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
        b"<Callhandlers total=\"1\"><Callhandler><DtmfAccessId>&e;</DtmfAccessId></Callhandler></Callhandlers>"
    )
    with pytest.raises(SourceError, match="DOCTYPE"):
        parse_callhandlers(data, "evil.xml", config(None))


@pytest.mark.parametrize(
    ("body", "message", "row", "column"),
    [
        (b'{"@total":"2","User":[{"Alias":"a"},{"Alias":"b"}]}', "says there are 2 items but holds no Callhandler", None, None),
        (b"<Users total=\"1\"><User/></Users>", "is a <Users> document, not <Callhandlers>", None, None),
        (b'{"@total":"2","Callhandler":[{"DtmfAccessId":"1"},"2"]}', "the Callhandler is not an object", 2, "Callhandler"),
        (b'{"@total":"1","Callhandler":"5000"}', "neither a list nor an object", None, "Callhandler"),
        (b'{"@total":"many","Callhandler":[]}', "the total 'many' is not a count", None, "@total"),
        (b"[]", "is not a CUPI list", None, None),
        (b"HTTP/1.1 401 Unauthorized", "is neither a JSON nor an XML CUPI response", None, None),
    ],
)
def test_other_documents_are_refused(body: bytes, message: str, row: int | None, column: str | None) -> None:
    with pytest.raises(SourceError, match=message) as error:
        parse_callhandlers(body, "cupi.json", config(None))
    assert (error.value.file, error.value.row, error.value.column) == ("cupi.json", row, column)


def test_reader_is_registered() -> None:
    assert READERS["unity_cupi_callhandlers"] is read_unity_callhandlers
