"""A realistic demo estate for `make demo`: one provider, three customers, ~5,000 numbers.

    python -m numaudit.demo demo [--seed 7] [--today YYYY-MM-DD]

writes `demo/README.md` and, per customer, `demo/<customer>/estate.toml` with its hierarchy,
existing inventory and source exports (generic `usages` and `vendor_numbers` CSVs):

- **Acme** (`sys.demo-prov.Acme`, customer mode): EMEA, AMER and APAC regions, ten sites, two
  CUCM clusters, Teams (Direct Routing, Operator Connect, Calling Plan) and an AudioCodes SBC.
- **Globex** (`sys.demo-prov.Globex`, customer mode, automated cooling enabled): eight flat
  sites, one CUCM cluster and Webex Calling (numbers and extension-only numbers).
- **Initech** (`sys.demo-prov.Northwind.Initech`, under reseller Northwind): a Site Location
  Code dial plan, so the same short extensions exist at several sites and it can only be
  audited in **site mode**.

Everything comes from one seeded `random.Random` and `today`: the same seed and day give the
same bytes. Dates are relative to `today`, so a first audit on the day of generation releases
the cooling numbers that are due and keeps the others cooling, whatever the day.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from transforms.usage_types import USAGE_ORDER, USAGE_TYPES

# The loader wants every node's parent in the file and has no "system" kind: the platform's
# `sys` root is listed as the top provider-kind node (as the project's own fixtures do).
ROOT = "sys"
PROVIDER = "sys.demo-prov"
RESELLER = "sys.demo-prov.Northwind"

PHONE = "device/cucm/Phone"
PROFILE = "device/cucm/DeviceProfile"
RDP = "device/cucm/RemoteDestinationProfile"
HUNT = "device/cucm/HuntPilot"
PICKUP = "device/cucm/CallPickupGroup"
HANDLER = "device/cuc/Callhandler"
VM_PILOT = "device/cucm/VoicemailPilot"
MEETME = "device/cucm/MeetMe"
CTI_RP = "device/cucm/CtiRoutePoint"
PARK = "device/cucm/CallPark"
DIRECTED_PARK = "device/cucm/DirectedCallPark"
MULTIVENDOR = "data/PRS_MultiVendorPhone_DAT"
TEAMS = "device/msteamsonline/CsOnlineUser"
WEBEX = "device/spark/Number"
AUDIOCODES = "device/audiocodes"

HIERARCHY_HEADER = ("path", "kind", "number_management", "slc_dial_plan", "hybrid")
EXTRAS = tuple(f"extra{i}" for i in range(1, 10))
INVENTORY_HEADER = (
    "number", "hierarchy", "status", "usage", "vendor", "number_type", "e164", "release_date",
    "reserved_until", "tag", "description", "reservation_notes", *EXTRAS,
)
USAGES_HEADER = (
    "hierarchy", "device_type", "device_name", "number", "partition", "cluster", "vendor",
    "number_type", "owner", "online",
)
VENDOR_NUMBERS_HEADER = ("hierarchy", "number", "vendor", "number_type", "assigned", "blocked_state", "blocked_until")

_TYPES = {t.device_type: t for t in USAGE_TYPES}

# How the numbers of a block were handled before this audit (the inventory) and how they are
# used now (the sources). Shares are of the block; the rest get the block's main fate.
#   used: inventory agrees with the platforms      new_use: Available, now used (updated)
#   freed: Used, no device any more (released)     not_imported: used, not in the inventory (added)
#   stale: Used, but by something else (updated)   reserved_used: Reserved, now used (rule 1)
#   absent: neither in the inventory nor used
USER_FATES = (
    ("available", 0.20), ("freed", 0.03), ("new_use", 0.03), ("not_imported", 0.02), ("stale", 0.03),
    ("reserved", 0.03), ("reserved_used", 0.006), ("cooling_past", 0.015), ("cooling_future", 0.02),
)
SPARE_FATES = (("reserved", 0.04), ("cooling_past", 0.02), ("cooling_future", 0.02), ("new_use", 0.03), ("absent", 0.03))
USED_FATES = ("used", "new_use", "not_imported", "stale", "reserved_used")

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Margaret",
    "Paul", "Sandra", "Steven", "Ashley", "Andrew", "Emily", "Kenneth", "Donna", "Joshua", "Michelle",
    "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah", "Priya", "Wei",
    "Aisha", "Kenji", "Olga", "Mateo", "Zoë", "José", "François", "Siobhan", "Raj", "Fatima", "Lars",
    "Ingrid", "Chen", "Yuki", "Omar", "Noor",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Patel", "Kumar", "Wang", "Li", "Zhang", "Tanaka", "Sato", "Müller",
    "Schmidt", "Dubois", "Lefèvre", "O'Brien", "Murphy", "Kowalski", "Novak", "Andersson", "Hansen",
    "Rossi", "Bianchi", "Okafor", "Mensah", "Haddad",
)
# Multi-vendor phones: vendor, model, the vendor's MAC prefix (OUI).
MULTIVENDOR_MODELS = (("Yealink", "T54W", "805EC0"), ("Polycom", "VVX450", "0004F2"), ("Polycom", "Trio8800", "64167F"))
ANALOG_PORTS = (
    "Lift car 1", "Lift car 2", "Fax reception", "Fax finance", "Door entry ground floor",
    "Car park emergency", "Loading bay", "Security desk", "Plant room", "Franking machine",
)


# ---------------------------------------------------------------------------- the estate's shape


@dataclass(frozen=True)
class Block:
    """A range of numbers as an administrator loaded it: one tag and description."""

    role: str  # users, services or spare
    first: int
    count: int
    tag: str
    description: str
    plus: bool = True  # E.164 numbers; False for short extensions
    mix: tuple[tuple[str, float], ...] = ()  # overrides the site's mix
    e164_first: int | None = None  # extensions: the DID range they are reached on


@dataclass(frozen=True)
class Site:
    name: str
    code: str  # short site code in device names and partitions
    region: str  # intermediate node, '' when directly under the customer
    blocks: tuple[Block, ...]
    mix: tuple[tuple[str, float], ...]  # platforms of the users: cucm, teams, webex, audiocodes, multivendor
    cucm: str = ""  # the CUCM source (cluster) of the site
    teams_type: str = ""  # Direct Routing, Calling Plan or Operator Connect
    services: tuple[tuple[str, str], ...] = ()  # (device type, name) of the site's utilities

    def teams_acquired(self, block: Block) -> bool:
        """Calling Plan and Operator Connect numbers are bought in Teams: Teams lists them all."""
        teams = any(platform == "teams" for platform, _ in block.mix or self.mix)
        return teams and self.teams_type in ("Calling Plan", "Operator Connect")


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # usages or vendor_numbers
    cluster: str
    escaped: bool = False  # CUCM SQL exports write `+` as `\+`

    @property
    def file(self) -> str:
        return f"{self.name}.csv" if self.name.endswith("numbers") else f"{self.name}-usages.csv"


@dataclass(frozen=True)
class Customer:
    name: str
    parent: str  # path of the node above the customer
    folder: str
    domain: str
    sites: tuple[Site, ...]
    sources: tuple[Source, ...]
    slc: bool = False
    cooling_enabled: bool = False

    @property
    def path(self) -> str:
        return f"{self.parent}.{self.name}"

    def site_path(self, site: Site) -> str:
        return ".".join(p for p in (self.path, site.region, site.name) if p)


# ---------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Use:
    """One row of a `usages` export, the number as the platform writes it."""

    source: str
    hierarchy: str  # the device's node; '' = unmapped
    device_type: str
    device_name: str
    number: str
    partition: str = ""
    cluster: str = ""  # '' = the source's cluster
    vendor: str = ""
    number_type: str = ""
    owner: str = ""
    online: bool = True


@dataclass
class Entry:
    number: str
    hierarchy: str
    status: str
    usage: str = ""
    vendor: str = ""
    number_type: str = ""
    e164: str = ""
    release_date: date | None = None
    reserved_until: date | None = None
    tag: str = ""
    description: str = ""
    reservation_notes: str = ""
    extra1: str = ""  # cost centre, as administrators keep it


@dataclass(frozen=True)
class VendorNumber:
    source: str
    hierarchy: str  # '' = held at the customer (tenant) level
    number: str
    vendor: str
    number_type: str
    assigned: bool
    blocked_state: str = ""
    blocked_until: date | None = None


@dataclass(frozen=True)
class Person:
    display: str
    userid: str
    upn: str


def picture(uses: Sequence[Use]) -> tuple[str, str, str, str]:
    """Status, usage, vendor and number type an audit derives from these usages (SPEC 3),
    so that an inventory row that agrees with its platforms is left unchanged."""
    online = [u for u in uses if u.online]
    types = [_TYPES[u.device_type] for u in online]
    usage = ",".join(sorted({t.usage for t in types}, key=USAGE_ORDER.index))
    status = "Used" if any(t.status == "Used" for t in types) else "Used-Utility"
    ranked = sorted(online, key=lambda u: USAGE_ORDER.index(_TYPES[u.device_type].usage))
    vendors = list(dict.fromkeys(u.vendor or _TYPES[u.device_type].vendor for u in ranked))
    vendor = vendors[0] if len(vendors) == 1 else ", ".join(v or "Cisco" for v in vendors)
    number_type = next((u.number_type for u in ranked if u.number_type), "")
    return status, usage, vendor, number_type


def deal(rng: random.Random, count: int, fates: Sequence[tuple[str, float]], rest: str) -> list[str]:
    """Exact shares of a block, shuffled: fractions stay put on small sites (the audit's
    safety guard refuses to free more than a tenth of a customer's numbers)."""
    dealt = [fate for fate, share in fates for _ in range(int(count * share + 0.5))][:count]
    dealt += [rest] * (count - len(dealt))
    rng.shuffle(dealt)
    return dealt


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


# ---------------------------------------------------------------------------- one customer


class EstateBuilder:
    """Builds one customer's inventory, usages and Teams numbers, then writes them."""

    def __init__(self, customer: Customer, rng: random.Random, today: date) -> None:
        self.customer, self.rng, self.today = customer, rng, today
        self.sources = {s.name: s for s in customer.sources}
        self.entries: dict[tuple[str, str], Entry] = {}
        self.uses: list[Use] = []
        self.vendor_numbers: list[VendorNumber] = []
        self.userids: set[str] = set()
        self.macs: set[str] = set()
        # Indexes into self.uses of single-device users by "CODE:device type", for the special cases.
        self.slots: dict[str, list[int]] = {}

    # -- names

    def person(self) -> Person:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        base = _ascii(first[0] + last)
        userid, n = base, 1
        while userid in self.userids:
            n += 1
            userid = f"{base}{n}"
        self.userids.add(userid)
        suffix = "" if n == 1 else str(n)
        return Person(f"{first} {last}", userid, f"{_ascii(first)}.{_ascii(last)}{suffix}@{self.customer.domain}")

    def mac(self, oui: str = "") -> str:
        while True:
            value = oui + f"{self.rng.getrandbits(48 - 4 * len(oui)):0{12 - len(oui)}X}"
            if value not in self.macs:
                self.macs.add(value)
                return value

    # -- numbers as each platform writes them

    def cucm_number(self, source: str, number: str) -> str:
        return "\\" + number if self.sources[source].escaped and number.startswith("+") else number

    def teams_number(self, number: str) -> str:
        # Direct Routing users often carry the extension in their LineURI.
        return f"tel:{number};ext={number[-4:]}" if self.rng.random() < 0.25 else f"tel:{number}"

    @staticmethod
    def formatted(number: str) -> str:
        """A North American number as a person types it into a spreadsheet."""
        if number.startswith("+1") and len(number) == 12:
            return f"+1 ({number[2:5]}) {number[5:8]}-{number[8:]}"
        return number

    # -- usages

    def user_uses(self, site: Site, path: str, number: str, platform: str) -> list[Use]:
        person = self.person()
        if platform == "cucm":
            written, partition = self.cucm_number(site.cucm, number), f"PT_{site.code}_DN"
            roll = self.rng.random()
            if roll < 0.06:  # hot-desk user: Extension Mobility profile only
                return [Use(site.cucm, path, PROFILE, f"UDP_{person.userid}", written, partition, owner=person.userid)]
            phone = Use(site.cucm, path, PHONE, f"SEP{self.mac()}", written, partition, owner=person.userid)
            if roll < 0.11:  # Single Number Reach to a mobile
                return [phone, Use(site.cucm, path, RDP, f"RDP_{person.userid}", written, partition, owner=person.userid)]
            if roll < 0.15:  # shared line: an assistant's phone carries the manager's line
                assistant = self.person()
                return [phone, Use(site.cucm, path, PHONE, f"SEP{self.mac()}", written, partition, owner=assistant.userid)]
            return [phone]
        if platform == "teams":
            written = self.teams_number(number) if site.teams_type == "Direct Routing" else f"tel:{number}"
            return [Use("teams", path, TEAMS, person.display, written, vendor="Microsoft", number_type=site.teams_type, owner=person.upn)]
        if platform in ("webex", "webex_ext"):
            number_type = "Extension" if platform == "webex_ext" else "Phone Number"
            return [Use("webex", path, WEBEX, person.display, number, vendor="Webex Calling", number_type=number_type, owner=person.upn)]
        if platform == "audiocodes":
            port = self.rng.choice(ANALOG_PORTS)
            return [Use("audiocodes", path, AUDIOCODES, f"{number}@sbc-{site.code.lower()}.{self.customer.domain}", number, vendor="AudioCodes", owner=port)]
        if platform == "multivendor":
            vendor, model, oui = self.rng.choice(MULTIVENDOR_MODELS)
            room = f"{site.code}-{self.rng.randint(1, 12)}-{self.rng.choice(('Boardroom', 'Huddle', 'Lobby', 'Training'))}"
            written = self.formatted(number) if self.rng.random() < 0.5 else number
            return [Use(site.cucm, path, MULTIVENDOR, f"{model}-{self.mac(oui)}", written, vendor=vendor, owner=room)]
        raise ValueError(f"unknown platform {platform!r}")

    def service_use(self, site: Site, path: str, number: str, device_type: str, name: str) -> Use:
        if device_type == WEBEX:  # Webex services are numbers owned by an auto attendant or queue
            owner, _, label = name.partition(":")
            return Use("webex", path, WEBEX, label, number, vendor="Webex Calling", number_type="Phone Number", owner=owner)
        partition = f"PT_{site.code}_Park" if device_type in (PARK, DIRECTED_PARK) else f"PT_{site.code}_Services"
        return Use(site.cucm, path, device_type, name, self.cucm_number(site.cucm, number), partition)

    def add_uses(self, uses: list[Use], code: str = "") -> None:
        """`code`: remember a single-device user of that site for the special cases."""
        if code and len(uses) == 1:
            self.slots.setdefault(f"{code}:{uses[0].device_type}", []).append(len(self.uses))
        self.uses.extend(uses)

    # -- inventory

    def put(self, entry: Entry) -> Entry:
        key = (entry.number, entry.hierarchy)
        if key in self.entries:
            raise ValueError(f"demo generator bug: {key} twice")
        self.entries[key] = entry
        return entry

    def used_entry(self, number: str, path: str, uses: Sequence[Use], block: Block) -> Entry:
        status, usage, vendor, number_type = picture(uses)
        return Entry(number, path, status, usage, vendor, number_type, tag=block.tag, description=block.description)

    def stale_entry(self, number: str, path: str, platform: str, block: Block) -> Entry:
        """What the inventory still says after a change nobody recorded."""
        if platform == "cucm":  # back from a Teams pilot to a desk phone
            return Entry(number, path, "Used", "User", "Microsoft", "Direct Routing", tag=block.tag, description=block.description)
        return Entry(number, path, "Used", "Device", "", "", tag=block.tag, description=block.description)  # migrated off CUCM

    def reserved_entry(self, number: str, path: str, block: Block) -> Entry:
        who = self.person()
        reason = self.rng.choice(("New starter", "Transfer from another site", "Project hotline", "Contractor"))
        until = self.today + timedelta(days=self.rng.randint(14, 90)) if self.rng.random() < 0.6 else None
        return Entry(number, path, "Reserved", tag=who.userid, description=block.description,
                     reservation_notes=f"{reason} {who.display}, requested by {self.person().userid}", reserved_until=until)

    def cooling_entry(self, number: str, path: str, block: Block, past: bool) -> Entry:
        days = -self.rng.randint(1, 40) if past else self.rng.randint(3, 25)
        return Entry(number, path, "Cooling", release_date=self.today + timedelta(days=days), tag=block.tag, description=block.description)

    # -- sites

    def build_site(self, site: Site) -> None:
        path = self.customer.site_path(site)
        for block in site.blocks:
            if block.role == "services":
                self.build_services(site, path, block)
            else:
                self.build_block(site, path, block)

    def numbers(self, block: Block) -> list[str]:
        return [("+" if block.plus else "") + str(block.first + i) for i in range(block.count)]

    def build_block(self, site: Site, path: str, block: Block) -> None:
        mix = block.mix or site.mix
        if block.role == "users":
            fates = deal(self.rng, block.count, USER_FATES, "used")
        else:
            fates = deal(self.rng, block.count, SPARE_FATES, "available")
        for i, (number, fate) in enumerate(zip(self.numbers(block), fates, strict=True)):
            platform = self.rng.choices([p for p, _ in mix], [w for _, w in mix])[0]
            entry: Entry | None = None
            if fate in USED_FATES or fate == "freed":
                uses = self.user_uses(site, path, number, platform)
                if fate == "used":
                    entry = self.used_entry(number, path, uses, block)
                elif fate == "freed":
                    entry, uses = self.used_entry(number, path, uses, block), []
                elif fate == "new_use":
                    entry = Entry(number, path, "Available", tag=block.tag, description=block.description)
                elif fate == "stale":
                    entry = self.stale_entry(number, path, platform, block)
                elif fate == "reserved_used":
                    entry = self.reserved_entry(number, path, block)
                self.add_uses(uses, site.code if fate == "used" else "")
            elif fate == "reserved":
                entry = self.reserved_entry(number, path, block)
            elif fate in ("cooling_past", "cooling_future"):
                entry = self.cooling_entry(number, path, block, past=fate == "cooling_past")
            elif fate == "available":
                entry = Entry(number, path, "Available", tag=block.tag, description=block.description)
            if entry is not None:
                if block.e164_first is not None:
                    entry.e164 = f"+{block.e164_first + i}"
                if entry.status != "Reserved" and self.rng.random() < 0.3:
                    entry.extra1 = f"CC-{site.code}-{self.rng.choice((100, 200, 300, 410))}"
                if site.teams_acquired(block) and not entry.usage and self.rng.random() < 0.85:
                    # Numbers bought in Teams were loaded with their vendor; a few were not.
                    entry.vendor, entry.number_type = "Microsoft", site.teams_type
                self.put(entry)

    def build_services(self, site: Site, path: str, block: Block) -> None:
        services: list[tuple[str, str] | None] = [*site.services, *[None] * block.count]
        for i, (number, service) in enumerate(zip(self.numbers(block), services, strict=False)):
            if service is None:
                self.put(Entry(number, path, "Available", tag=block.tag, description=block.description))
                continue
            use = self.service_use(site, path, number, *service)
            # The first services (reception, pickup) always exist: the special cases use them.
            roll = self.rng.random() if i >= 2 else 1.0
            if roll < 0.06:  # deleted on the platform, still Used in the inventory
                self.put(self.used_entry(number, path, [use], block))
                continue
            self.add_uses([use])
            if roll >= 0.11:  # else: configured but never added to the inventory
                self.put(self.used_entry(number, path, [use], block))

    # -- Teams numbers

    def teams_numbers(self, site: Site, blocked: Sequence[str] = ()) -> None:
        """Every number Teams holds at a Calling Plan / Operator Connect site; `blocked`
        names the states to give to some of its unused Available numbers."""
        path = self.customer.site_path(site)
        used = {self.normalised(u.number) for u in self.uses if u.device_type == TEAMS and u.hierarchy == path}
        spare = []
        rows = []
        for block in (b for b in site.blocks if site.teams_acquired(b)):
            for number in self.numbers(block):
                rows.append(VendorNumber("teams-numbers", path, number, "Microsoft", site.teams_type, number in used))
                entry = self.entries.get((number, path))
                if number not in used and entry is not None and entry.status == "Available":
                    spare.append(len(rows) - 1)
        for state, index in zip(blocked, self.rng.sample(spare, len(blocked)), strict=True):
            until = self.today + timedelta(days=self.rng.randint(5, 20)) if state == "BlockedUntil" else None
            rows[index] = replace(rows[index], blocked_state=state, blocked_until=until)
        self.vendor_numbers.extend(rows)

    @staticmethod
    def normalised(number: str) -> str:
        return number.removeprefix("tel:").split(";")[0].replace("\\", "")

    # -- special cases

    def take(self, code: str, device_type: str) -> tuple[int, Use]:
        """A single-device user of that site (taken from the pool, so cases never overlap)."""
        index = self.slots[f"{code}:{device_type}"].pop(0)
        return index, self.uses[index]

    # -- output

    def write(self, folder: Path, settings: dict[str, object], comment: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        customer = self.customer
        _write_csv(folder / "hierarchy.csv", HIERARCHY_HEADER, hierarchy_rows(customer))
        entries = sorted(self.entries.values(), key=lambda e: (e.hierarchy, e.number))
        _write_csv(folder / "inventory.csv", INVENTORY_HEADER, (_entry_row(e) for e in entries))
        for source in customer.sources:
            if source.kind == "usages":
                rows = (_use_row(u) for u in self.uses if u.source == source.name)
                _write_csv(folder / source.file, USAGES_HEADER, rows)
            else:
                numbers = (_vendor_row(v) for v in self.vendor_numbers if v.source == source.name)
                _write_csv(folder / source.file, VENDOR_NUMBERS_HEADER, numbers)
        estate = folder / "estate.toml"
        estate.write_text(estate_toml(customer, settings, comment), encoding="utf-8", newline="\n")
        return estate


# ---------------------------------------------------------------------------- files


def hierarchy_rows(customer: Customer) -> list[list[str]]:
    def row(path: str, kind: str, managed: bool, slc: bool = False) -> list[str]:
        return [path, kind, _bool(managed), _bool(slc), "false"]

    rows = [row(ROOT, "provider", False), row(PROVIDER, "provider", False)]
    if customer.parent == RESELLER:
        rows.append(row(RESELLER, "reseller", False))
    rows.append(row(customer.path, "customer", True, customer.slc))
    regions = list(dict.fromkeys(s.region for s in customer.sites if s.region))
    rows += [row(f"{customer.path}.{r}", "intermediate", True) for r in regions]
    rows += [row(customer.site_path(s), "site", True, customer.slc) for s in customer.sites]
    return rows


def estate_toml(customer: Customer, settings: dict[str, object], comment: str) -> str:
    lines = [f"# {line}".rstrip() for line in comment.strip().splitlines()]
    lines += [
        f"customer = {_toml(customer.path)}",
        'hierarchy = "hierarchy.csv"',
        'inventory = "inventory.csv"',
        "",
        "[settings]",
        *(f"{key} = {_toml(value)}" for key, value in settings.items()),
    ]
    for source in customer.sources:
        lines += [
            "",
            "[[sources]]",
            f"name = {_toml(source.name)}",
            f"kind = {_toml(source.kind)}",
            f"path = {_toml(source.file)}",
            f"cluster = {_toml(source.cluster)}",
        ]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return _bool(value)
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string of plain text is a TOML basic string


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _entry_row(e: Entry) -> list[str]:
    return [
        e.number, e.hierarchy, e.status, e.usage, e.vendor, e.number_type, e.e164, _date(e.release_date),
        _date(e.reserved_until), e.tag, e.description, e.reservation_notes, e.extra1, *[""] * 8,
    ]


def _use_row(u: Use) -> list[str]:
    return [u.hierarchy, u.device_type, u.device_name, u.number, u.partition, u.cluster, u.vendor, u.number_type, u.owner, _bool(u.online)]


def _vendor_row(v: VendorNumber) -> list[str]:
    return [v.hierarchy, v.number, v.vendor, v.number_type, _bool(v.assigned), v.blocked_state, _date(v.blocked_until)]


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="\n")


# ---------------------------------------------------------------------------- the three customers

CUCM_SERVICES = (
    (HUNT, "HP_{code}_Reception"), (PICKUP, "PG_{code}_Finance"), (PARK, "CP_{code}_1"),
    (DIRECTED_PARK, "DCP_{code}_1"), (CTI_RP, "CTIRP_{code}_IVR"), (MEETME, "MM_{code}_Bridge1"),
    (HUNT, "HP_{code}_ServiceDesk"), (PICKUP, "PG_{code}_Facilities"), (PARK, "CP_{code}_2"),
    (PARK, "CP_{code}_3"), (DIRECTED_PARK, "DCP_{code}_2"), (CTI_RP, "CTIRP_{code}_Recorder"),
    (MEETME, "MM_{code}_Bridge2"), (HUNT, "HP_{code}_Sales"),
)
WEBEX_SERVICES = (
    (WEBEX, "AUTO_ATTENDANT:{name} Main Menu"), (WEBEX, "HUNT_GROUP:{name} Front Desk"),
    (WEBEX, "CALL_QUEUE:{name} Support"),
)


def cucm_site(
    name: str, code: str, region: str, first: int, users: int, services: int, spare: int, *,
    cucm: str, mix: tuple[tuple[str, float], ...] = (("cucm", 1.0),), teams_type: str = "",
    plus: bool = True, e164_first: int | None = None, label: str = "",
) -> Site:
    """A site with one contiguous range: users, then services, then spare numbers."""
    label = label or name

    def shown(n: int) -> str:
        return f"+{n}" if plus else str(n)

    def block(role: str, start: int, count: int, what: str) -> Block:
        e164 = e164_first + (start - first) if e164_first is not None and role == "users" else None
        return Block(role, start, count, f"{code}-{role.upper()}", f"{label} {what} {shown(start)}-{shown(start + count - 1)}", plus, e164_first=e164)
    blocks = [block("users", first, users, "users")]
    if services:
        blocks.append(block("services", first + users, services, "services"))
    if spare:
        blocks.append(block("spare", first + users + services, spare, "spare"))
    template = WEBEX_SERVICES if mix[0][0] == "webex" else CUCM_SERVICES
    named = tuple((t, n.format(code=code, name=label)) for t, n in template)
    return Site(name, code, region, tuple(blocks), mix, cucm, teams_type, named)


def customers() -> tuple[Customer, ...]:
    acme_sources = (
        Source("cucm-emea", "usages", "CL-EMEA", escaped=True),
        Source("cucm-amer", "usages", "CL-AMER"),
        Source("teams", "usages", "M365-ACME"),
        Source("audiocodes", "usages", "SBC-LON01"),
        Source("teams-numbers", "vendor_numbers", "M365-ACME"),
    )
    acme = Customer("Acme", PROVIDER, "acme", "acme.example", (
        cucm_site("London", "LON", "EMEA", 442079460000, 360, 14, 126, cucm="cucm-emea", teams_type="Direct Routing",
                  mix=(("cucm", 0.70), ("teams", 0.22), ("audiocodes", 0.05), ("multivendor", 0.03))),
        cucm_site("Manchester", "MAN", "EMEA", 441614960000, 140, 10, 50, cucm="cucm-emea"),
        cucm_site("Leeds", "LDS", "EMEA", 441134960000, 70, 5, 25, cucm="cucm-emea"),
        cucm_site("Paris", "PAR", "EMEA", 33199000000, 140, 10, 50, cucm="cucm-emea", teams_type="Direct Routing", mix=(("cucm", 0.85), ("teams", 0.15))),
        cucm_site("Frankfurt", "FRA", "EMEA", 496975000000, 100, 10, 40, cucm="cucm-emea"),
        cucm_site("NewYork", "NYC", "AMER", 12125551000, 220, 14, 66, cucm="cucm-amer", label="New York", mix=(("cucm", 0.9), ("multivendor", 0.1))),
        cucm_site("Chicago", "CHI", "AMER", 13125552000, 140, 10, 50, cucm="cucm-amer", mix=(("cucm", 0.93), ("multivendor", 0.07))),
        cucm_site("Toronto", "TOR", "AMER", 14165553000, 60, 0, 40, cucm="", teams_type="Operator Connect", mix=(("teams", 1.0),)),
        cucm_site("Singapore", "SIN", "APAC", 6565550000, 50, 0, 50, cucm="", teams_type="Calling Plan", mix=(("teams", 1.0),)),
        cucm_site("Sydney", "SYD", "APAC", 61255500000, 50, 0, 50, cucm="", teams_type="Calling Plan", mix=(("teams", 1.0),)),
    ), acme_sources)

    globex_sources = (
        Source("cucm", "usages", "CL-GLOBEX", escaped=True),
        Source("webex", "usages", "WXC-GLOBEX"),
    )
    webex = (("webex", 1.0),)

    def webex_site(name: str, code: str, first: int, users: int, spare: int, ext_first: int, ext_count: int, label: str = "") -> Site:
        base = cucm_site(name, code, "", first, users, 3, spare, cucm="", mix=webex, label=label)
        extensions = Block("users", ext_first, ext_count, f"{code}-EXT", f"{label or name} extension-only numbers {ext_first}-{ext_first + ext_count - 1}", plus=False, mix=(("webex_ext", 1.0),))
        return replace(base, blocks=(*base.blocks, extensions))

    globex = Customer("Globex", PROVIDER, "globex", "globex.example", (
        cucm_site("Springfield", "SPR", "", 12175550000, 280, 14, 106, cucm="cucm"),
        cucm_site("Shelbyville", "SHB", "", 12175550400, 140, 10, 50, cucm="cucm"),
        cucm_site("CypressCreek", "CYC", "", 15415550000, 200, 14, 86, cucm="cucm", label="Cypress Creek"),
        cucm_site("WaverlyHills", "WVH", "", 13145550000, 70, 5, 25, cucm="cucm", label="Waverly Hills"),
        webex_site("CapitalCity", "CAP", 16365550000, 140, 57, 6000, 50, label="Capital City"),
        webex_site("Ogdenville", "OGD", 14065550000, 70, 27, 6100, 30),
        webex_site("NorthHaverbrook", "NHB", 14065550100, 70, 27, 6200, 30, label="North Haverbrook"),
        webex_site("Brockway", "BRW", 14065550200, 70, 27, 6300, 20),
    ), globex_sources, cooling_enabled=True)

    initech_sources = (
        Source("cucm", "usages", "CL-INITECH"),
        Source("teams", "usages", "M365-INITECH"),
        Source("teams-numbers", "vendor_numbers", "M365-INITECH"),
    )
    dallas = cucm_site("Dallas", "DAL", "Texas", 1000, 150, 10, 40, cucm="cucm", plus=False, e164_first=12145551000)
    teams_only = (("teams", 1.0),)
    dallas_teams = (
        Block("users", 12145553000, 30, "DAL-TEAMS", "Dallas Teams Operator Connect +12145553000-+12145553029", mix=teams_only),
        Block("spare", 12145553030, 20, "DAL-TEAMS-SPARE", "Dallas Teams spare +12145553030-+12145553049", mix=teams_only),
    )
    initech = Customer("Initech", RESELLER, "initech", "initech.example", (
        cucm_site("Austin", "AUS", "Texas", 1000, 240, 14, 46, cucm="cucm", plus=False, e164_first=15125551000),
        replace(dallas, blocks=(*dallas.blocks, *dallas_teams), teams_type="Operator Connect"),
        cucm_site("Houston", "HOU", "Texas", 1000, 110, 10, 30, cucm="cucm", plus=False, e164_first=17135551000),
        cucm_site("Denver", "DEN", "West", 1000, 75, 5, 20, cucm="cucm", plus=False),
        cucm_site("Portland", "PDX", "West", 2000, 75, 5, 20, cucm="cucm", plus=False),
        cucm_site("SanJose", "SJC", "West", 3000, 110, 10, 30, cucm="cucm", plus=False, label="San Jose"),
        cucm_site("Boise", "BOI", "West", 1000, 40, 0, 10, cucm="cucm", plus=False),
        cucm_site("Raleigh", "RAL", "", 1000, 75, 5, 20, cucm="cucm", plus=False),
    ), initech_sources, slc=True)
    return acme, globex, initech


# ---------------------------------------------------------------------------- per-customer stories


def build_acme(b: EstateBuilder) -> None:
    c = b.customer
    for site in c.sites:
        b.build_site(site)
    sites = {s.code: s for s in c.sites}
    path = {code: c.site_path(s) for code, s in sites.items()}
    b.teams_numbers(sites["TOR"], ("BlockedForever",))
    b.teams_numbers(sites["SIN"], ("BlockedUntil",))
    b.teams_numbers(sites["SYD"], ("BlockedUntil",))

    # Shared pool and global services at the customer: numbers any site may use.
    pool = Block("spare", 442079469900, 100, "ACME-GLOBAL", "Acme global services and shared pool +442079469900-+442079469999")
    numbers = b.numbers(pool)
    services = (
        (VM_PILOT, "VM_Pilot_Acme", "cucm-emea"), (HANDLER, "Acme Main Menu", "cucm-emea"),
        (HANDLER, "Acme After Hours", "cucm-emea"), (HANDLER, "Acme Holiday Greeting", "cucm-emea"),
        (HUNT, "HP_Acme_GlobalHelpdesk", "cucm-emea"), (HUNT, "HP_Acme_Switchboard", "cucm-amer"),
        (MEETME, "MM_Acme_Global1", "cucm-amer"), (MEETME, "MM_Acme_Global2", "cucm-amer"),
    )
    for number, (device_type, name, source) in zip(numbers, services, strict=False):
        use = Use(source, c.path, device_type, name, b.cucm_number(source, number), "PT_Global_Services")
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool))
    # A London phone on a pool number held at the customer (stays Used there), another on a
    # pool number still Available there (updated at the customer), and a pool number whose
    # phone was deleted (released).
    for number, status in ((numbers[50], "Used"), (numbers[51], "Available")):
        use = Use("cucm-emea", path["LON"], PHONE, f"SEP{b.mac()}", b.cucm_number("cucm-emea", number), "PT_LON_DN", owner=b.person().userid)
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool) if status == "Used" else Entry(number, c.path, "Available", tag=pool.tag, description=pool.description))
    b.put(Entry(numbers[52], c.path, "Used", "Device", tag=pool.tag, description=pool.description))
    # Operator Connect numbers bought for the tenant, not yet placed at a site.
    for number in numbers[60:70]:
        b.vendor_numbers.append(VendorNumber("teams-numbers", "", number, "Microsoft", "Operator Connect", False))
    b.vendor_numbers.append(VendorNumber("teams-numbers", "", "+442079468990", "Microsoft", "Operator Connect", False))
    for number in numbers[len(services):]:
        if (number, c.path) not in b.entries:
            fate = "reserved" if number in numbers[70:76] else "available"
            entry = b.reserved_entry(number, c.path, pool) if fate == "reserved" else Entry(number, c.path, "Available", tag=pool.tag, description=pool.description)
            b.put(entry)

    # The same phone (MAC) registered in both clusters: moved from London to New York
    # without being deleted in CL-EMEA (duplicate_phone).
    _, london_phone = b.take("LON", PHONE)
    index, ny_phone = b.take("NYC", PHONE)
    b.uses[index] = replace(ny_phone, device_name=london_phone.device_name)
    # A traveller's Extension Mobility profile built in both clusters with the same line
    # (duplicate_device_profile and number_in_clusters on one New York entry).
    _, traveller = b.take("NYC", PHONE)
    user = traveller.owner
    b.add_uses([replace(traveller, device_type=PROFILE, device_name=f"UDP_{user}", source="cucm-amer")])
    b.add_uses([replace(traveller, device_type=PROFILE, device_name=f"UDP_{user}", source="cucm-emea", number="\\" + b.normalised(traveller.number), partition="PT_Visitors_DN")])
    # London's reception pilot also built in CL-AMER for follow-the-sun (number_in_clusters).
    reception = next(u for u in b.uses if u.device_name == "HP_LON_Reception")
    b.add_uses([replace(reception, source="cucm-amer", number=b.normalised(reception.number), partition="PT_FollowTheSun")])
    # A Manchester line left behind in the legacy partition after a dial plan migration:
    # one number in two partitions, one entry, no exception.
    _, manchester = b.take("MAN", PHONE)
    b.add_uses([replace(manchester, device_name=f"SEP{b.mac()}", partition="PT_Legacy_DN")])
    # AudioCodes analogue ports that stopped registering (2-day cooling), and one that came
    # back inside its cooling window (Used again).
    for _ in range(3):
        index, port = b.take("LON", AUDIOCODES)
        b.uses[index] = replace(port, online=False)
    _, back = b.take("LON", AUDIOCODES)
    entry = b.entries[(back.number, back.hierarchy)]
    entry.status, entry.usage, entry.release_date = "Cooling", "", b.today + timedelta(days=1)
    # Devices in an unmapped device pool / usage location (unmapped_device), and typos (bad_number).
    b.add_uses([
        Use("cucm-emea", "", PHONE, f"SEP{b.mac()}", "\\+442079468800", "PT_LAB_DN", owner="labtech"),
        Use("cucm-emea", "", PHONE, f"SEP{b.mac()}", "\\+442079468801", "PT_LAB_DN", owner="labtech"),
        Use("teams", "", TEAMS, "Conference Room Lab", "tel:+442079468802", vendor="Microsoft", number_type="Direct Routing", owner=f"lab.room@{c.domain}"),
        Use("cucm-emea", path["LDS"], PHONE, f"SEP{b.mac()}", "12A4", "PT_LDS_DN", owner=b.person().userid),
        Use("teams", path["LON"], TEAMS, "Temp Agency", "tel:+4420794601O2", vendor="Microsoft", number_type="Direct Routing", owner=f"temp.agency@{c.domain}"),
    ])


