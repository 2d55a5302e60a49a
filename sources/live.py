"""Live extraction: the file readers' page parsers over HTTP responses.

Kinds (each reads what its file kind reads, straight from the platform's API):
- `teams_graph_live`: Microsoft Graph `GET .../admin/teams/telephoneNumberManagement/numberAssignments`,
  following `@odata.nextLink` until a page has none; bearer token.
- `webex_numbers_live`: Webex `GET .../telephony/config/numbers` paged with `start`/`max`
  (`options.page_size`, default 1000) until a page holds fewer than `max` numbers; bearer token.
- `unity_cupi_live`: CUPI `GET .../vmrest/handlers/callhandlers` paged with
  `rowsPerPage`/`pageNumber` (from 1) until the list's `@total` (`total` in XML) is read
  (without a total, until a page holds fewer than `rowsPerPage`);
  basic auth.
- `cucm_axl_sql_live`: one AXL `executeSQLQuery` POST of `sources/cucm_numbers.sql`
  (`options.axl_version`, default 12.5); basic auth.

Options: `url` (the API base, e.g. `https://graph.microsoft.com/v1.0`,
`https://webexapis.com/v1`, `https://cuc.example.com`, `https://cucm.example.com:8443`; the
endpoint path is appended unless the URL already ends with it), `params` (extra query
parameters, e.g. Webex `orgId`), `timeout_seconds` (default 60), `verify` (false, or a CA
bundle file, for a platform with a private certificate).

Credentials never come from the estate file: `token_env` names the environment variable
holding a bearer token; `username_env`/`password_env` the variables of basic auth. Or
`secret_block` names a Prefect `Secret` block (loaded only when named) holding the token, or
for basic auth `{"username": ..., "password": ...}` or `"username:password"`.

Requests are tried up to 3 times with a short exponential backoff on connection errors,
429 (waiting `Retry-After` seconds, capped) and 5xx; any other error status fails at once.
A failure on any page fails the whole source (SourceError naming the URL and the status):
a half-read listing would make the numbers of the missing pages look free.
"""

from __future__ import annotations

import base64
import os
import re
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import httpx

from sources.base import Reader, SourceConfig, SourceError, SourceFrames
from sources.cucm_axl import SQL_RESPONSE, parse_axl_response
from sources.jsonfile import concat_pages, parse_json
from sources.teams import RAW_GRAPH_NUMBER_ASSIGNMENTS, graph_next_link, parse_graph_page
from sources.unity import parse_callhandlers
from sources.webex import RAW_NUMBERS, parse_numbers_page
from sources.xmlfile import parse_xml

GRAPH_PATH = "/admin/teams/telephoneNumberManagement/numberAssignments"
WEBEX_PATH = "/telephony/config/numbers"
CUPI_PATH = "/vmrest/handlers/callhandlers"
AXL_PATH = "/axl/"
RAW_CALLHANDLER = "raw_unity_callhandler"
SQL_FILE = Path(__file__).with_name("cucm_numbers.sql")

ATTEMPTS = 3
BACKOFF_SECONDS = 0.5  # then 1 s: doubles per retry
RETRY_AFTER_CAP_SECONDS = 30.0
MAX_PAGES = 10_000  # a listing longer than this is a paging loop, not a tenant
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_WEBEX_PAGE_SIZE = 1000
DEFAULT_CUPI_PAGE_SIZE = 500
DEFAULT_AXL_VERSION = "12.5"

sleep: Callable[[float], None] = time.sleep  # tests replace it to run without waiting


# --- readers ---------------------------------------------------------------------------------


def fetch_graph_number_assignments(config: SourceConfig) -> SourceFrames:
    url = _endpoint(config, GRAPH_PATH)
    extracted_at = _now()
    headers = {"Authorization": f"Bearer {_bearer_token(config)}", "Accept": "application/json"}
    pages: list[SourceFrames] = []
    seen: set[str] = set()
    next_row = 1
    params: Mapping[str, Any] | None = _params(config)
    next_url: str | None = url
    with _client(config) as client:
        while next_url is not None:
            _check_page(next_url, url, seen, config)
            body = _request(client, "GET", next_url, headers=headers, params=params)
            document = parse_json(body, next_url)
            page = parse_graph_page(document, next_url, config, first_row=next_row, extracted_at=extracted_at)
            next_row += page.raw[RAW_GRAPH_NUMBER_ASSIGNMENTS].height
            pages.append(page)
            next_url = graph_next_link(document)
            params = None  # a nextLink carries every query parameter itself
    return concat_pages(pages)


