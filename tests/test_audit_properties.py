"""Property-based tests of the audit (SPEC 2 invariants, 4.2 scope, 4.9 idempotence) and of
number normalisation (SPEC 5), on arbitrary small estates.

An estate is a customer with 1–4 sites (some under an intermediate node), entries at the
reseller, the customer, the intermediate node and the sites with random statuses that
satisfy SPEC 2, usages with random device types, sites and online flags, and Teams numbers;
numbers come from a small pool so that they collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import AS_OF, CUSTOMER, e164_links, entries, inputs, merged, params, usages, vendor_numbers
from transforms.audit import AuditParams, AuditResult, audit
from transforms.numbers import MAX_DIGITS, normalise_number
from transforms.usage_types import DEVICE_TYPES, UTILITY_USAGES

RESELLER = "sys.prov"
EMEA = f"{CUSTOMER}.EMEA"
SITE_POOL = (f"{CUSTOMER}.London", f"{CUSTOMER}.Paris", f"{EMEA}.Berlin", f"{EMEA}.Madrid")
NUMBER_POOL = ("1001", "1002", "1003", "0800123", "+441004", "+441005")

SETTINGS = settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def on_one_path(a: str, b: str) -> bool:
    """a and b are on one root-to-leaf path (one is the other or an ancestor of it)."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


# --- Strategies -----------------------------------------------------------------------------

days = st.integers(min_value=-60, max_value=60).map(lambda n: AS_OF + timedelta(days=n))


@st.composite
def entry_state(draw: st.DrawFn) -> dict[str, Any]:
    """Managed fields of one entry, satisfying the SPEC 2 invariants."""
    status = draw(st.sampled_from(["Available", "Used", "Used-Utility", "Cooling", "Reserved"]))
    vendor, number_type = draw(
        st.sampled_from([("", ""), ("Microsoft", "Calling Plan"), ("Microsoft", "Direct Routing"), ("AudioCodes", ""), ("Webex Calling", "Extension"), ("Cisco, Microsoft", "Direct Routing")])
    )
    usage = ""
    if status == "Used":
        usage = draw(st.sampled_from(["Device", "User", "Device,Hunt_Pilot", "Device,User", "Call_Park,User"]))
    elif status == "Used-Utility":
        usage = draw(st.sampled_from(["Hunt_Pilot", "Meet_Me", "Pickup_Group_Pilot,Call_Park", "VOSS_Phone"]))
    return dict(
        status=status,
        usage=usage,
        vendor=vendor,
        number_type=number_type,
        e164=draw(st.sampled_from(["", "+442070000001"])),
        release_date=draw(days) if status == "Cooling" else None,
        tag=draw(st.sampled_from(["", "admin tag"])),
    )


@dataclass(frozen=True)
class Estate:
    sites: tuple[str, ...]
    entries: pl.DataFrame
    usages: pl.DataFrame
    vendor_numbers: pl.DataFrame
    e164: pl.DataFrame
    params: AuditParams

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=400, fmt_str_lengths=40):
            shown = [
                f"params={self.params}",
                str(self.entries.select("number", "hierarchy", "status", "usage", "vendor", "number_type", "release_date")),
                str(self.usages.select("number", "site", "device_type", "online", "cluster", "vendor", "number_type", "e164")),
                str(self.vendor_numbers.select("number", "site", "assigned", "blocked_state", "blocked_until", "number_type")),
                str(self.e164),
            ]
        return "\n".join(shown)


