"""Live extraction against a local HTTP server (127.0.0.1 only) serving the recorded samples page by page."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sources import live
from sources.base import SourceConfig, SourceError, SourceFrames
from sources.cucm_axl import read_cucm_axl_sql
from sources.registry import READERS
from sources.teams import read_graph_number_assignments
from sources.unity import read_unity_callhandlers
from sources.webex import read_numbers

FORMATS = Path(__file__).parents[1] / "fixtures" / "formats"
GRAPH = FORMATS / "teams" / "graph-pages.made-by-numaudit"  # page-1.json links to page-2.json
WEBEX = FORMATS / "webex" / "telephony-config-numbers.response.json"
CUPI = FORMATS / "unity" / "cupi_callhandlers_list.repaired.json"
AXL = FORMATS / "cucm" / "axl_executeSQLQuery_cucm_numbers.variant.response.xml"

CUSTOMER = "sys.prov.Acme"
NODES = frozenset({CUSTOMER, f"{CUSTOMER}.Omaha", f"{CUSTOMER}.London", f"{CUSTOMER}.Paris"})
TOKEN = "test-token-not-a-secret"

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    url: str
    routes: dict[str, Callable[[Request], Reply]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            server.requests.append(request)
            route = server.routes.get(parts.path)
            status, headers, body = route(request) if route else (404, {}, b"not found")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(live, "sleep", lambda seconds: None)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Server(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch, server: Server) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(live, "sleep", waited.append)
    return waited


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMAUDIT_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("NUMAUDIT_TEST_USER", "axluser")
    monkeypatch.setenv("NUMAUDIT_TEST_PASSWORD", "pa:ss")


def config(kind: str, url: str | None, path: Path | None = None, **options: Any) -> SourceConfig:
    if url is not None:
        options = {"url": url, **options}
    if kind in ("teams_graph_live", "webex_numbers_live"):
        options.setdefault("token_env", "NUMAUDIT_TEST_TOKEN")
    else:
        options.setdefault("username_env", "NUMAUDIT_TEST_USER")
        options.setdefault("password_env", "NUMAUDIT_TEST_PASSWORD")
    return SourceConfig(
        name="live",
        kind=kind,
        customer=CUSTOMER,
        path=path,
        cluster="CL1",
        site_map={"407c17ae-8c41-431e-894a-38787c682f68": "Omaha", "DP_London": "London", "DP_Paris": "Paris"},
        known_nodes=NODES,
        options=options,
    )


def json_reply(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document).encode()


def assert_same(live_frames: SourceFrames, file_frames: SourceFrames) -> None:
    """Same numbers, usages and raw records; lineage differs only in location and time."""
    assert live_frames.usages.equals(file_frames.usages)
    assert live_frames.vendor_numbers.equals(file_frames.vendor_numbers)
    assert live_frames.e164.equals(file_frames.e164)
    assert set(live_frames.raw) == set(file_frames.raw)
    for name, frame in file_frames.raw.items():
        drop = ["source_file", "extracted_at"]
        assert live_frames.raw[name].drop(drop).equals(frame.drop(drop).select(live_frames.raw[name].drop(drop).columns))
    assert not live_frames.usages.is_empty()


GRAPH_PATH = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments"


def graph_pages(server: Server) -> dict[str, Any]:
    """The recorded pages, page 1's nextLink pointed at the test server."""
    first = json.loads((GRAPH / "page-1.json").read_text(encoding="utf-8"))
    first["@odata.nextLink"] = f"{server.url}{GRAPH_PATH}?$skiptoken=p2"
    return {"first": first, "second": json.loads((GRAPH / "page-2.json").read_text(encoding="utf-8"))}


def serve_graph(server: Server, second: Callable[[], Reply] | None = None) -> None:
    pages = graph_pages(server)

    def route(request: Request) -> Reply:
        if "$skiptoken" in request.query:
            return second() if second else json_reply(pages["second"])
        return json_reply(pages["first"])

    server.routes[GRAPH_PATH] = route


# --- equal to the file readers ---------------------------------------------------------------


def test_graph_follows_next_link_and_matches_the_file_reader(server: Server) -> None:
    serve_graph(server)
    frames = READERS["teams_graph_live"](config("teams_graph_live", f"{server.url}/v1.0"))
    assert_same(frames, read_graph_number_assignments(config("teams_graph_live", None, GRAPH)))
    assert server.paths() == [GRAPH_PATH, GRAPH_PATH]
    assert [r.query for r in server.requests] == [{}, {"$skiptoken": ["p2"]}]
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {TOKEN}"}
    assert frames.raw["raw_teams_graph_number_assignments"]["source_file"].unique().to_list() == [
        f"{server.url}/v1.0"
    ]