def fetch_webex_numbers(config: SourceConfig) -> SourceFrames:
    url = _endpoint(config, WEBEX_PATH)
    extracted_at = _now()
    size = _positive_int(config, "page_size", DEFAULT_WEBEX_PAGE_SIZE)
    headers = {"Authorization": f"Bearer {_bearer_token(config)}", "Accept": "application/json"}
    pages: list[SourceFrames] = []
    start = 0
    with _client(config) as client:
        for _ in range(MAX_PAGES):
            params = {**_params(config), "start": start, "max": size}
            body = _request(client, "GET", url, headers=headers, params=params)
            page = parse_numbers_page(
                parse_json(body, url), url, config, first_row=start + 1, extracted_at=extracted_at
            )
            pages.append(page)
            count = page.raw[RAW_NUMBERS].height
            if count < size:
                return concat_pages(pages)
            start += count
    raise SourceError(url, f"still returns full pages after {MAX_PAGES} pages: is the server ignoring `start`?")


def fetch_cupi_callhandlers(config: SourceConfig) -> SourceFrames:
    url = _endpoint(config, CUPI_PATH)
    extracted_at = _now()
    size = _positive_int(config, "page_size", DEFAULT_CUPI_PAGE_SIZE)
    headers = {"Authorization": _basic_auth(config), "Accept": "application/json"}
    pages: list[SourceFrames] = []
    read = 0
    with _client(config) as client:
        for number in range(1, MAX_PAGES + 1):
            params = {**_params(config), "rowsPerPage": size, "pageNumber": number}
            body = _request(client, "GET", url, headers=headers, params=params)
            page = parse_callhandlers(body, url, config, extracted_at=extracted_at, first_record=read + 1)
            pages.append(page)
            count = page.raw[RAW_CALLHANDLER].height
            read += count
            total = _cupi_total(body, url)
            if (total is None and count < size) or (total is not None and read >= total):
                return concat_pages(pages)  # without a total, a short page is the last one
            if count == 0:
                raise SourceError(
                    url, f"page {number} holds no call handler but only {read} of the {total} the list counts were read"
                )
    raise SourceError(url, f"still not at the list's total after {MAX_PAGES} pages: is it ignoring `pageNumber`?")


def fetch_axl_sql(config: SourceConfig) -> SourceFrames:
    url = _endpoint(config, AXL_PATH)
    version = str(config.options.get("axl_version", DEFAULT_AXL_VERSION))
    headers = {
        "Authorization": _basic_auth(config),
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"CUCM:DB ver={version} executeSQLQuery"',
    }
    with _client(config) as client:
        body = _request(client, "POST", url, headers=headers, content=axl_sql_envelope(version).encode())
    return parse_axl_response(body, url, config, extracted_at=_now(), accepted={SQL_RESPONSE})


def axl_sql_envelope(version: str, sql: str | None = None) -> str:
    """The SOAP `executeSQLQuery` request of `sql` (default: numaudit's numbers query)."""
    query = sql if sql is not None else numbers_sql()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns="http://www.cisco.com/AXL/API/{escape(version)}">'
        "<soapenv:Header/><soapenv:Body><ns:executeSQLQuery>"
        f"<sql>{escape(query)}</sql>"
        "</ns:executeSQLQuery></soapenv:Body></soapenv:Envelope>"
    )


def numbers_sql() -> str:
    """`cucm_numbers.sql` without its comments, on one line."""
    lines = (line.split("--", 1)[0].strip() for line in SQL_FILE.read_text(encoding="utf-8").splitlines())
    return " ".join(line for line in lines if line)


# --- HTTP ------------------------------------------------------------------------------------


def _client(config: SourceConfig) -> httpx.Client:
    timeout = float(config.options.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
    verify: bool | ssl.SSLContext = True
    option = config.options.get("verify", True)
    if option is False:
        verify = False
    elif isinstance(option, str):
        verify = ssl.create_default_context(cafile=option)
    return httpx.Client(timeout=timeout, verify=verify, follow_redirects=False)


def _request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    content: bytes | None = None,
) -> bytes:
    """The body of a 2xx response, retried on connection errors, 429 and 5xx."""
    for attempt in range(1, ATTEMPTS + 1):
        last = attempt == ATTEMPTS
        delay = BACKOFF_SECONDS * 2 ** (attempt - 1)
        try:
            response = client.request(method, url, headers=headers, params=params, content=content)
        except httpx.TransportError as error:
            if last:
                raise SourceError(url, f"cannot be reached after {ATTEMPTS} attempts: {error!r}") from error
            sleep(delay)
            continue
        status = response.status_code
        if 200 <= status < 300:
            return response.content
        retryable = status == 429 or status >= 500
        if not retryable or last:
            tries = f" after {ATTEMPTS} attempts" if retryable else ""
            raise SourceError(url, f"HTTP {status} {response.reason_phrase}{tries}{_detail(response)}")
        if status == 429:
            delay = _retry_after(response.headers.get("Retry-After"), delay)
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(value: str | None, default: float) -> float:
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return default  # an HTTP date, or nothing (or `²`, a digit float() refuses): the usual backoff
    return min(float(value.strip()), RETRY_AFTER_CAP_SECONDS)


