"""Webex Calling numbers reader on the published response example, and the shared JSON safety."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sources.base import SourceConfig, SourceError
from sources.jsonfile import parse_json
from sources.registry import READERS
from sources.webex import parse_numbers_page, read_numbers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats" / "webex"
SAMPLE = FIXTURES / "telephony-config-numbers.response.json"

CUSTOMER = "sys.prov.Acme"
BANGALORE = f"{CUSTOMER}.Bangalore"
SADIQ = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9jODhiZGIwNC1jZjU5LTRjMjMtODQ4OC00NTNhOTE3ZDFlMjk"
CHANDRU = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNzVkMjI4Mi0yZjk1LTQ2MmMtYjFiNC1kYjRlZjU1OTk3MWE"
BANGALORE_ID = "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OL2E4Mjg5NzIyLTFiODAtNDFiNy05Njc4LTBlNzdhZThjMTA5OA"
USAGE_COLUMNS = [
    "source_row",
    "number_raw",
    "number",
    "device_type",
    "device_name",
    "owner",
    "vendor",
    "number_type",
    "site",
    "site_key",
    "online",
]


def config(path: Path | None, **overrides: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "webex",
        "kind": "webex_numbers",
        "customer": CUSTOMER,
        "path": path,
        "site_map": {"Banglore": "Bangalore"},  # the vendor's spelling of the location name
        "known_nodes": frozenset({CUSTOMER, BANGALORE}),
    }
    values.update(overrides)
    return SourceConfig(**values)


def usage(row: int, raw: str, number_type: str, name: str, owner: str, site: str | None, key: str) -> dict[str, Any]:
    return {
        "source_row": row,
        "number_raw": raw,
        "number": raw,
        "device_type": "device/spark/Number",
        "device_name": name,
        "owner": owner,
        "vendor": "Webex Calling",
        "number_type": number_type,
        "site": site,
        "site_key": key,
        "online": True,
    }


# Row 1: a phone number with an owner at a mapped location; row 2: extension-only
# (`phoneNumber: ""`) at a location no site maps; row 3: no `owner` (unassigned) -> no usage.
SAMPLE_USAGES = [
    usage(1, "+12056350001", "Phone Number", "sadiqhussain96 sadiqhussain96", SADIQ, BANGALORE, "Banglore"),
    usage(2, "568", "Extension", "chandru_2 test_2", CHANDRU, None, "Richardson"),
]


def sample() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAMPLE.read_text())
    return document


def write_json(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_webex_kind_is_registered() -> None:
    assert READERS["webex_numbers"] is read_numbers


def test_sample_usages() -> None:
    frames = read_numbers(config(SAMPLE))
    assert frames.usages.select(USAGE_COLUMNS).to_dicts() == SAMPLE_USAGES
    assert frames.vendor_numbers.is_empty()


def test_sample_raw_keeps_every_number_and_field_as_text() -> None:
    raw = read_numbers(config(SAMPLE)).raw["raw_webex_numbers"]
    assert raw["source_row"].to_list() == [1, 2, 3]
    assert raw.columns[5:] == [
        "phoneNumber",
        "extension",
        "routingPrefix",
        "esn",
        "state",
        "phoneNumberType",
        "mainNumber",
        "includedTelephonyTypes",
        "mobileNetwork",
        "routingProfile",
        "tollFreeNumber",
        "isServiceNumber",
        "location.id",
        "location.name",
        "owner.id",
        "owner.type",
        "owner.firstName",
        "owner.lastName",
    ]
    assert raw["phoneNumber"].to_list() == ["+12056350001", "", "+12026282002"]
    assert raw["extension"].to_list() == ["11", "568", None]
    assert raw["esn"].to_list() == ["123411", "1234568", None]
    assert raw["mainNumber"].to_list() == ["false", "false", "true"]
    assert raw["owner.type"].to_list() == ["PEOPLE", "PEOPLE", None]
    assert raw["location.name"].to_list() == ["Banglore", "Richardson", "Washington"]


def test_site_field_can_be_the_location_id() -> None:
    frames = read_numbers(config(SAMPLE, site_field="location.id", site_map={BANGALORE_ID: "Bangalore"}))
    assert frames.usages.select("site", "site_key").rows() == [
        (BANGALORE, BANGALORE_ID),
        (None, "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OL2M2MDliOGE1LTAxNmQtNDAwNy1hN2E0LTJhMThiZmZjY2FmNg"),
    ]


def test_site_field_that_is_no_field_is_refused() -> None:
    with pytest.raises(SourceError) as error:
        read_numbers(config(SAMPLE, site_field="location.city"))
    assert error.value.column == "location.city"


def test_number_without_location_lands_at_the_default_site() -> None:
    document = sample()
    del document["phoneNumbers"][0]["location"]
    frames = parse_numbers_page(document, "body", config(None))
    assert frames.usages.select("site", "site_key").row(0) == (CUSTOMER, "")


def test_owned_row_without_any_number_is_kept_as_a_bad_number() -> None:
    document = sample()
    document["phoneNumbers"][1].pop("extension")
    frames = parse_numbers_page(document, "body", config(None))
    assert frames.usages.select("source_row", "number_raw", "number").rows() == [
        (1, "+12056350001", "+12056350001"),
        (2, "", None),
    ]


def test_owner_without_names_is_named_by_its_id() -> None:
    document = sample()
    document["phoneNumbers"][0]["owner"] = {"id": "PLACE-ID", "type": "PLACE"}
    frames = parse_numbers_page(document, "body", config(None))
    assert frames.usages.select("device_name", "owner").row(0) == ("PLACE-ID", "PLACE-ID")


def test_pages_in_a_folder_are_one_listing(tmp_path: Path) -> None:
    document = sample()
    first, second = dict(document), {"phoneNumbers": document["phoneNumbers"][2:]}
    first["phoneNumbers"] = document["phoneNumbers"][:2]
    write_json(tmp_path, "numbers-page-1.json", first)
    write_json(tmp_path, "numbers-page-2.json", second)
    frames = read_numbers(config(tmp_path))
    assert frames.usages.select(USAGE_COLUMNS).to_dicts() == SAMPLE_USAGES
    raw = frames.raw["raw_webex_numbers"]
    assert raw["source_row"].to_list() == [1, 2, 3]
    assert raw["owner.id"].to_list() == [SADIQ, CHANDRU, None]


def test_page_parse_for_the_live_extractor_numbers_rows_in_the_listing() -> None:
    frames = parse_numbers_page(
        sample(), "https://webexapis.com/v1/telephony/config/numbers?start=2000", config(None), first_row=2001
    )
    assert frames.usages["source_row"].to_list() == [2001, 2002]


def test_empty_page_is_no_error() -> None:
    frames = parse_numbers_page({"phoneNumbers": []}, "body", config(None))
    assert frames.usages.is_empty()
    assert frames.raw["raw_webex_numbers"].is_empty()


def test_documentation_wrapper_is_not_a_response_body(tmp_path: Path) -> None:
    wrapper = {"operationId": "Get Phone Numbers", "responseExamples": [{"status": "200", "example": sample()}]}
    path = write_json(tmp_path, "wrapper.json", wrapper)
    with pytest.raises(SourceError) as error:
        read_numbers(config(path))
    assert error.value.reason == "has no 'phoneNumbers' list (its top-level keys: 'operationId', 'responseExamples')"
    assert error.value.file == str(path)


@pytest.mark.parametrize(
    ("document", "message", "row", "column"),
    [
        ([sample()], "expected a JSON object with 'phoneNumbers', found a list", None, None),
        ({"phoneNumbers": {"phoneNumber": "+1"}}, "'phoneNumbers' must be a list, found an object", None, None),
        ({"phoneNumbers": [{"phoneNumber": "+1"}, "+2"]}, "phone number is a string, not an object", 2, None),
        ({"phoneNumbers": [{"phoneNumber": "+1", "owner": "someone"}]}, "'owner' must be an object", 1, "owner"),
    ],
)
def test_wrong_shapes_are_refused(document: Any, message: str, row: int | None, column: str | None) -> None:
    with pytest.raises(SourceError) as error:
        parse_numbers_page(document, "body", config(None))
    assert message in error.value.reason
    assert (error.value.row, error.value.column) == (row, column)


# --- JSON safety (sources/jsonfile.py), through the Webex reader --------------------------------


def refusal(tmp_path: Path, content: bytes) -> SourceError:
    path = tmp_path / "numbers.json"
    path.write_bytes(content)
    with pytest.raises(SourceError) as error:
        read_numbers(config(path))
    assert error.value.file == str(path)
    return error.value


def test_invalid_json_is_refused_with_line_and_column(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'{\n  "phoneNumbers": [\n    {"phoneNumber": "+1" "extension": "2"}\n  ]\n}')
    assert error.reason == "is not valid JSON: line 3, column 26: Expecting ',' delimiter"


def test_deeply_nested_json_is_refused_not_crashed_on(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'{"phoneNumbers": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert "nested too deeply" in error.reason


def test_nesting_inside_a_record_is_refused_not_crashed_on(tmp_path: Path) -> None:
    # Shallow enough for the JSON decoder, too deep to flatten into columns.
    nested = '{"a":' * 990 + "1" + "}" * 990
    error = refusal(tmp_path, ('{"phoneNumbers": [{"phoneNumber": "+1", "x": ' + nested + "}]}").encode())
    assert "nested too deeply" in error.reason


def test_json_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    error = refusal(tmp_path, '{"phoneNumbers": [\n{"owner": {"firstName": "Jürgen"}}]}'.encode("latin-1"))
    assert error.reason == "line 2: is not UTF-8 text (JSON must be UTF-8)"


def test_empty_json_file_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path, b" \n").reason == "is empty: expected a JSON document"


def test_integer_too_long_to_convert_is_refused(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'{"phoneNumbers": [{"phoneNumber": ' + b"9" * 5000 + b"}]}")
    assert error.reason.startswith("is not a usable JSON document")


def test_lone_surrogate_escape_is_refused_with_its_record(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'{"phoneNumbers": [{"phoneNumber": "+1"}, {"phoneNumber": "\\ud800"}]}')
    assert error.row == 2
    assert "not valid Unicode" in error.reason


def test_utf8_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "numbers.json"
    path.write_bytes(b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    assert read_numbers(config(path)).usages.select(USAGE_COLUMNS).to_dicts() == SAMPLE_USAGES


def test_duplicate_keys_keep_the_last_value_as_python_json_does() -> None:
    text = (
        '{"phoneNumbers": [{"phoneNumber": "+1111", "phoneNumber": "+2222", "owner": {"id": "X"}, '
        '"location": {"name": "Banglore"}}]}'
    )
    frames = parse_numbers_page(parse_json(text, "body"), "body", config(None))
    assert frames.usages["number"].to_list() == ["+2222"]