def test_webex_pages_with_start_and_max(server: Server) -> None:
    numbers = json.loads(WEBEX.read_text(encoding="utf-8"))["phoneNumbers"]

    def route(request: Request) -> Reply:
        start, size = int(request.query["start"][0]), int(request.query["max"][0])
        return json_reply({"phoneNumbers": numbers[start : start + size]})

    server.routes["/v1/telephony/config/numbers"] = route
    frames = live.fetch_webex_numbers(
        config("webex_numbers_live", f"{server.url}/v1", page_size=2, params={"orgId": "org-1"})
    )
    assert_same(frames, read_numbers(config("webex_numbers_live", None, WEBEX)))
    assert [r.query for r in server.requests] == [
        {"orgId": ["org-1"], "start": ["0"], "max": ["2"]},
        {"orgId": ["org-1"], "start": ["2"], "max": ["2"]},
    ]
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_cupi_pages_with_rows_per_page_until_the_total(server: Server) -> None:
    document = json.loads(CUPI.read_text(encoding="utf-8"))
    handlers = document["Callhandler"]

    def route(request: Request) -> Reply:
        size, number = int(request.query["rowsPerPage"][0]), int(request.query["pageNumber"][0])
        page = handlers[(number - 1) * size : number * size]
        return json_reply({"@total": str(len(handlers)), "Callhandler": page})

    server.routes["/vmrest/handlers/callhandlers"] = route
    frames = live.fetch_cupi_callhandlers(config("unity_cupi_live", server.url, page_size=1))
    assert_same(frames, read_unity_callhandlers(config("unity_cupi_live", None, CUPI)))
    assert [(r.query["rowsPerPage"], r.query["pageNumber"]) for r in server.requests] == [
        (["1"], ["1"]),
        (["1"], ["2"]),
    ]
    expected = "Basic " + base64.b64encode(b"axluser:pa:ss").decode()
    assert {r.headers["authorization"] for r in server.requests} == {expected}


def test_cupi_page_short_of_the_total_fails(server: Server) -> None:
    handler = json.loads(CUPI.read_text(encoding="utf-8"))["Callhandler"][0]

    def route(request: Request) -> Reply:
        page = [handler] if request.query["pageNumber"] == ["1"] else []
        return json_reply({"@total": "3", "Callhandler": page})

    server.routes["/vmrest/handlers/callhandlers"] = route
    with pytest.raises(SourceError, match="callhandlers: says there are 3 items but holds no Callhandler"):
        live.fetch_cupi_callhandlers(config("unity_cupi_live", server.url, page_size=1))
    assert len(server.requests) == 2


def test_cupi_total_that_is_no_count_is_refused(server: Server) -> None:
    server.routes["/vmrest/handlers/callhandlers"] = lambda request: json_reply({"@total": "²", "Callhandler": []})
    with pytest.raises(SourceError, match="the total '²' is not a count"):
        live.fetch_cupi_callhandlers(config("unity_cupi_live", server.url, page_size=1))


def test_axl_posts_the_numbers_query(server: Server) -> None:
    server.routes["/axl/"] = lambda request: (200, {"Content-Type": "text/xml"}, AXL.read_bytes())
    frames = live.fetch_axl_sql(config("cucm_axl_sql_live", server.url, axl_version="14.0"))
    assert_same(frames, read_cucm_axl_sql(config("cucm_axl_sql_live", None, AXL)))
    (request,) = server.requests
    assert request.method == "POST"
    assert request.headers["soapaction"] == '"CUCM:DB ver=14.0 executeSQLQuery"'
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"axluser:pa:ss").decode()
    body = request.body.decode()
    assert "http://www.cisco.com/AXL/API/14.0" in body
    assert "<ns:executeSQLQuery><sql>select np.dnorpattern," in body
    assert "--" not in body and "order by np.dnorpattern, rp.name, d.name</sql>" in body


# --- retries and failures --------------------------------------------------------------------


def test_503_then_200_is_retried(server: Server, sleeps: list[float]) -> None:
    replies = iter([(503, {}, b"busy"), json_reply({"value": []})])
    server.routes[GRAPH_PATH] = lambda request: next(replies)
    frames = live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert frames.raw["raw_teams_graph_number_assignments"].is_empty()
    assert len(server.requests) == 2
    assert sleeps == [live.BACKOFF_SECONDS]


def test_429_honours_retry_after(server: Server, sleeps: list[float]) -> None:
    replies = iter([(429, {"Retry-After": "0"}, b""), (429, {"Retry-After": "3600"}, b""), json_reply({"value": []})])
    server.routes[GRAPH_PATH] = lambda request: next(replies)
    live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert len(server.requests) == 3
    assert sleeps == [0.0, live.RETRY_AFTER_CAP_SECONDS]


def test_retry_after_of_superscript_digits_is_the_usual_backoff(server: Server, sleeps: list[float]) -> None:
    # `²` is a digit to str.isdigit() and no number to float(): it must not crash the extraction.
    replies = iter([(429, {"Retry-After": "²"}, b""), json_reply({"value": []})])
    server.routes[GRAPH_PATH] = lambda request: next(replies)
    live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert sleeps == [live.BACKOFF_SECONDS]