def _detail(response: httpx.Response) -> str:
    """What the server said went wrong (a SOAP fault string, a JSON message), briefly."""
    text = response.text[:4000]
    match = re.search(r"<faultstring[^>]*>([^<]{1,300})</faultstring>", text) or re.search(
        r'"(?:message|errorMessage)"\s*:\s*"([^"]{1,300})"', text
    )
    return f": {match.group(1).strip()}" if match else ""


def _endpoint(config: SourceConfig, path: str) -> str:
    url = config.options.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SourceError(f"source {config.name!r}", f"kind {config.kind!r} needs `options.url`, the API's address")
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise SourceError(f"source {config.name!r}", f"options.url {url!r} is not an http(s) address")
    if urlsplit(url).path.rstrip("/").endswith(path.rstrip("/")):
        return url
    return url.rstrip("/") + path


def _params(config: SourceConfig) -> dict[str, Any]:
    params = config.options.get("params", {})
    if not isinstance(params, Mapping):
        raise SourceError(f"source {config.name!r}", "options.params must be a table of query parameters")
    return dict(params)


def _positive_int(config: SourceConfig, key: str, default: int) -> int:
    value = config.options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SourceError(f"source {config.name!r}", f"options.{key} must be a whole number of at least 1")
    return value


def _check_page(url: str, first: str, seen: set[str], config: SourceConfig) -> None:
    """A next page must be on the server the token was meant for, and never repeat."""
    if (urlsplit(url).scheme, urlsplit(url).netloc) != (urlsplit(first).scheme, urlsplit(first).netloc):
        raise SourceError(first, f"a page links to {url!r}, another server: the token is not sent there")
    if url in seen:
        raise SourceError(url, "is linked to a second time: the listing loops")
    if len(seen) >= MAX_PAGES:
        raise SourceError(first, f"has more than {MAX_PAGES} pages: the listing loops")
    seen.add(url)


def _cupi_total(body: bytes, origin: str) -> int | None:
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        value: Any = parse_xml(body, origin).get("total", "")
    else:
        document = parse_json(body, origin)
        value = document.get("@total", "") if isinstance(document, dict) else ""
    text = str(value).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):  # str.isdigit() alone accepts `²`, which int() refuses
        raise SourceError(origin, f"the total {text!r} is not a count", column="@total")
    return int(text)


# --- credentials -----------------------------------------------------------------------------


def _bearer_token(config: SourceConfig) -> str:
    block = config.options.get("secret_block")
    if block:
        value = _secret(config, str(block))
        if not isinstance(value, str) or not value.strip():
            raise SourceError(f"source {config.name!r}", f"Prefect Secret block {block!r} must hold the bearer token")
        return value.strip()
    return _env(config, "token_env", "the bearer token")


def _basic_auth(config: SourceConfig) -> str:
    block = config.options.get("secret_block")
    if block:
        value = _secret(config, str(block))
        if (
            isinstance(value, Mapping)
            and isinstance(value.get("username"), str)
            and isinstance(value.get("password"), str)
        ):
            username, password = value["username"], value["password"]
        elif isinstance(value, str) and ":" in value:
            username, password = value.split(":", 1)
        else:
            raise SourceError(
                f"source {config.name!r}",
                f'Prefect Secret block {block!r} must hold {{"username": ..., "password": ...}} or "username:password"',
            )
    else:
        username = _env(config, "username_env", "the user name")
        password = _env(config, "password_env", "the password")
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _env(config: SourceConfig, key: str, what: str) -> str:
    where = f"source {config.name!r}"
    variable = config.options.get(key)
    if not isinstance(variable, str) or not variable:
        raise SourceError(
            where, f"set options.{key} to the name of the environment variable holding {what} (or options.secret_block)"
        )
    value = os.environ.get(variable, "")
    if not value:
        raise SourceError(where, f"environment variable {variable} is not set: set it to {what} ({key})")
    return value


def _secret(config: SourceConfig, name: str) -> Any:
    try:
        from prefect.blocks.system import Secret
    except ImportError as error:
        raise SourceError(f"source {config.name!r}", "options.secret_block needs Prefect installed") from error
    try:
        return Secret.load(name).get()  # type: ignore[union-attr]
    except Exception as error:  # Prefect raises its own errors for a missing block or an unreachable API
        raise SourceError(
            f"source {config.name!r}", f"Prefect Secret block {name!r} cannot be loaded: {error}"
        ) from error


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


LIVE_KINDS = frozenset({"teams_graph_live", "webex_numbers_live", "unity_cupi_live", "cucm_axl_sql_live"})

READERS: dict[str, Reader] = {
    "teams_graph_live": fetch_graph_number_assignments,
    "webex_numbers_live": fetch_webex_numbers,
    "unity_cupi_live": fetch_cupi_callhandlers,
    "cucm_axl_sql_live": fetch_axl_sql,
}