def build_globex(b: EstateBuilder) -> None:
    c = b.customer
    for site in c.sites:
        b.build_site(site)
    sites = {s.code: s for s in c.sites}
    pool = Block("spare", 18005550000, 50, "GLOBEX-SERVICES", "Globex toll-free and corporate services +18005550000-+18005550049")
    numbers = b.numbers(pool)
    services = (
        (VM_PILOT, "VM_Pilot_Globex"), (HANDLER, "Globex Main Menu"), (HANDLER, "Globex Customer Care IVR"),
        (HUNT, "HP_Globex_CustomerCare"), (HUNT, "HP_Globex_Sales"), (CTI_RP, "CTIRP_Globex_Contact_Center"),
    )
    for number, (device_type, name) in zip(numbers, services, strict=False):
        use = Use("cucm", c.path, device_type, name, b.cucm_number("cucm", number), "PT_Global_Services")
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool))
    b.put(Entry(numbers[10], c.path, "Used-Utility", "Hunt_Pilot", tag=pool.tag, description="Retired sales hotline"))
    for number in numbers[len(services):]:
        if (number, c.path) not in b.entries:
            b.put(b.reserved_entry(number, c.path, pool) if number in numbers[20:23] else Entry(number, c.path, "Available", tag=pool.tag, description=pool.description))
    # A user moved from Springfield to Shelbyville and kept their number: the entry stays at
    # Springfield, audited as used there (entry_at_other_site).
    index, mover = b.take("SPR", PHONE)
    b.uses[index] = replace(mover, hierarchy=c.site_path(sites["SHB"]), partition="PT_SHB_DN")
    b.add_uses([
        Use("webex", "", WEBEX, "Pop-up Store", "+16365559990", vendor="Webex Calling", number_type="Phone Number", owner=f"popup.store@{c.domain}"),
        Use("webex", c.site_path(sites["CAP"]), WEBEX, "Front Desk Kiosk", "61O5", vendor="Webex Calling", number_type="Extension", owner=f"kiosk@{c.domain}"),
        Use("cucm", c.site_path(sites["SPR"]), PHONE, f"SEP{b.mac()}", "\\+1217555O123", "PT_SPR_DN", owner=b.person().userid),
    ])