def test_persistent_500_fails_naming_url_and_status(server: Server, sleeps: list[float]) -> None:
    server.routes[GRAPH_PATH] = lambda request: json_reply({"error": {"message": "boom"}}, status=500)
    with pytest.raises(SourceError, match=r"numberAssignments: HTTP 500 Internal Server Error after 3 attempts: boom"):
        live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert len(server.requests) == live.ATTEMPTS == 3
    assert sleeps == [0.5, 1.0]


def test_a_failing_later_page_fails_the_whole_source(server: Server) -> None:
    serve_graph(server, second=lambda: (500, {}, b""))
    with pytest.raises(SourceError, match=r"127\.0\.0\.1.*skiptoken=p2: HTTP 500"):
        live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert len(server.requests) == 1 + live.ATTEMPTS


@pytest.mark.parametrize("status", [401, 403, 404])
def test_client_errors_fail_at_once(server: Server, status: int) -> None:
    server.routes[GRAPH_PATH] = lambda request: json_reply({}, status=status)
    with pytest.raises(SourceError, match=f"{server.url}{GRAPH_PATH}: HTTP {status}"):
        live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert len(server.requests) == 1


def test_axl_soap_fault_is_reported(server: Server) -> None:
    fault = (FORMATS / "cucm" / "axl_soap_fault.variant.response.xml").read_bytes()
    server.routes["/axl/"] = lambda request: (500, {"Content-Type": "text/xml"}, fault)
    with pytest.raises(SourceError, match=r"HTTP 500 .*The specified Phone was not found"):
        live.fetch_axl_sql(config("cucm_axl_sql_live", server.url))


def test_connection_refused_fails_after_retries(sleeps: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError, match=f"127.0.0.1:{port}.*cannot be reached after 3 attempts"):
        live.fetch_graph_number_assignments(config("teams_graph_live", f"http://127.0.0.1:{port}/v1.0"))
    assert len(sleeps) == 2


def test_next_link_to_another_server_is_refused(server: Server) -> None:
    server.routes[GRAPH_PATH] = lambda request: json_reply(
        {"value": [], "@odata.nextLink": "http://localhost:1/elsewhere"}
    )
    with pytest.raises(SourceError, match="another server"):
        live.fetch_graph_number_assignments(config("teams_graph_live", f"{server.url}/v1.0"))
    assert len(server.requests) == 1


# --- credentials -----------------------------------------------------------------------------


def test_missing_token_variable_says_which_to_set(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMAUDIT_TEST_TOKEN")
    with pytest.raises(SourceError, match="environment variable NUMAUDIT_TEST_TOKEN is not set"):
        live.fetch_webex_numbers(config("webex_numbers_live", server.url))
    assert server.requests == []


def test_missing_token_option_says_what_to_set(server: Server) -> None:
    with pytest.raises(SourceError, match=r"set options\.token_env"):
        live.fetch_graph_number_assignments(config("teams_graph_live", server.url, token_env=""))


def test_missing_password_variable(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMAUDIT_TEST_PASSWORD")
    with pytest.raises(SourceError, match="NUMAUDIT_TEST_PASSWORD is not set"):
        live.fetch_axl_sql(config("cucm_axl_sql_live", server.url))


def test_secret_block_is_loaded_only_when_named(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []

    def fake_secret(config: SourceConfig, name: str) -> Any:
        loaded.append(name)
        return {"username": "blockuser", "password": "blockpass"}

    monkeypatch.setattr(live, "_secret", fake_secret)
    server.routes["/axl/"] = lambda request: (200, {}, AXL.read_bytes())
    live.fetch_axl_sql(config("cucm_axl_sql_live", server.url))
    assert loaded == []
    live.fetch_axl_sql(config("cucm_axl_sql_live", server.url, secret_block="cucm-axl"))
    assert loaded == ["cucm-axl"]
    assert server.requests[-1].headers["authorization"] == "Basic " + base64.b64encode(b"blockuser:blockpass").decode()


def test_url_is_required() -> None:
    with pytest.raises(SourceError, match=r"needs `options\.url`"):
        live.fetch_graph_number_assignments(config("teams_graph_live", None))


def test_kinds_are_registered() -> None:
    assert set(READERS) >= live.LIVE_KINDS


def test_cupi_without_a_total_reads_until_a_short_page(server: Server) -> None:
    handlers = json.loads(CUPI.read_text(encoding="utf-8"))["Callhandler"]

    def route(request: Request) -> Reply:
        number = int(request.query["pageNumber"][0])
        return json_reply({"Callhandler": handlers[number - 1 : number]})

    server.routes["/vmrest/handlers/callhandlers"] = route
    frames = live.fetch_cupi_callhandlers(config("unity_cupi_live", server.url, page_size=1))
    assert frames.raw["raw_unity_callhandler"].height == len(handlers)
    assert [r.query["pageNumber"] for r in server.requests] == [["1"], ["2"], ["3"]]
