"""Behaviour of the audit rules (SPEC 3, 4.2–4.6, 4.9) on small hand-made estates.

One test per rule, named after it. Every test asserts exact values of the entries the audit
writes (status, usage, vendor, number_type, e164, release_date), of the change log and of
the exceptions, so that a wrong rule fails it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from tests.factories import (
    AS_OF,
    CUSTOMER,
    LONDON,
    NOW,
    PARIS,
    by_key,
    e164_links,
    entries,
    inputs,
    merged,
    params,
    usages,
    vendor_numbers,
)
from transforms.audit import RESOLUTIONS, AuditResult, audit

RESELLER = "sys.prov"  # above the customer on every site's path
EMEA = f"{CUSTOMER}.EMEA"  # an intermediate node between the customer and a site
EMEA_LONDON = f"{EMEA}.London"

MANAGED = ("status", "usage", "vendor", "number_type", "e164", "release_date")


def run(
    entry_rows: list[dict[str, Any]] | None = None,
    usage_rows: list[dict[str, Any]] | None = None,
    vendor_rows: list[dict[str, Any]] | None = None,
    e164_rows: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> AuditResult:
    return audit(
        inputs(
            entries(*(entry_rows or [])),
            usages(*(usage_rows or [])),
            vendor_numbers(*(vendor_rows or [])),
            e164_links(*(e164_rows or [])),
        ),
        params(**overrides),
    )


def managed(result: AuditResult, number: str, hierarchy: str) -> dict[str, Any]:
    """The managed fields of the one written row for (number, hierarchy)."""
    rows = result.written.filter((pl.col("number") == number) & (pl.col("hierarchy") == hierarchy))
    assert rows.height == 1, f"expected one written row for {number} at {hierarchy}, got {result.written}"
    return {c: rows.row(0, named=True)[c] for c in MANAGED}


def entry(
    status: str,
    usage: str = "",
    vendor: str = "",
    number_type: str = "",
    e164: str = "",
    release_date: date | None = None,
) -> dict[str, Any]:
    return dict(status=status, usage=usage, vendor=vendor, number_type=number_type, e164=e164, release_date=release_date)


def keys(result: AuditResult) -> set[tuple[str, str]]:
    return set(zip(result.written["number"], result.written["hierarchy"], strict=True))


def change_of(result: AuditResult, number: str, hierarchy: str) -> str:
    rows = result.changes.filter((pl.col("number") == number) & (pl.col("hierarchy") == hierarchy))
    assert rows.height == 1, result.changes
    return rows["change"][0]


def exceptions(result: AuditResult) -> list[tuple[str, str, str]]:
    return sorted(zip(result.exceptions["kind"], result.exceptions["number"], result.exceptions["hierarchy"], strict=True))


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


# --- 4.2 Where each usage lands ------------------------------------------------------------


def test_4_2_site_mode_adds_entry_at_site() -> None:
    result = run(usage_rows=[dict(number="1001", site=LONDON)], mode="site", sites=(LONDON,))

    assert keys(result) == {("1001", LONDON)}
    assert managed(result, "1001", LONDON) == entry("Used", "Device")
    assert change_of(result, "1001", LONDON) == "added"
    assert result.exceptions.is_empty()


def test_4_2_site_mode_updates_entry_at_site() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Available")],
        usage_rows=[dict(number="1001", site=LONDON)],
        mode="site",
        sites=(LONDON,),
    )

    assert keys(result) == {("1001", LONDON)}
    assert managed(result, "1001", LONDON) == entry("Used", "Device")
    assert change_of(result, "1001", LONDON) == "updated"


def test_4_2_site_mode_ancestor_entry_is_exception_not_second_entry() -> None:
    for holder in (CUSTOMER, RESELLER):
        result = run(
            entry_rows=[dict(number="1001", hierarchy=holder, status="Available")],
            usage_rows=[dict(number="1001", site=LONDON)],
            mode="site",
            sites=(LONDON,),
        )

        assert result.written.is_empty(), holder
        assert result.changes.is_empty()
        assert exceptions(result) == [("ancestor_entry", "1001", LONDON)]
        assert holder in result.exceptions["detail"][0]
        assert result.exceptions["resolution"][0] == "move the entry or audit in customer mode"


def test_4_2_customer_mode_updates_nearest_entry_between_site_and_customer() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=EMEA, status="Available")],
        usage_rows=[dict(number="1001", site=EMEA_LONDON)],
    )

    assert keys(result) == {("1001", EMEA)}  # not added at the site nor at the customer
    assert managed(result, "1001", EMEA) == entry("Used", "Device")
    assert change_of(result, "1001", EMEA) == "updated"
    assert result.exceptions.is_empty()


def test_4_2_customer_mode_updates_entry_at_site() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=EMEA_LONDON, status="Reserved")],
        usage_rows=[dict(number="1001", site=EMEA_LONDON, device_type="device/cucm/HuntPilot")],
    )

    assert keys(result) == {("1001", EMEA_LONDON)}
    assert managed(result, "1001", EMEA_LONDON) == entry("Used-Utility", "Hunt_Pilot")


def test_4_2_customer_mode_adds_at_customer() -> None:
    result = run(usage_rows=[dict(number="1001", site=LONDON), dict(number="1001", site=PARIS)])

    assert keys(result) == {("1001", CUSTOMER)}  # one entry for both sites, at the customer
    assert managed(result, "1001", CUSTOMER) == entry("Used", "Device")
    assert change_of(result, "1001", CUSTOMER) == "added"
    assert result.exceptions.is_empty()


def test_4_2_customer_level_service_lands_at_customer() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=CUSTOMER, status="Available")],
        usage_rows=[
            dict(number="1001", site=CUSTOMER, device_type="device/cucm/HuntPilot"),
            dict(number="1002", site=CUSTOMER, device_type="device/cucm/VoicemailPilot"),
        ],
    )

    assert keys(result) == {("1001", CUSTOMER), ("1002", CUSTOMER)}
    assert managed(result, "1001", CUSTOMER) == entry("Used-Utility", "Hunt_Pilot")
    assert managed(result, "1002", CUSTOMER) == entry("Used-Utility", "Voicemail_Pilot")
    assert change_of(result, "1001", CUSTOMER) == "updated"
    assert change_of(result, "1002", CUSTOMER) == "added"


def test_4_2_site_mode_ignores_customer_level_services() -> None:
    result = run(
        entry_rows=[
            dict(number="1001", hierarchy=CUSTOMER, status="Available"),
            dict(number="1003", hierarchy=CUSTOMER, status="Used", usage="Hunt_Pilot"),
        ],
        usage_rows=[
            dict(number="1001", site=CUSTOMER, device_type="device/cucm/HuntPilot"),
            dict(number="1002", site=CUSTOMER, device_type="device/cucm/HuntPilot"),
        ],
        vendor_rows=[dict(number="1004")],  # a Teams number with no site lands at the customer
        mode="site",
        sites=(LONDON,),
    )

    assert result.written.is_empty()
    assert result.changes.is_empty()
    assert result.usage_links.is_empty()
    assert result.exceptions.is_empty()


def test_4_2_entries_outside_scope_never_touched() -> None:
    outside = [
        dict(number="1001", hierarchy=PARIS, status="Used", usage="Device"),  # freed if audited
        dict(number="1002", hierarchy=CUSTOMER, status="Used", usage="Device"),
        dict(number="1003", hierarchy=RESELLER, status="Cooling", release_date=day(-1)),
    ]
    used_at_london = [dict(number=n, site=LONDON) for n in ("1001", "1002", "1003")]
    site_mode = run(entry_rows=outside, usage_rows=used_at_london, mode="site", sites=(LONDON,))

    assert not {k for k in keys(site_mode) if k[1] != LONDON}
    # 1001 is held at Paris (another path): London gets its own entry.
    assert keys(site_mode) == {("1001", LONDON)}
    assert exceptions(site_mode) == [("ancestor_entry", "1002", LONDON), ("ancestor_entry", "1003", LONDON)]

    customer_mode = run(entry_rows=outside[2:], usage_rows=[dict(number="9999", site=LONDON)])
    assert keys(customer_mode) == {("9999", CUSTOMER)}  # the reseller's cooled-out entry is not released


def test_4_2_customer_mode_entry_at_other_site_is_used_and_reported() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=PARIS, status="Available", tag="desk 4")],
        usage_rows=[dict(number="1001", site=LONDON)],
    )

    assert keys(result) == {("1001", PARIS)}  # no entry added at London or at the customer
    assert managed(result, "1001", PARIS) == entry("Used", "Device")
    assert result.written["tag"][0] == "desk 4"
    assert exceptions(result) == [("entry_at_other_site", "1001", PARIS)]
    assert result.exceptions["resolution"][0] == RESOLUTIONS["entry_at_other_site"]


def test_4_2_customer_mode_used_entry_at_other_site_is_not_freed() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=PARIS, status="Used", usage="Device")],
        usage_rows=[dict(number="1001", site=LONDON)],
        cooling_enabled=True,
    )

    assert result.written.is_empty()
    assert exceptions(result) == [("entry_at_other_site", "1001", PARIS)]


def test_4_2_customer_mode_entry_above_customer_is_ancestor_entry() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=RESELLER, status="Available")],
        usage_rows=[dict(number="1001", site=LONDON)],
    )

    assert result.written.is_empty()
    assert exceptions(result) == [("ancestor_entry", "1001", LONDON)]
    assert RESELLER in result.exceptions["detail"][0]


# --- 4.3 Status rules --------------------------------------------------------------------


def test_4_3_rule_1_usage_makes_reserved_entry_used() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Reserved", tag="for the CEO", reservation_notes="n")],
        usage_rows=[dict(number="1001", site=LONDON, device_type="device/msteamsonline/CsOnlineUser", number_type="Direct Routing")],
    )

    assert managed(result, "1001", LONDON) == entry("Used", "User", "Microsoft", "Direct Routing")
    assert result.written.select("tag", "reservation_notes").row(0) == ("for the CEO", "n")
    assert change_of(result, "1001", LONDON) == "updated"


def test_4_3_rule_1_cooling_entry_used_again() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Cooling", release_date=day(10))],
        usage_rows=[dict(number="1001", site=LONDON)],
    )

    assert managed(result, "1001", LONDON) == entry("Used", "Device")  # release_date cleared
    assert change_of(result, "1001", LONDON) == "updated"


def test_4_3_rule_2_reserved_unused_unchanged() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Reserved", tag="kept", vendor="Microsoft", number_type="Calling Plan")],
        cooling_enabled=True,
    )

    assert result.written.is_empty()
    assert result.changes.is_empty()
    assert (result.in_scope, result.unchanged) == (1, 1)


def test_4_3_rule_3_cooling_waits_until_release_date() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Cooling", vendor="AudioCodes", release_date=day(1))]
    )

    assert result.written.is_empty()
    assert (result.in_scope, result.unchanged) == (1, 1)


def test_4_3_rule_3_released_on_release_date() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Cooling", vendor="AudioCodes", number_type="x", release_date=AS_OF)]
    )

    assert managed(result, "1001", LONDON) == entry("Available")  # usage, vendor, type cleared
    assert change_of(result, "1001", LONDON) == "released"


def test_4_3_rule_4_freed_number_available() -> None:
    result = run(
        entry_rows=[
            dict(number="1001", hierarchy=LONDON, status="Used", usage="Device"),
            dict(number="1002", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft", number_type="Calling Plan"),
            dict(number="1003", hierarchy=LONDON, status="Used-Utility", usage="Hunt_Pilot", tag="HP"),
        ]
    )

    for number in ("1001", "1002", "1003"):
        assert managed(result, number, LONDON) == entry("Available"), number
        assert change_of(result, number, LONDON) == "released"
    assert result.written.filter(pl.col("number") == "1003")["tag"].to_list() == ["HP"]


def test_4_3_rule_4_freed_number_cools_when_enabled() -> None:
    rows = [
        dict(number="1001", hierarchy=LONDON, status="Used", usage="Device"),
        dict(number="1002", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft", number_type="Calling Plan"),
    ]
    default = run(entry_rows=rows, cooling_enabled=True)
    assert managed(default, "1001", LONDON) == entry("Cooling", release_date=day(30))
    assert managed(default, "1002", LONDON) == entry("Cooling", release_date=day(30))
    assert change_of(default, "1001", LONDON) == "cooled"

    week = run(entry_rows=rows, cooling_enabled=True, cooling_days=7)
    assert managed(week, "1001", LONDON) == entry("Cooling", release_date=day(7))


def test_4_3_rule_4_zero_cooling_days_releases_at_once() -> None:
    """A release date on as_of is released by rule 3: cooling for 0 days is no cooling."""
    result = run(
        entry_rows=[
            dict(number="1001", hierarchy=LONDON, status="Used", usage="Device"),
            dict(number="1002", hierarchy=LONDON, status="Used", usage="Device", vendor="AudioCodes"),
        ],
        cooling_enabled=True,
        cooling_days=0,
        audiocodes_cooling_days=0,
    )

    assert managed(result, "1001", LONDON) == entry("Available")
    assert managed(result, "1002", LONDON) == entry("Available")


def test_4_3_rule_4_audiocodes_cools_for_audiocodes_days() -> None:
    rows = [dict(number="1001", hierarchy=LONDON, status="Used", usage="Device", vendor="AudioCodes", tag="sbc-1")]
    default = run(entry_rows=rows)  # cooling_enabled is false: AudioCodes cools regardless
    assert managed(default, "1001", LONDON) == entry("Cooling", vendor="AudioCodes", release_date=day(2))
    assert default.written["tag"].to_list() == ["sbc-1"]
    assert change_of(default, "1001", LONDON) == "cooled"

    configured = run(entry_rows=rows, cooling_enabled=True, cooling_days=30, audiocodes_cooling_days=5)
    assert managed(configured, "1001", LONDON) == entry("Cooling", vendor="AudioCodes", release_date=day(5))


def test_4_3_rule_5_offline_audiocodes_user_cools() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Used", usage="Device", vendor="AudioCodes")],
        usage_rows=[dict(number="1001", site=LONDON, device_type="device/audiocodes", source="sbc", online=False)],
    )

    assert managed(result, "1001", LONDON) == entry("Cooling", vendor="AudioCodes", release_date=day(2))
    assert result.usage_links.is_empty()  # an offline user does not use its number


def test_4_3_rule_5_back_online_in_window_is_used_again() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Cooling", vendor="AudioCodes", release_date=day(1))],
        usage_rows=[dict(number="1001", site=LONDON, device_type="device/audiocodes", source="sbc", online=True)],
    )

    assert managed(result, "1001", LONDON) == entry("Used", "Device", "AudioCodes")
    assert change_of(result, "1001", LONDON) == "updated"


def test_4_3_rule_6_release_catches_up_after_a_month() -> None:
    result = run(
        entry_rows=[
            dict(number="1001", hierarchy=LONDON, status="Cooling", release_date=day(-31)),
            dict(number="1002", hierarchy=PARIS, status="Cooling", release_date=day(-400)),
            dict(number="1003", hierarchy=PARIS, status="Cooling", release_date=day(1)),
        ]
    )

    assert keys(result) == {("1001", LONDON), ("1002", PARIS)}
    assert managed(result, "1001", LONDON) == entry("Available")
    assert managed(result, "1002", PARIS) == entry("Available")
    assert set(result.changes["change"]) == {"released"}


def test_4_3_rule_7_blocked_until_is_cooling() -> None:
    blocked = dict(blocked_state="BlockedUntil", blocked_until=day(10), number_type="Calling Plan")
    result = run(
        entry_rows=[dict(number="+441001", hierarchy=LONDON, status="Available")],
        vendor_rows=[dict(number="+441001", site=LONDON, **blocked), dict(number="+441002", **blocked)],
    )

    assert managed(result, "+441001", LONDON) == entry("Cooling", vendor="Microsoft", number_type="Calling Plan", release_date=day(10))
    assert change_of(result, "+441001", LONDON) == "cooled"
    assert managed(result, "+441002", CUSTOMER) == entry("Cooling", vendor="Microsoft", number_type="Calling Plan", release_date=day(10))
    assert change_of(result, "+441002", CUSTOMER) == "added"


def test_4_3_rule_7_blocked_until_on_cooling_entry_keeps_later_date() -> None:
    result = run(
        entry_rows=[
            dict(number="+441001", hierarchy=LONDON, status="Cooling", release_date=day(20)),
            dict(number="+441002", hierarchy=LONDON, status="Cooling", release_date=day(5)),
        ],
        vendor_rows=[
            dict(number="+441001", site=LONDON, blocked_state="BlockedUntil", blocked_until=day(10)),
            dict(number="+441002", site=LONDON, blocked_state="BlockedUntil", blocked_until=day(10)),
        ],
    )

    assert managed(result, "+441001", LONDON) == entry("Cooling", vendor="Microsoft", number_type="Calling Plan", release_date=day(20))
    assert managed(result, "+441002", LONDON) == entry("Cooling", vendor="Microsoft", number_type="Calling Plan", release_date=day(10))
    assert change_of(result, "+441002", LONDON) == "updated"


def test_4_3_rule_7_blocked_until_past_date_is_available() -> None:
    result = run(vendor_rows=[dict(number="+441001", blocked_state="BlockedUntil", blocked_until=AS_OF)])

    assert managed(result, "+441001", CUSTOMER) == entry("Available", vendor="Microsoft", number_type="Calling Plan")


def test_4_3_rule_7_blocked_forever_is_reserved() -> None:
    result = run(
        entry_rows=[
            dict(number="+441001", hierarchy=LONDON, status="Available"),
            dict(number="+441002", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft"),
        ],
        vendor_rows=[
            dict(number="+441001", site=LONDON, blocked_state="BlockedForever", number_type="Operator Connect"),
            dict(number="+441002", site=LONDON, blocked_state="BlockedForever", number_type="Operator Connect"),
            dict(number="+441003", blocked_state="BlockedUntil", blocked_until=None),  # no date: never released
        ],
        cooling_enabled=True,
    )

    assert managed(result, "+441001", LONDON) == entry("Reserved", vendor="Microsoft", number_type="Operator Connect")
    assert managed(result, "+441002", LONDON) == entry("Reserved", vendor="Microsoft", number_type="Operator Connect")
    assert managed(result, "+441003", CUSTOMER) == entry("Reserved", vendor="Microsoft", number_type="Calling Plan")
    assert change_of(result, "+441001", LONDON) == "updated"


def test_4_3_rule_7_reserved_stays_reserved_when_blocked() -> None:
    reserved = dict(hierarchy=LONDON, status="Reserved", vendor="Microsoft", number_type="Calling Plan", tag="CEO")
    result = run(
        entry_rows=[dict(number="+441001", **reserved), dict(number="+441002", **reserved)],
        vendor_rows=[
            dict(number="+441001", site=LONDON, blocked_state="BlockedUntil", blocked_until=day(10)),
            dict(number="+441002", site=LONDON, blocked_state="BlockedForever", number_type="Operator Connect"),
        ],
    )

    assert keys(result) == {("+441002", LONDON)}  # only the type changed
    assert managed(result, "+441002", LONDON) == entry("Reserved", vendor="Microsoft", number_type="Operator Connect")


# --- 4.4 Microsoft available numbers -------------------------------------------------------


def test_4_4_teams_unassigned_number_added_available() -> None:
    result = run(
        vendor_rows=[
            dict(number="+441001", number_type="Operator Connect"),
            dict(number="+441002", number_type="Calling Plan", site=LONDON),
        ]
    )

    assert managed(result, "+441001", CUSTOMER) == entry("Available", vendor="Microsoft", number_type="Operator Connect")
    # customer mode: a site's number lands by 4.2, i.e. at the customer when no entry holds it
    assert managed(result, "+441002", CUSTOMER) == entry("Available", vendor="Microsoft", number_type="Calling Plan")
    assert set(result.changes["change"]) == {"added"}

    site_mode = run(vendor_rows=[dict(number="+441002", number_type="Calling Plan", site=LONDON)], mode="site", sites=(LONDON,))
    assert keys(site_mode) == {("+441002", LONDON)}
    assert managed(site_mode, "+441002", LONDON) == entry("Available", vendor="Microsoft", number_type="Calling Plan")


def test_4_4_teams_unassigned_number_updates_available_entry() -> None:
    result = run(
        entry_rows=[dict(number="+441001", hierarchy=LONDON, status="Available")],
        vendor_rows=[dict(number="+441001", site=LONDON, number_type="Operator Connect")],
    )

    assert managed(result, "+441001", LONDON) == entry("Available", vendor="Microsoft", number_type="Operator Connect")
    assert change_of(result, "+441001", LONDON) == "updated"


def test_4_4_reserved_keeps_status_vendor_updated() -> None:
    result = run(
        entry_rows=[
            dict(number="+441001", hierarchy=LONDON, status="Reserved", tag="CEO"),
            dict(number="+441002", hierarchy=LONDON, status="Cooling", release_date=day(3)),
        ],
        vendor_rows=[
            dict(number="+441001", site=LONDON, number_type="Calling Plan"),
            dict(number="+441002", site=LONDON, number_type="Operator Connect"),
        ],
    )

    assert managed(result, "+441001", LONDON) == entry("Reserved", vendor="Microsoft", number_type="Calling Plan")
    assert managed(result, "+441002", LONDON) == entry("Cooling", vendor="Microsoft", number_type="Operator Connect", release_date=day(3))
    assert change_of(result, "+441001", LONDON) == "updated"
    assert change_of(result, "+441002", LONDON) == "updated"


def test_4_4_teams_number_freed_from_used_entry() -> None:
    rows = [dict(number="+441001", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft", number_type="Direct Routing")]
    teams = [dict(number="+441001", site=LONDON, number_type="Calling Plan")]

    freed = run(entry_rows=rows, vendor_rows=teams)
    assert managed(freed, "+441001", LONDON) == entry("Available", vendor="Microsoft", number_type="Calling Plan")
    assert change_of(freed, "+441001", LONDON) == "released"

    cooled = run(entry_rows=rows, vendor_rows=teams, cooling_enabled=True)
    assert managed(cooled, "+441001", LONDON) == entry("Cooling", vendor="Microsoft", number_type="Calling Plan", release_date=day(30))
    assert change_of(cooled, "+441001", LONDON) == "cooled"


def test_4_4_teams_number_released_from_cooling_keeps_microsoft() -> None:
    result = run(
        entry_rows=[dict(number="+441001", hierarchy=LONDON, status="Cooling", release_date=AS_OF)],
        vendor_rows=[dict(number="+441001", site=LONDON, number_type="Operator Connect")],
    )

    assert managed(result, "+441001", LONDON) == entry("Available", vendor="Microsoft", number_type="Operator Connect")
    assert change_of(result, "+441001", LONDON) == "released"


def test_4_4_assigned_vendor_number_does_not_drive_status() -> None:
    result = run(
        entry_rows=[dict(number="+441001", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft", number_type="Calling Plan")],
        vendor_rows=[
            dict(number="+441001", site=LONDON, assigned=True, blocked_state="BlockedForever"),
            dict(number="+441002", assigned=True),
        ],
    )

    assert keys(result) == {("+441001", LONDON)}  # +441002 is not added
    assert managed(result, "+441001", LONDON) == entry("Available")  # freed by rule 4, not Reserved


# --- 4.5 Number types and E.164 -----------------------------------------------------------


def test_4_5_number_types_and_e164() -> None:
    result = run(
        entry_rows=[dict(number="1004", hierarchy=LONDON, status="Available", e164="+442070000004")],
        usage_rows=[
            dict(number="1001", site=LONDON, device_type="device/msteamsonline/CsOnlineUser", number_type="Calling Plan"),
            dict(number="1002", site=LONDON, device_type="device/spark/Number", number_type="Extension", source="webex"),
            dict(number="1003", site=LONDON, device_type="device/spark/Number", number_type="Phone Number", source="webex", e164="+442070000003"),
            dict(number="1004", site=LONDON, device_type="device/cucm/Phone"),
            dict(number="1005", site=LONDON, device_type="device/cucm/Phone"),
        ],
        e164_rows=[
            dict(number="1003", e164="+442079999999", is_primary=True),  # the usage's own E.164 wins
            dict(number="1005", e164="+442070000050", is_primary=False),
            dict(number="1005", e164="+442070000005", is_primary=True),
        ],
    )

    assert managed(result, "1001", CUSTOMER) == entry("Used", "User", "Microsoft", "Calling Plan")
    assert managed(result, "1002", CUSTOMER) == entry("Used", "User", "Webex Calling", "Extension")
    assert managed(result, "1003", CUSTOMER) == entry("Used", "User", "Webex Calling", "Phone Number", "+442070000003")
    assert managed(result, "1004", LONDON) == entry("Used", "Device", e164="+442070000004")  # existing E.164 kept
    assert managed(result, "1005", CUSTOMER) == entry("Used", "Device", e164="+442070000005")  # the primary one


# --- 3 Usage types ------------------------------------------------------------------------

# SPEC 3, written out here rather than read from transforms/usage_types.py.
SPEC_3 = [
    ("device/cucm/Phone", "Used", "Device", ""),
    ("device/cucm/DeviceProfile", "Used", "Device", ""),
    ("device/cucm/RemoteDestinationProfile", "Used", "Device", ""),
    ("device/cucm/HuntPilot", "Used-Utility", "Hunt_Pilot", ""),
    ("device/cucm/CallPickupGroup", "Used-Utility", "Pickup_Group_Pilot", ""),
    ("device/cuc/Callhandler", "Used-Utility", "Call_Handler_Pilot", ""),
    ("device/cucm/VoicemailPilot", "Used-Utility", "Voicemail_Pilot", ""),
    ("device/cucm/MeetMe", "Used-Utility", "Meet_Me", ""),
    ("device/cucm/CtiRoutePoint", "Used-Utility", "CTI_RoutePoint", ""),
    ("device/cucm/CallPark", "Used-Utility", "Call_Park", ""),
    ("device/cucm/DirectedCallPark", "Used-Utility", "Directed_Call_Park", ""),
    ("data/PRS_MultiVendorPhone_DAT", "Used-Utility", "VOSS_Phone", "Polycom"),
    ("device/msteamsonline/CsOnlineUser", "Used", "User", "Microsoft"),
    ("device/spark/Number", "Used", "User", "Webex Calling"),
    ("device/audiocodes", "Used", "Device", "AudioCodes"),
]


@pytest.mark.parametrize(("device_type", "status", "usage", "vendor"), SPEC_3)
def test_3_each_usage_type_implies_status_usage_vendor(device_type: str, status: str, usage: str, vendor: str) -> None:
    phone_vendor = "Polycom" if device_type == "data/PRS_MultiVendorPhone_DAT" else ""
    result = run(usage_rows=[dict(number="1001", site=LONDON, device_type=device_type, vendor=phone_vendor)])

    assert managed(result, "1001", CUSTOMER) == entry(status, usage, vendor)


def test_3_canonical_usage_order_each_type_once() -> None:
    result = run(
        usage_rows=[
            dict(number="1001", site=LONDON, device_type="device/cucm/HuntPilot"),
            dict(number="1001", site=LONDON, device_type="device/cucm/Phone", device_name="SEP1"),
            dict(number="1001", site=LONDON, device_type="device/cucm/Phone", device_name="SEP2"),
            dict(number="1002", site=LONDON, device_type="device/msteamsonline/CsOnlineUser"),
            dict(number="1002", site=LONDON, device_type="device/cucm/CallPark"),
            dict(number="1002", site=LONDON, device_type="device/cuc/Callhandler"),
            dict(number="1002", site=LONDON, device_type="device/cucm/CallPickupGroup"),
        ]
    )

    assert managed(result, "1001", CUSTOMER)["usage"] == "Device,Hunt_Pilot"
    assert managed(result, "1002", CUSTOMER)["usage"] == "Pickup_Group_Pilot,Call_Handler_Pilot,Call_Park,User"


def test_3_shared_lines_partitions_and_clusters_make_one_entry() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Available")],
        usage_rows=[
            dict(number="1001", site=LONDON, device_name="SEP1", partition="PT_A", cluster="C1"),
            dict(number="1001", site=LONDON, device_name="SEP2", partition="PT_B", cluster="C1"),
            dict(number="1001", site=LONDON, device_name="SEP3", partition="PT_A", cluster="C2"),
        ],
    )

    assert keys(result) == {("1001", LONDON)}
    assert managed(result, "1001", LONDON) == entry("Used", "Device")
    assert result.usage_links.select("device_name", "partition", "cluster").sort("device_name").rows() == [
        ("SEP1", "PT_A", "C1"),
        ("SEP2", "PT_B", "C1"),
        ("SEP3", "PT_A", "C2"),
    ]


def test_3_status_with_device_and_utility_keeps_current() -> None:
    both = [
        dict(number="1001", site=LONDON, device_type="device/cucm/Phone"),
        dict(number="1001", site=LONDON, device_type="device/cucm/HuntPilot"),
    ]
    was_utility = run(entry_rows=[dict(number="1001", hierarchy=LONDON, status="Used-Utility", usage="Hunt_Pilot")], usage_rows=both)
    assert managed(was_utility, "1001", LONDON) == entry("Used-Utility", "Device,Hunt_Pilot")

    was_used = run(entry_rows=[dict(number="1001", hierarchy=LONDON, status="Used", usage="Device")], usage_rows=both)
    assert managed(was_used, "1001", LONDON) == entry("Used", "Device,Hunt_Pilot")


def test_3_kept_used_utility_with_device_passes_the_write_schema() -> None:
    # SPEC 3's tie rule wins over SPEC 2's "only utility types": the check asks for a utility usage.
    from schemas.models import InventoryModel, violations

    before = entries(dict(number="1001", hierarchy=LONDON, status="Used-Utility", usage="Hunt_Pilot"))
    result = audit(
        inputs(before, usages(dict(number="1001", site=LONDON), dict(number="1001", site=LONDON, device_type="device/cucm/HuntPilot"))),
        params(),
    )

    assert violations(InventoryModel, merged(before, result.written)) == []


@pytest.mark.parametrize(("status", "usage"), [("Used-Utility", "Device"), ("Used-Utility", "Device,User"), ("Used", "Hunt_Pilot")])
def test_2_write_schema_refuses_a_status_its_usage_cannot_imply(status: str, usage: str) -> None:
    from schemas.models import InventoryModel, violations

    found = violations(InventoryModel, entries(dict(number="1001", hierarchy=LONDON, status=status, usage=usage)))

    assert [v.check for v in found] in (["Used-Utility entries have a utility usage"], ["Used entries have a Device or User usage"])


@pytest.mark.parametrize(
    "current",
    [
        None,
        dict(status="Available"),
        dict(status="Reserved"),
        dict(status="Cooling", release_date=date(2026, 12, 1)),
    ],
)
def test_3_status_with_device_and_utility_is_used_otherwise(current: dict[str, Any] | None) -> None:
    both = [
        dict(number="1001", site=LONDON, device_type="device/cucm/CtiRoutePoint"),
        dict(number="1001", site=LONDON, device_type="device/msteamsonline/CsOnlineUser"),
    ]
    rows = [] if current is None else [dict(number="1001", hierarchy=LONDON, **current)]
    result = run(entry_rows=rows, usage_rows=both)

    where = CUSTOMER if current is None else LONDON
    assert managed(result, "1001", where) == entry("Used", "CTI_RoutePoint,User", "Cisco, Microsoft")


def test_3_several_vendors_joined_in_usage_order() -> None:
    result = run(
        usage_rows=[
            dict(number="1001", site=LONDON, device_type="device/msteamsonline/CsOnlineUser", number_type="Direct Routing"),
            dict(number="1001", site=LONDON, device_type="device/cucm/Phone"),
            dict(number="1002", site=LONDON, device_type="device/cucm/Phone"),
            dict(number="1002", site=LONDON, device_type="device/cucm/HuntPilot"),
            dict(number="1003", site=LONDON, device_type="data/PRS_MultiVendorPhone_DAT", vendor="Yealink"),
            dict(number="1003", site=LONDON, device_type="device/audiocodes"),
            # canonical usage order, not alphabetical: Hunt_Pilot (Cisco) before VOSS_Phone (Avaya)
            dict(number="1004", site=LONDON, device_type="data/PRS_MultiVendorPhone_DAT", vendor="Avaya"),
            dict(number="1004", site=LONDON, device_type="device/cucm/HuntPilot"),
        ]
    )

    assert managed(result, "1001", CUSTOMER) == entry("Used", "Device,User", "Cisco, Microsoft", "Direct Routing")
    assert managed(result, "1002", CUSTOMER)["vendor"] == ""  # one vendor, Cisco: stays ''
    assert managed(result, "1003", CUSTOMER) == entry("Used", "Device,VOSS_Phone", "AudioCodes, Yealink")
    assert managed(result, "1004", CUSTOMER) == entry("Used-Utility", "Hunt_Pilot,VOSS_Phone", "Cisco, Avaya")


# --- 4.6 Exceptions ------------------------------------------------------------------------


def test_4_6_duplicate_device_profile() -> None:
    result = run(
        usage_rows=[
            dict(number="1001", site=LONDON, device_type="device/cucm/DeviceProfile", device_name="UDP-jdoe", cluster="C1"),
            dict(number="1002", site=LONDON, device_type="device/cucm/DeviceProfile", device_name="UDP-jdoe", cluster="C2"),
            dict(number="1003", site=LONDON, device_type="device/cucm/DeviceProfile", device_name="UDP-other", cluster="C1"),
        ]
    )

    assert exceptions(result) == [("duplicate_device_profile", "1001", LONDON)]
    row = result.exceptions.row(0, named=True)
    assert row["resolution"] == "ensure device profiles are not duplicated across the sites"
    assert "UDP-jdoe" in row["detail"] and "C1, C2" in row["detail"]
    assert row["audit_id"] == "A1"
    assert managed(result, "1001", CUSTOMER)["status"] == "Used"  # the audit goes on


def test_4_6_duplicate_phone() -> None:
    result = run(
        usage_rows=[
            dict(number="1001", site=LONDON, device_name="SEP0011AABBCCDD", cluster="C1"),
            dict(number="1002", site=PARIS, device_name="SEP0011AABBCCDD", cluster="C2"),
            # the same phone from a source that names no cluster is not a second cluster
            dict(number="1003", site=PARIS, device_name="SEP0011AABBCCEE", cluster="C1"),
            dict(number="1003", site=PARIS, device_name="SEP0011AABBCCEE", cluster="", source="bat"),
        ]
    )

    assert exceptions(result) == [("duplicate_phone", "1001", LONDON)]
    assert result.exceptions["resolution"][0] == "ensure phones are not duplicated across the clusters"
    assert "SEP0011AABBCCDD" in result.exceptions["detail"][0]


def test_4_6_number_in_clusters() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=LONDON, status="Available")],
        usage_rows=[
            dict(number="1001", site=LONDON, device_name="SEP1", cluster="C1"),
            dict(number="1001", site=LONDON, device_name="SEP2", cluster="C2"),
            dict(number="1002", site=LONDON, device_name="SEP3", cluster="C1"),
            dict(number="1002", site=LONDON, device_name="SEP4", cluster="C1"),
        ],
    )

    assert exceptions(result) == [("number_in_clusters", "1001", LONDON)]
    assert result.exceptions["resolution"][0] == (
        "ensure internal numbers (even in different partitions) are not duplicated across clusters"
    )
    assert "C1, C2" in result.exceptions["detail"][0]
    assert managed(result, "1001", LONDON) == entry("Used", "Device")


def test_4_6_unmapped_device() -> None:
    result = run(
        entry_rows=[dict(number="1002", hierarchy=LONDON, status="Used", usage="Device")],
        usage_rows=[
            dict(number="1001", site=None, site_key="DP_Unknown", device_name="SEP1"),
            dict(number="1002", site=None, site_key="DP_Unknown", device_name="SEP2"),
        ],
        cooling_enabled=True,
    )

    assert result.written.is_empty()  # nothing added where we do not know the site, and 1002 is not freed
    assert exceptions(result) == [("unmapped_device", "1001", CUSTOMER), ("unmapped_device", "1002", CUSTOMER)]
    assert result.exceptions["resolution"][0] == "map the device's site (source configuration)"
    assert "DP_Unknown" in result.exceptions["detail"][0]


def test_4_6_bad_number() -> None:
    result = run(usage_rows=[dict(number=None, number_raw="10O1", site=LONDON, device_name="SEP1")])

    assert result.written.is_empty()
    assert exceptions(result) == [("bad_number", "10O1", LONDON)]
    assert result.exceptions["resolution"][0] == "fix the source record"
    assert "'10O1' is not a number" in result.exceptions["detail"][0]


# --- 4.9 What an audit writes ---------------------------------------------------------------


def test_4_9_change_log_rows() -> None:
    result = run(
        entry_rows=[
            dict(number="1001", hierarchy=LONDON, status="Reserved"),
            dict(number="1002", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft", number_type="Calling Plan"),
            dict(number="1003", hierarchy=LONDON, status="Used", usage="Device", vendor="AudioCodes"),
            dict(number="1005", hierarchy=LONDON, status="Available"),
            dict(number="1006", hierarchy=LONDON, status="Cooling", release_date=day(-1)),
        ],
        usage_rows=[dict(number="1001", site=LONDON), dict(number="1004", site=PARIS, device_type="device/cucm/HuntPilot")],
    )

    columns = ["number", "hierarchy", "change", "old_status", "new_status", "old_usage", "new_usage", "old_vendor",
               "new_vendor", "old_number_type", "new_number_type", "old_release_date", "new_release_date"]
    assert result.changes.sort("number").select(columns).rows() == [
        ("1001", LONDON, "updated", "Reserved", "Used", "", "Device", "", "", "", "", None, None),
        ("1002", LONDON, "released", "Used", "Available", "User", "", "Microsoft", "", "Calling Plan", "", None, None),
        ("1003", LONDON, "cooled", "Used", "Cooling", "Device", "", "AudioCodes", "AudioCodes", "", "", None, day(2)),
        ("1004", CUSTOMER, "added", None, "Used-Utility", None, "Hunt_Pilot", None, "", None, "", None, None),
        ("1006", LONDON, "released", "Cooling", "Available", "", "", "", "", "", "", day(-1), None),
    ]
    assert set(result.changes["audit_id"]) == {"A1"}
    assert set(result.changes["changed_at"]) == {NOW}
    assert (result.in_scope, result.unchanged) == (5, 1)
    written = by_key(result.written)
    assert {k: (r["updated_at"], r["last_audit_id"]) for k, r in written.items()} == {k: (NOW, "A1") for k in written}


def test_4_9_usage_tab_rows() -> None:
    result = run(
        entry_rows=[dict(number="1001", hierarchy=EMEA, status="Available")],
        usage_rows=[
            dict(number="1001", site=EMEA_LONDON, device_name="SEP1", cluster="C1", partition="PT_A", owner="jdoe"),
            dict(number="1001", site=EMEA_LONDON, device_type="device/cucm/HuntPilot", device_name="HP-sales", cluster="C1", partition="PT_A"),
            dict(number="1002", site=PARIS, device_type="device/msteamsonline/CsOnlineUser", device_name="jane@acme.com", owner="jane", source="teams"),
            dict(number="1003", site=PARIS, device_type="device/audiocodes", device_name="bob", online=False, source="sbc"),
        ],
    )

    assert result.usage_links.sort("number", "usage").rows() == [
        ("1001", EMEA, "", "Device", "device/cucm/Phone", "SEP1", "C1", "PT_A", EMEA_LONDON, "jdoe", "cucm"),
        ("1001", EMEA, "", "Hunt_Pilot", "device/cucm/HuntPilot", "HP-sales", "C1", "PT_A", EMEA_LONDON, "", "cucm"),
        ("1002", CUSTOMER, "Microsoft", "User", "device/msteamsonline/CsOnlineUser", "jane@acme.com", "", "", PARIS, "jane", "teams"),
    ]
    assert result.usage_links.columns == [
        "number", "hierarchy", "vendor", "usage", "device_type", "device_name", "cluster", "partition", "site", "owner", "source"
    ]


# --- Whole-audit properties on a hand-made estate ------------------------------------------


def test_available_entry_without_usage_stays() -> None:
    result = run(
        entry_rows=[
            dict(number="1001", hierarchy=LONDON, status="Available", tag="t", vendor="Microsoft", number_type="Calling Plan", e164="+44"),
        ],
        cooling_enabled=True,
    )

    assert result.written.is_empty()
    assert result.changes.is_empty()
    assert (result.in_scope, result.unchanged) == (1, 1)


ESTATE_ENTRIES = [
    dict(number="1001", hierarchy=LONDON, status="Reserved", tag="keep me"),
    dict(number="1002", hierarchy=LONDON, status="Used", usage="Device"),
    dict(number="1003", hierarchy=LONDON, status="Used", usage="Device", vendor="AudioCodes"),
    dict(number="1004", hierarchy=PARIS, status="Cooling", release_date=day(-3)),
    dict(number="1005", hierarchy=PARIS, status="Cooling", release_date=day(3)),
    dict(number="1006", hierarchy=CUSTOMER, status="Available"),
    dict(number="1007", hierarchy=PARIS, status="Used-Utility", usage="Hunt_Pilot"),
    dict(number="+441008", hierarchy=LONDON, status="Used", usage="User", vendor="Microsoft"),
    dict(number="1009", hierarchy=RESELLER, status="Used", usage="Device"),
    dict(number="1010", hierarchy=PARIS, status="Available"),
]
ESTATE_USAGES = [
    dict(number="1001", site=LONDON),
    dict(number="1006", site=PARIS, device_type="device/cucm/HuntPilot", cluster="C1"),
    dict(number="1006", site=LONDON, device_type="device/cucm/Phone", cluster="C2"),
    dict(number="1007", site=PARIS, device_type="device/cucm/Phone"),
    dict(number="1007", site=PARIS, device_type="device/cucm/HuntPilot"),
    dict(number="1009", site=LONDON),
    dict(number="1010", site=LONDON),
    dict(number="1011", site=LONDON, device_type="device/msteamsonline/CsOnlineUser", number_type="Direct Routing"),
    dict(number="1012", site=CUSTOMER, device_type="device/cucm/VoicemailPilot"),
    dict(number="1003", site=LONDON, device_type="device/audiocodes", online=False),
]
ESTATE_VENDOR_NUMBERS = [
    dict(number="+441008", site=LONDON, blocked_state="BlockedUntil", blocked_until=day(9)),
    dict(number="+441013"),
    dict(number="+441014", blocked_state="BlockedForever"),
]


@pytest.mark.parametrize("mode", ["customer", "site"])
@pytest.mark.parametrize("cooling_enabled", [False, True])
def test_audit_is_idempotent(mode: str, cooling_enabled: bool) -> None:
    before = entries(*ESTATE_ENTRIES)
    the_inputs = dict(usage_rows=usages(*ESTATE_USAGES), vendor_rows=vendor_numbers(*ESTATE_VENDOR_NUMBERS), e164_rows=e164_links())
    the_params = params(mode=mode, cooling_enabled=cooling_enabled)

    first = audit(inputs(before, **the_inputs), the_params)
    assert not first.written.is_empty()
    after = merged(before, first.written)
    second = audit(inputs(after, **the_inputs), params(mode=mode, cooling_enabled=cooling_enabled, audit_id="A2"))

    assert second.written.is_empty(), second.changes
    assert second.changes.is_empty()
    assert second.unchanged == after.filter(
        pl.col("hierarchy").is_in([LONDON, PARIS]) if mode == "site" else pl.col("hierarchy").str.starts_with(CUSTOMER)
    ).height


@pytest.mark.parametrize("mode", ["customer", "site"])
def test_no_entry_is_ever_deleted(mode: str) -> None:
    before = entries(*ESTATE_ENTRIES)
    result = audit(
        inputs(before, usages(*ESTATE_USAGES), vendor_numbers(*ESTATE_VENDOR_NUMBERS)),
        params(mode=mode, cooling_enabled=True),
    )
    after = by_key(merged(before, result.written))
    original = by_key(before)

    assert set(original) <= set(after)
    assert len(after) == len(original) + result.changes.filter(pl.col("change") == "added").height
    for key, row in original.items():
        if key not in by_key(result.written):
            assert after[key] == row
        else:  # administrators' fields and created_at are never touched
            assert {c: after[key][c] for c in ("tag", "description", "reservation_notes", "extra1", "created_at")} == {
                c: row[c] for c in ("tag", "description", "reservation_notes", "extra1", "created_at")
            }
    # The expected outcome of the estate, in customer mode, entry by entry.
    if mode == "customer":
        assert {k: after[k]["status"] for k in after} == {
            ("1001", LONDON): "Used",
            ("1002", LONDON): "Cooling",
            ("1003", LONDON): "Cooling",
            ("1004", PARIS): "Available",
            ("1005", PARIS): "Cooling",
            ("1006", CUSTOMER): "Used",
            ("1007", PARIS): "Used-Utility",
            ("+441008", LONDON): "Cooling",
            ("1009", RESELLER): "Used",
            ("1010", PARIS): "Used",
            ("1011", CUSTOMER): "Used",
            ("1012", CUSTOMER): "Used-Utility",
            ("+441013", CUSTOMER): "Available",
            ("+441014", CUSTOMER): "Reserved",
        }