def build_initech(b: EstateBuilder) -> None:
    c = b.customer
    for site in c.sites:
        b.build_site(site)
    sites = {s.code: s for s in c.sites}
    b.teams_numbers(sites["DAL"], ("BlockedUntil", "BlockedForever"))
    pool = Block("spare", 15125550100, 50, "INITECH-MAIN", "Initech main numbers +15125550100-+15125550149")
    numbers = b.numbers(pool)
    services = ((HUNT, "HP_Initech_MainLine"), (VM_PILOT, "VM_Pilot_Initech"), (HANDLER, "Initech Main Menu"))
    for number, (device_type, name) in zip(numbers, services, strict=False):
        use = Use("cucm", c.path, device_type, name, number, "PT_Global_Services")
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool))
    # Main numbers held at the customer but now on phones at sites: in site mode the audit
    # must not add a second entry on the path (ancestor_entry).
    for number, code, status in ((numbers[10], "AUS", "Used"), (numbers[11], "DAL", "Available")):
        site = sites[code]
        use = Use("cucm", c.site_path(site), PHONE, f"SEP{b.mac()}", number, f"PT_{code}_DN", owner=b.person().userid)
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool) if status == "Used" else Entry(number, c.path, "Available", tag=pool.tag, description=pool.description))
    for number in numbers[40:50]:  # Operator Connect numbers held by the tenant, no site yet
        b.vendor_numbers.append(VendorNumber("teams-numbers", "", number, "Microsoft", "Operator Connect", False))
    for number in numbers:
        if (number, c.path) not in b.entries:
            b.put(Entry(number, c.path, "Available", "", "Microsoft" if number in numbers[40:] else "", "Operator Connect" if number in numbers[40:] else "", tag=pool.tag, description=pool.description))
    b.add_uses([
        Use("cucm", "", PHONE, f"SEP{b.mac()}", "1999", "PT_LAB_DN", owner="qa.bench"),
        Use("cucm", c.site_path(sites["AUS"]), PHONE, f"SEP{b.mac()}", "1O05", "PT_AUS_DN", owner=b.person().userid),
    ])