@st.composite
def estates(draw: st.DrawFn, mode: str) -> Estate:
    sites = tuple(sorted(draw(st.sets(st.sampled_from(SITE_POOL), min_size=1, max_size=4))))
    nodes = [RESELLER, CUSTOMER] + ([EMEA] if any(s.startswith(EMEA + ".") for s in sites) else []) + list(sites)

    entry_rows = []
    for number in NUMBER_POOL:
        held: list[str] = []
        for node in draw(st.lists(st.sampled_from(nodes), max_size=3)):
            if not any(on_one_path(node, other) for other in held):  # at most one entry per path
                held.append(node)
        entry_rows += [dict(number=number, hierarchy=node, **draw(entry_state())) for node in held]

    usage_sites = st.one_of(st.sampled_from([*sites, CUSTOMER]), st.none())
    usage_rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=10))):
        device_type = draw(st.sampled_from(DEVICE_TYPES))
        number = draw(st.sampled_from([*NUMBER_POOL, None]))  # None: a bad number
        usage_rows.append(
            dict(
                number=number,
                number_raw=number if number is not None else "10O1",
                site=draw(usage_sites),
                device_type=device_type,
                device_name=draw(st.sampled_from(["SEP1", "SEP2", "UDP1"])),
                cluster=draw(st.sampled_from(["", "C1", "C2"])),
                partition=draw(st.sampled_from(["", "PT_A", "PT_B"])),
                vendor="Yealink" if device_type == "data/PRS_MultiVendorPhone_DAT" else "",
                number_type=draw(st.sampled_from(["", "Direct Routing", "Phone Number", "Extension"])),
                e164=draw(st.sampled_from(["", "+442071111111"])),
                online=draw(st.booleans()) if device_type == "device/audiocodes" else True,
                source=draw(st.sampled_from(["cucm", "teams", "sbc"])),
            )
        )

    teams_rows = []
    for number in draw(st.lists(st.sampled_from(NUMBER_POOL), unique=True, max_size=3)):
        state = draw(st.sampled_from(["", "NotBlocked", "BlockedUntil", "BlockedForever"]))
        teams_rows.append(
            dict(
                number=number,
                site=draw(st.one_of(st.none(), st.sampled_from(sites))),
                assigned=draw(st.booleans()),
                blocked_state=state,
                blocked_until=draw(st.one_of(st.none(), days)) if state == "BlockedUntil" else None,
                number_type=draw(st.sampled_from(["Calling Plan", "Operator Connect"])),
            )
        )

    e164_rows = [
        dict(number=number, e164=f"+4420700{i:05d}", is_primary=draw(st.booleans()), source_row=i + 2)
        for i, number in enumerate(draw(st.lists(st.sampled_from(NUMBER_POOL), max_size=3)))
    ]

    audited_sites = tuple(sorted(draw(st.sets(st.sampled_from(sites), min_size=1)))) if mode == "site" else sites
    return Estate(
        sites=sites,
        entries=entries(*entry_rows),
        usages=usages(*usage_rows),
        vendor_numbers=vendor_numbers(*teams_rows),
        e164=e164_links(*e164_rows),
        params=params(
            mode=mode,
            sites=audited_sites,
            cooling_enabled=draw(st.booleans()),
            cooling_days=draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=40))),  # 0: releases at once
            audiocodes_cooling_days=draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=5))),
        ),
    )


# --- Properties -----------------------------------------------------------------------------


def run(estate: Estate, entry_rows: pl.DataFrame, audit_id: str = "A1") -> AuditResult:
    the_params = AuditParams(**{**estate.params.__dict__, "audit_id": audit_id})
    return audit(inputs(entry_rows, estate.usages, estate.vendor_numbers, estate.e164), the_params)


def in_scope(hierarchy: str, the_params: AuditParams) -> bool:
    if the_params.mode == "site":
        return hierarchy in the_params.sites
    return hierarchy == CUSTOMER or hierarchy.startswith(CUSTOMER + ".")


def assert_never_deletes(before: pl.DataFrame, result: AuditResult, after: pl.DataFrame) -> None:
    before_keys = set(before.select("number", "hierarchy").rows())
    written_keys = set(result.written.select("number", "hierarchy").rows())
    after_rows = {(r["number"], r["hierarchy"]): r for r in after.to_dicts()}
    assert len(written_keys) == result.written.height, "an entry written twice"
    assert before_keys <= set(after_rows), "an entry was deleted"
    assert after.height == before.height + len(written_keys - before_keys)
    added = set(result.changes.filter(pl.col("change") == "added").select("number", "hierarchy").rows())
    assert added == written_keys - before_keys
    assert set(result.changes.select("number", "hierarchy").rows()) == written_keys
    for row in before.to_dicts():  # unwritten rows are unchanged; written ones keep admin fields
        new = after_rows[(row["number"], row["hierarchy"])]
        kept = ("tag", "description", "reservation_notes", "extra1", "extra9", "created_at", "reserved_until")
        assert {c: new[c] for c in kept} == {c: row[c] for c in kept}
        if (row["number"], row["hierarchy"]) not in written_keys:
            assert new == row