# ---------------------------------------------------------------------------- entry point

ACME_COMMENT = """
Acme: three regions (EMEA, AMER, APAC), two CUCM clusters, Teams and an AudioCodes SBC.
No Site Location Code dial plan: audit it in customer mode.
  numaudit audit --customer sys.demo-prov.Acme --mode customer
"""
GLOBEX_COMMENT = """
Globex: CUCM and Webex Calling sites, automated number cooling enabled (30 days).
  numaudit audit --customer sys.demo-prov.Globex --mode customer
"""
INITECH_COMMENT = """
Initech dials by Site Location Code (slc_dial_plan = true on its sites): the same short
extensions (1000, 1001, ...) exist at several sites, so it can only be audited in site mode;
a customer-mode audit is refused.
  numaudit audit --customer sys.demo-prov.Northwind.Initech --mode site
"""


def generate_demo(folder: Path, *, seed: int = 7, today: date | None = None) -> list[Path]:
    """Write the demo estate under `folder`; return the three estate files, Acme first."""
    today = today or date.today()
    rng = random.Random(seed)
    folder = Path(folder)
    acme, globex, initech = customers()
    written = []
    for customer, build, settings, comment in (
        (acme, build_acme, {}, ACME_COMMENT),
        (globex, build_globex, {"cooling_enabled": True, "cooling_days": 30}, GLOBEX_COMMENT),
        (initech, build_initech, {}, INITECH_COMMENT),
    ):
        builder = EstateBuilder(customer, rng, today)
        build(builder)
        defaults: dict[str, object] = {
            "cooling_enabled": False, "cooling_days": 30, "audiocodes_cooling_days": 2,
            "max_release_fraction": 0.10, "hybrid_prefix": "+88800",
        }
        written.append(builder.write(folder / customer.folder, {**defaults, **settings}, comment))
    (folder / "README.md").write_text(readme(written, folder), encoding="utf-8", newline="\n")
    return written