def assert_scope_respected(before: pl.DataFrame, result: AuditResult, the_params: AuditParams) -> None:
    outside = [h for h in result.written["hierarchy"] if not in_scope(h, the_params)]
    assert not outside, f"entries outside the scope written: {outside}"
    assert all(in_scope(h, the_params) for h in result.usage_links["hierarchy"]), "usage linked outside the scope"
    before_keys = set(before.select("number", "hierarchy").rows())
    for key in result.written.select("number", "hierarchy").rows():
        if key not in before_keys and the_params.mode == "customer":
            assert key[1] == CUSTOMER, f"customer mode adds at the customer only: {key}"


def assert_one_entry_per_path(after: pl.DataFrame) -> None:
    for number, group in after.group_by("number"):
        places = group["hierarchy"].to_list()
        clashes = [(a, b) for i, a in enumerate(places) for b in places[i + 1 :] if on_one_path(a, b)]
        assert not clashes, f"{number[0]} twice on one path: {clashes}"


def usage_types(usage: str) -> list[str]:
    return usage.split(",") if usage else []


def assert_invariants(before: pl.DataFrame, after: pl.DataFrame) -> None:
    assert after.select("number", "hierarchy").is_unique().all(), "(number, hierarchy) not unique"
    was = {(r["number"], r["hierarchy"]): r["status"] for r in before.to_dicts()}
    for row in after.to_dicts():
        status, types = row["status"], usage_types(row["usage"])
        where = f"{row['number']} at {row['hierarchy']}: {status} {row['usage']!r} {row['release_date']}"
        assert len(types) == len(set(types)), where
        if status == "Available":
            assert types == [], where
        if status == "Used":
            assert {"Device", "User"} & set(types), where
        if status == "Used-Utility":
            assert types and set(types) & UTILITY_USAGES, where
            # SPEC 3 keeps a Used-Utility entry Used-Utility when a Device/User usage joins its
            # utility usage (decided over SPEC 2's "only utility types"): only that case mixes.
            if not set(types) <= UTILITY_USAGES:
                assert was.get((row["number"], row["hierarchy"])) == "Used-Utility", where
        if status == "Cooling":
            assert row["release_date"] is not None, where
        else:
            assert row["release_date"] is None, where


def check(estate: Estate) -> None:
    before = estate.entries
    first = run(estate, before)
    after = merged(before, first.written)

    assert_never_deletes(before, first, after)
    assert_scope_respected(before, first, estate.params)
    assert_one_entry_per_path(after)
    assert_invariants(before, after)

    second = run(estate, after, audit_id="A2")
    assert second.written.is_empty(), f"second audit changed:\n{second.changes}"
    assert second.changes.is_empty()


@SETTINGS
@given(estates("customer"))
def test_audit_properties_customer_mode(estate: Estate) -> None:
    check(estate)


@SETTINGS
@given(estates("site"))
def test_audit_properties_site_mode(estate: Estate) -> None:
    check(estate)


# --- SPEC 5 normalisation -------------------------------------------------------------------

raw_numbers = st.one_of(
    st.text(alphabet="0123456789+\\ -.()[]tel:;ext=aO١", max_size=20),
    st.builds(lambda pre, digits, ext: f"{pre}{digits}{ext}", st.sampled_from(["", "+", "\\+", "tel:+", " ", "(0)"]),
              st.text(alphabet="0123456789 -.", min_size=1, max_size=14), st.sampled_from(["", ";ext=100", " "])),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(raw_numbers, st.none()), max_size=20))
def test_normalisation_is_idempotent_and_yields_numbers(values: list[str | None]) -> None:
    raw = pl.Series("raw", values, dtype=pl.String())
    once = pl.select(normalise_number(pl.lit(raw))).to_series()
    twice = pl.select(normalise_number(pl.lit(once))).to_series()

    assert once.to_list() == twice.to_list()
    for value in once.drop_nulls():
        assert value.lstrip("+").isascii() and value.lstrip("+").isdigit() and value.count("+") <= 1, value
        assert "+" not in value[1:], value


def test_normalisation_refuses_absurdly_long_digit_strings() -> None:
    values = pl.Series("raw", ["1" * MAX_DIGITS, "+" + "4" * MAX_DIGITS, "1" * (MAX_DIGITS + 1), "9" * 5_000_000])
    assert pl.select(normalise_number(pl.lit(values))).to_series().to_list() == [
        "1" * MAX_DIGITS, "+" + "4" * MAX_DIGITS, None, None,
    ]