def readme(estates: Sequence[Path], folder: Path) -> str:
    # Paths as typed from the folder's parent (where `make demo` runs), never machine paths.
    name = folder.resolve().name
    files = " ".join(f"{name}/{p.parent.name}/{p.name}" for p in estates)
    return f"""# numaudit demo estate

Generated by `python -m numaudit.demo`: one provider (`sys.demo-prov`) and three customers.

| customer | path | sites | platforms | audit |
| --- | --- | --- | --- | --- |
| Acme | `sys.demo-prov.Acme` | 10 (EMEA, AMER, APAC) | CUCM x2, Teams, AudioCodes | customer mode |
| Globex | `sys.demo-prov.Globex` | 8 | CUCM, Webex Calling; cooling enabled | customer mode |
| Initech | `sys.demo-prov.Northwind.Initech` | 8 (Texas, West) | CUCM, Teams; **Site Location Code dial plan** | **site mode only** |

Initech's sites share extensions (1000, 1001, ... at Austin, Dallas, Houston, ...): only a
site-mode audit can keep them apart, so a customer-mode audit of Initech is refused.

    numaudit load {files}
    numaudit audit --customer sys.demo-prov.Acme --mode customer
    numaudit audit --customer sys.demo-prov.Globex --mode customer
    numaudit audit --customer sys.demo-prov.Northwind.Initech --mode site

Each estate holds numbers the platforms no longer use (released, or cooled where cooling is
enabled and for AudioCodes), numbers in use but Available or missing (updated, added),
cooling numbers due for release, Teams numbers blocked from assignment, and the exceptions of
SPEC 4.6: duplicate phones and device profiles across clusters, numbers in two clusters,
unmapped devices, bad numbers, and (Initech, site mode) numbers held at the customer while used
at a site.
"""


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m numaudit.demo", description="Write the numaudit demo estate.")
    parser.add_argument("folder", type=Path, help="where to write it, e.g. demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD the dates are relative to (default: today)")
    args = parser.parse_args(argv)
    for path in generate_demo(args.folder, seed=args.seed, today=args.today):
        print(path)


if __name__ == "__main__":
    main()
