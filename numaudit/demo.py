"""A realistic demo estate for `make demo`: one provider, three customers, ~5,000 numbers.

    python -m numaudit.demo demo [--seed 7] [--today YYYY-MM-DD]

writes `demo/README.md` and, per customer, `demo/<customer>/estate.toml` with its hierarchy,
existing inventory, and its platforms' own exports in the vendors' formats
(numaudit/demo_exports.py), read by the vendor readers of `sources/`:

- **Acme** (`sys.demo-prov.Acme`, customer mode): EMEA, AMER and APAC regions, ten sites. Two
  CUCM clusters as AXL executeSQLQuery responses of `sources/cucm_numbers.sql` (CL-EMEA paged
  in a folder) plus a listVoiceMailPilot response; Teams (Direct Routing, Operator Connect,
  Calling Plan) as Get-CsPhoneNumberAssignment Format-List text and a Get-CsOnlineUser CSV;
  Unity Connection call handlers (CUPI JSON); an AudioCodes SBC's registered users; a list
  of multi-vendor phones.
- **Globex** (`sys.demo-prov.Globex`, customer mode, automated cooling enabled): eight flat
  sites. CUCM as a BAT "Export Phones - All Details" CSV and AXL list responses (hunt
  pilots, pickup groups, call park, directed call park, meet-me, voicemail pilot); Unity
  (CUPI XML); Webex Calling `/v1/telephony/config/numbers` pages with extension-only numbers.
- **Initech** (`sys.demo-prov.Northwind.Initech`, under reseller Northwind): a Site Location
  Code dial plan, so the same short extensions exist at several sites and it can only be
  audited in **site mode**. CUCM executeSQLQuery (with external phone number masks), Teams
  Operator Connect as a Windows PowerShell Export-Csv, the one call handler a filtered CUPI
  query returns (an object, not a list), and the DID inventory's E.164 associations.

Everything comes from one seeded `random.Random` and `today`: the same seed and day give the
same bytes. Dates are relative to `today`, so a first audit on the day of generation releases
the cooling numbers that are due and keeps the others cooling, whatever the day.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from numaudit.demo_exports import (
    ONLINE_USER_PROPERTIES,
    TEAMS_ASSIGNMENT_PROPERTIES,
    TEAMS_ASSIGNMENT_TYPE,
    AxlField,
    AxlItem,
    BatLine,
    BatPhone,
    NumplanRow,
    PowerShellValue,
    axl_list_response,
    axl_sql_response,
    bat_export_phones,
    cucm_pattern,
    cupi_callhandlers_json,
    cupi_callhandlers_xml,
    format_list,
    plain_csv,
    powershell_export_csv,
    webex_numbers_pages,
    windows_powershell_export_csv,
)
from transforms.usage_types import USAGE_ORDER, USAGE_TYPES

# The loader wants every node's parent in the file and has no "system" kind: the platform's
# `sys` root is listed as the top provider-kind node (as the project's own fixtures do).
CUCM_ANY_DIGIT = "X"  # the wildcard digit of CUCM masks and patterns
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

_TYPES = {t.device_type: t for t in USAGE_TYPES}

# What each source kind can export of a platform. The numplan query has every CUCM number
# but the voicemail pilots (they are not numplan patterns); BAT's phone export has phones
# only (no device profiles or CTI route points); the list operations have the patterns.
SQL_TYPES = (PHONE, PROFILE, RDP, CTI_RP, HUNT, PICKUP, PARK, DIRECTED_PARK, MEETME)
LIST_TYPES = (HUNT, PICKUP, PARK, DIRECTED_PARK, MEETME, VM_PILOT)
KIND_TYPES: dict[str, tuple[str, ...]] = {
    "cucm_axl_sql": SQL_TYPES,
    "cucm_axl_list": LIST_TYPES,
    "cucm_bat_phones": (PHONE,),
    "teams_number_assignment": (TEAMS,),
    "teams_online_users": (TEAMS,),
    "unity_cupi_callhandlers": (HANDLER,),
    "webex_numbers": (WEBEX,),
    "audiocodes_registered_users": (AUDIOCODES,),
    "multivendor_phones": (MULTIVENDOR,),
    "e164_associations": (),
}
# numplan: typepatternusage names of the patterns, typeclass names of the devices.
PATTERN_USAGE = {HUNT: "Hunt Pilot", PICKUP: "Call Pick Up Group", PARK: "CallPark", DIRECTED_PARK: "Directed Call Park", MEETME: "Conference"}
DEVICE_CLASS = {PHONE: "Phone", PROFILE: "Device Profile", RDP: "Remote Destination Profile", CTI_RP: "CTI Route Point"}
# AXL list operation and item element of each pattern kind.
LIST_OPERATION = {
    HUNT: ("listHuntPilot", "huntPilot"), PICKUP: ("listCallPickupGroup", "callPickupGroup"),
    PARK: ("listCallPark", "callPark"), DIRECTED_PARK: ("listDirectedCallPark", "directedCallPark"),
    MEETME: ("listMeetMe", "meetMe"), VM_PILOT: ("listVoiceMailPilot", "voiceMailPilot"),
}
AXL_VERSION = "14.0"
CISCO_PHONE_MODELS = ("Cisco 8845", "Cisco 8865", "Cisco 7841")

# Teams: PowerShell's number types, and the operator of each (OperatorId, PstnPartnerId,
# PstnPartnerName, NumberSource). Calling Plan and Direct Routing carry the ids of
# Microsoft's published examples; the Operator Connect carrier is made up.
TEAMS_NUMBER_TYPES = {"Direct Routing": "DirectRouting", "Calling Plan": "CallingPlan", "Operator Connect": "OperatorConnect"}
OPERATOR_CONNECT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://numaudit.example/demo/operator-connect"))
TEAMS_OPERATORS = {
    "Direct Routing": ("83d289bc-a4d3-41e6-8a3f-cff260a3f091", "", "", "OnPremises"),
    "Calling Plan": ("2b24d246-a9ee-428b-96bc-fb9d9a053c8d", "7fc2f2eb-89aa-41d7-93de-73d015d22ff0", "Microsoft", "Online"),
    "Operator Connect": (OPERATOR_CONNECT_ID, OPERATOR_CONNECT_ID, "Contoso Telecom", "Online"),
}
# Where each Teams site is: City, IsoCountryCode, IsoSubdivision of its emergency address.
TEAMS_PLACES = {
    "LON": ("London", "GB", "England"), "PAR": ("Paris", "FR", "Île-de-France"), "TOR": ("Toronto", "CA", "Ontario"),
    "SIN": ("Singapore", "SG", ""), "SYD": ("Sydney", "AU", "New South Wales"), "DAL": ("Dallas", "US", "Texas"),
}
# PowerShell on an en-US console writes dates as 12/31/2026 12:00:00 AM: the sources say so
# (`options.date_format`), numaudit never guesses a culture's date.
EN_US_DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"
# AudioCodes: the SBC's address, and the IP group index of each site's analogue gateways.
SBC_ADDRESS = "10.44.1.10"
AUDIOCODES_IP_GROUPS = {"LON": "1"}

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

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://numaudit.example/demo")


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
    cucm: str = ""  # the CUCM cluster (Use.system) of the site
    teams_type: str = ""  # Direct Routing, Calling Plan or Operator Connect
    services: tuple[tuple[str, str], ...] = ()  # (device type, name) of the site's utilities
    label: str = ""  # the name people write (`New York` for node NewYork)
    # Where the DIDs of its extensions are known: `mask` (each CUCM line's external phone
    # number mask), `range_mask` (CUCM's masked range, e.g. +1214555XXXX where each X is any
    # digit: a real configuration the reader must not take for an E.164),
    # `associations` (the DID inventory's E.164 associations), '' (nowhere).
    e164_from: str = ""

    def teams_acquired(self, block: Block) -> bool:
        """Calling Plan and Operator Connect numbers are bought in Teams: Teams lists them all."""
        teams = any(platform == "teams" for platform, _ in block.mix or self.mix)
        return teams and self.teams_type in ("Calling Plan", "Operator Connect")

    def platform(self, block: Block) -> str:
        return (block.mix or self.mix)[0][0]


@dataclass(frozen=True)
class Source:
    """One `[[sources]]` of an estate file: one export of one platform."""

    name: str
    kind: str  # a numaudit source kind (sources/registry.py)
    system: str  # the platform whose uses it exports (Use.system); '' for administrators' data
    cluster: str
    path: str  # a file, or a folder (no suffix) of pages
    how: str  # how the export was made: a comment above the source in estate.toml
    device_types: tuple[str, ...] = ()  # part of what its kind can export; () = all of it
    page_size: int = 0  # records per file of a paged export
    filtered: bool = False  # a shared platform queried for this customer's records only

    def exports(self, use: Use) -> bool:
        return use.system == self.system and use.device_type in (self.device_types or KIND_TYPES[self.kind])


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
    """One thing that uses a number, as its platform holds it."""

    system: str  # the platform holding it: a CUCM cluster, teams, webex, unity, audiocodes, multivendor
    hierarchy: str  # the node of its site (or the customer); '' = its platform names no known site
    device_type: str
    device_name: str
    number: str  # as the platform holds it; exports escape it their way (CUCM's `\+`)
    partition: str = ""
    vendor: str = ""
    number_type: str = ""
    owner: str = ""  # CUCM user ID, Teams UPN, Webex owner type
    label: str = ""  # the person's or the service's display name
    online: bool = True
    site_key: str = ""  # the platform's own site value when `hierarchy` is '' (unmapped)
    ext: str = ""  # Teams Direct Routing: the `;ext=` of the number
    mask: str = ""  # CUCM: the line's external phone number mask


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
    """A number a platform holds whether or not it is assigned (Teams acquired numbers)."""

    system: str
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


@dataclass
class SourceSettings:
    """The `[[sources]]` keys an export needs besides name, kind, path and cluster."""

    site_field: str = ""
    site_map: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


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


def block_numbers(block: Block) -> list[str]:
    return [("+" if block.plus else "") + str(block.first + i) for i in range(block.count)]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _ascii_text(text: str) -> str:
    """`Zoë Müller` -> `Zoe Muller`: what CUCM's ASCII name fields hold."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _is_number(value: str) -> bool:
    return re.fullmatch(r"\+?[0-9]+", value) is not None


# ---------------------------------------------------------------------------- one customer


class EstateBuilder:
    """Builds one customer's inventory and what its platforms use, then writes them."""

    def __init__(self, customer: Customer, rng: random.Random, today: date) -> None:
        self.customer, self.rng, self.today = customer, rng, today
        self.sites = {customer.site_path(s): s for s in customer.sites}
        # CUCM clusters exported by the numplan query: the only export with device profiles,
        # remote destination profiles and DNs left on no device (BAT has phones only).
        self.numplan_systems = {s.system for s in customer.sources if s.kind == "cucm_axl_sql"}
        self.entries: dict[tuple[str, str], Entry] = {}
        self.uses: list[Use] = []
        self.vendor_numbers: list[VendorNumber] = []
        # Numplan DNs whose phone was deleted: CUCM keeps them configured on no device.
        self.idle_lines: list[Use] = []
        # Teams users without a phone number (Get-CsOnlineUser lists every user).
        self.teams_users_without_numbers: list[tuple[Person, str]] = []
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

    @staticmethod
    def formatted(number: str) -> str:
        """A North American number as a person types it into a spreadsheet."""
        if number.startswith("+1") and len(number) == 12:
            return f"+1 ({number[2:5]}) {number[5:8]}-{number[8:]}"
        return number

    @staticmethod
    def line_mask(site: Site, e164: str) -> str:
        """A CUCM line's external phone number mask: its E.164, a masked range, or none."""
        if site.e164_from == "mask":
            return e164
        if site.e164_from == "range_mask" and e164:
            return e164[:-4] + CUCM_ANY_DIGIT * 4
        return ""

    # -- usages

    def user_uses(self, site: Site, path: str, number: str, platform: str, e164: str = "") -> list[Use]:
        person = self.person()
        if platform == "cucm":
            partition, mask = f"PT_{site.code}_DN", self.line_mask(site, e164)

            def device(device_type: str, name: str, owner: Person) -> Use:
                return Use(site.cucm, path, device_type, name, number, partition, owner=owner.userid, label=person.display, mask=mask)

            roll = self.rng.random()
            profiles = site.cucm in self.numplan_systems
            if roll < 0.06 and profiles:  # hot-desk user: Extension Mobility profile only
                return [device(PROFILE, f"UDP_{person.userid}", person)]
            phone = device(PHONE, f"SEP{self.mac()}", person)
            if roll < 0.11 and profiles:  # Single Number Reach to a mobile
                return [phone, device(RDP, f"RDP_{person.userid}", person)]
            if roll < 0.15:  # shared line: an assistant's phone carries the manager's line
                return [phone, device(PHONE, f"SEP{self.mac()}", self.person())]
            return [phone]
        if platform == "teams":
            # Direct Routing numbers often carry the user's extension (`;ext=`).
            ext = number[-4:] if site.teams_type == "Direct Routing" and self.rng.random() < 0.25 else ""
            return [Use("teams", path, TEAMS, person.display, number, vendor="Microsoft", number_type=site.teams_type, owner=person.upn, label=person.display, ext=ext)]
        if platform in ("webex", "webex_ext"):
            number_type = "Extension" if platform == "webex_ext" else "Phone Number"
            return [Use("webex", path, WEBEX, person.display, number, vendor="Webex Calling", number_type=number_type, owner="PEOPLE", label=person.display)]
        if platform == "audiocodes":
            return [Use("audiocodes", path, AUDIOCODES, f"{number}@{SBC_ADDRESS}", number, vendor="AudioCodes")]
        if platform == "multivendor":
            vendor, model, oui = self.rng.choice(MULTIVENDOR_MODELS)
            written = self.formatted(number) if self.rng.random() < 0.5 else number
            return [Use("multivendor", path, MULTIVENDOR, f"{model}-{self.mac(oui)}", written, vendor=vendor)]
        raise ValueError(f"unknown platform {platform!r}")

    def service_use(self, site: Site, path: str, number: str, device_type: str, name: str) -> Use:
        if device_type == WEBEX:  # Webex services are numbers owned by an auto attendant or queue
            owner, _, label = name.partition(":")
            return Use("webex", path, WEBEX, label, number, vendor="Webex Calling", number_type="Phone Number", owner=owner, label=label)
        partition = f"PT_{site.code}_Park" if device_type in (PARK, DIRECTED_PARK) else f"PT_{site.code}_Services"
        return Use(site.cucm, path, device_type, name, number, partition, label=name)

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

    def build_block(self, site: Site, path: str, block: Block) -> None:
        mix = block.mix or site.mix
        if block.role == "users":
            fates = deal(self.rng, block.count, USER_FATES, "used")
        else:
            fates = deal(self.rng, block.count, SPARE_FATES, "available")
        for i, (number, fate) in enumerate(zip(block_numbers(block), fates, strict=True)):
            platform = self.rng.choices([p for p, _ in mix], [w for _, w in mix])[0]
            e164 = f"+{block.e164_first + i}" if block.e164_first is not None else ""
            entry: Entry | None = None
            if fate in USED_FATES or fate == "freed":
                uses = self.user_uses(site, path, number, platform, e164)
                if fate == "used":
                    entry = self.used_entry(number, path, uses, block)
                elif fate == "freed":
                    entry = self.used_entry(number, path, uses, block)
                    self.delete_devices(uses)
                    uses = []
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
                # Some DIDs were bought after the inventory was loaded: the DID inventory knows them.
                if e164 and not (site.e164_from == "associations" and self.rng.random() < 0.1):
                    entry.e164 = e164
                if entry.status != "Reserved" and self.rng.random() < 0.3:
                    entry.extra1 = f"CC-{site.code}-{self.rng.choice((100, 200, 300, 410))}"
                if site.teams_acquired(block) and not entry.usage and self.rng.random() < 0.85:
                    # Numbers bought in Teams were loaded with their vendor; a few were not.
                    entry.vendor, entry.number_type = "Microsoft", site.teams_type
                self.put(entry)

    def delete_devices(self, uses: Sequence[Use]) -> None:
        """A user who left: the devices are deleted, and half of the DNs stay configured on no
        device (a numplan row with an empty `devicename`)."""
        lines = [u for u in uses if u.device_type in DEVICE_CLASS and u.system in self.numplan_systems]
        if lines and self.rng.random() < 0.5:
            self.idle_lines.append(lines[0])

    def build_services(self, site: Site, path: str, block: Block) -> None:
        services: list[tuple[str, str] | None] = [*site.services, *[None] * block.count]
        for i, (number, service) in enumerate(zip(block_numbers(block), services, strict=False)):
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
        used = {u.number for u in self.uses if u.device_type == TEAMS and u.hierarchy == path}
        spare = []
        rows = []
        for block in (b for b in site.blocks if site.teams_acquired(b)):
            for number in block_numbers(block):
                rows.append(VendorNumber("teams", path, number, "Microsoft", site.teams_type, number in used))
                entry = self.entries.get((number, path))
                if number not in used and entry is not None and entry.status == "Available":
                    spare.append(len(rows) - 1)
        for state, index in zip(blocked, self.rng.sample(spare, len(blocked)), strict=True):
            until = self.today + timedelta(days=self.rng.randint(5, 20)) if state == "BlockedUntil" else None
            rows[index] = replace(rows[index], blocked_state=state, blocked_until=until)
        self.vendor_numbers.extend(rows)

    def add_teams_users_without_numbers(self, count: int) -> None:
        """Staff on Teams without a phone number: Get-CsOnlineUser lists them with no LineURI."""
        teams_sites = sorted({u.hierarchy for u in self.uses if u.device_type == TEAMS and u.hierarchy})
        for _ in range(count):
            self.teams_users_without_numbers.append((self.person(), self.rng.choice(teams_sites)))

    # -- special cases

    def take(self, code: str, device_type: str) -> tuple[int, Use]:
        """A single-device user of that site (taken from the pool, so cases never overlap)."""
        index = self.slots[f"{code}:{device_type}"].pop(0)
        return index, self.uses[index]

    # -- output

    def write(self, folder: Path, settings: dict[str, object], comment: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        customer = self.customer
        _write(folder / "hierarchy.csv", plain_csv(HIERARCHY_HEADER, hierarchy_rows(customer)))
        entries = sorted(self.entries.values(), key=lambda e: (e.hierarchy, e.number))
        _write(folder / "inventory.csv", plain_csv(INVENTORY_HEADER, [_entry_row(e) for e in entries]))
        unexported = [u for u in self.uses if not any(s.exports(u) for s in customer.sources)]
        if unexported:
            raise ValueError(f"demo generator bug: no source of {customer.name} exports {unexported[0]}")
        exporter = EstateExports(self)
        exports = [(source, exporter.export(source, folder / source.path)) for source in customer.sources]
        estate = folder / "estate.toml"
        _write(estate, estate_toml(customer, settings, comment, exports))
        return estate

class EstateExports:
    """The sources of one built estate, each written in its vendor's format
    (numaudit/demo_exports.py), with the site mapping its estate entry needs."""

    def __init__(self, builder: EstateBuilder) -> None:
        self.customer, self.today, self.sites = builder.customer, builder.today, builder.sites
        self.uses, self.vendor_numbers, self.idle_lines = builder.uses, builder.vendor_numbers, builder.idle_lines
        self.teams_users_without_numbers = builder.teams_users_without_numbers

    def guid(self, *parts: str) -> str:
        """A stable GUID for a platform object: the same estate gives the same ids."""
        return str(uuid.uuid5(DEMO_NAMESPACE, "/".join((self.customer.path, *parts))))

    def export(self, source: Source, target: Path) -> SourceSettings:
        """Write one source's export in its vendor's format; return how its fields map to sites."""
        exporters = {
            "cucm_axl_sql": self.export_numplan,
            "cucm_axl_list": self.export_axl_lists,
            "cucm_bat_phones": self.export_bat_phones,
            "teams_number_assignment": self.export_teams_numbers,
            "teams_online_users": self.export_teams_users,
            "unity_cupi_callhandlers": self.export_callhandlers,
            "webex_numbers": self.export_webex_numbers,
            "audiocodes_registered_users": self.export_registered_users,
            "multivendor_phones": self.export_multivendor_phones,
            "e164_associations": self.export_e164_associations,
        }
        return exporters[source.kind](source, target, [u for u in self.uses if source.exports(u)])

    def site_map(self, source: Source, mapped: Iterable[tuple[str, str]], unmapped: Iterable[str] = ()) -> dict[str, str]:
        """Vendor value -> site (relative to the customer) from the (value, hierarchy) of what
        the source exports. One value names one site; an unmapped device's value names none."""
        mapping: dict[str, str] = {}
        for value, path in mapped:
            if mapping.setdefault(value, path) != path:
                raise ValueError(f"demo generator bug: {source.name}: {value!r} is at {mapping[value]} and {path}")
        clash = sorted(set(unmapped) & set(mapping))
        if clash:
            raise ValueError(f"demo generator bug: {source.name}: unmapped {clash[0]!r} is mapped")
        return {value: self.relative(path) for value, path in sorted(mapping.items())}

    def relative(self, path: str) -> str:
        """A site as estate files write it: relative to the customer (the customer in full)."""
        return path.removeprefix(self.customer.path + ".") if path != self.customer.path else path

    def site_of(self, use: Use) -> Site:
        site = self.sites.get(use.hierarchy)
        if site is None:
            raise ValueError(f"demo generator bug: {use.device_name} has no site")
        return site

    def device_pool(self, use: Use) -> str:
        return use.site_key or f"DP_{self.site_of(use).code}"

    # -- CUCM

    def export_numplan(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """executeSQLQuery responses of sources/cucm_numbers.sql in its `order by`, one per
        `select skip N first <page_size>` page. Sites come from the route partition: an
        Extension Mobility profile has no device pool, and a hunt pilot no device."""
        rows = [self.numplan_row(u) for u in uses]
        rows += [NumplanRow(cucm_pattern(u.number), "Device", u.partition) for u in self.idle_lines if u.system == source.system]
        rows.sort(key=lambda r: (r.dnorpattern, r.routepartition, r.devicename))
        if source.page_size:
            target.mkdir(parents=True, exist_ok=True)
            for start in range(0, len(rows), source.page_size):
                _write(target / f"numplan-skip{start:05d}.xml", axl_sql_response(rows[start : start + source.page_size], AXL_VERSION))
        else:
            _write(target, axl_sql_response(rows, AXL_VERSION))
        mapped = [(u.partition, u.hierarchy) for u in uses if u.hierarchy]
        return SourceSettings("routepartition", self.site_map(source, mapped, [u.partition for u in uses if not u.hierarchy]))

    def numplan_row(self, use: Use) -> NumplanRow:
        pattern = cucm_pattern(use.number)
        if use.device_type in PATTERN_USAGE:
            return NumplanRow(pattern, PATTERN_USAGE[use.device_type], use.partition)
        pool = "" if use.device_type == PROFILE else self.device_pool(use)  # profiles have no device pool
        return NumplanRow(pattern, "Device", use.partition, use.device_name, DEVICE_CLASS[use.device_type], pool, use.owner, use.mask)

    def export_axl_lists(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """One list response per operation (a folder), or the one response of a file. A
        voicemail pilot has no partition: it lands at the source's default site, the customer."""
        responses = []
        for device_type, (operation, item) in LIST_OPERATION.items():
            items = [self.axl_item(source, u) for u in uses if u.device_type == device_type]
            if items:
                responses.append((operation, axl_list_response(operation, item, items, AXL_VERSION)))
        if target.suffix:
            if len(responses) != 1:
                raise ValueError(f"demo generator bug: {source.name} is one file for {len(responses)} responses")
            _write(target, responses[0][1])
        else:
            target.mkdir(parents=True, exist_ok=True)
            for operation, text in responses:
                _write(target / f"{operation}.xml", text)
        pilots = [u for u in uses if u.device_type == VM_PILOT]
        if any(u.hierarchy != self.customer.path for u in pilots):
            raise ValueError(f"demo generator bug: {source.name}: voicemail pilots land at the customer only")
        patterns = [u for u in uses if u.device_type != VM_PILOT]
        if not patterns:
            return SourceSettings()
        mapped = [(u.partition, u.hierarchy) for u in patterns if u.hierarchy]
        return SourceSettings("routePartitionName", self.site_map(source, mapped, [u.partition for u in patterns if not u.hierarchy]))

    def axl_item(self, source: Source, use: Use) -> AxlItem:
        def fk(name: str, value: str) -> AxlField:
            return AxlField(name, value, self.axl_uuid(name, value) if value else "")

        uuid_ = self.axl_uuid(use.device_type, use.number, use.partition)
        if use.device_type == VM_PILOT:
            return AxlItem(uuid_, (AxlField("dirn", cucm_pattern(use.number)), AxlField("description", use.device_name),
                                   fk("cssName", "CSS_VoicemailPilot"), AxlField("isDefault", "true")))
        common = (
            AxlField("pattern", cucm_pattern(use.number)), AxlField("description", use.device_name),
            AxlField("usage", PATTERN_USAGE[use.device_type]), fk("routePartitionName", use.partition),
        )
        specific = {
            HUNT: (fk("huntListName", "HL_" + use.device_name.removeprefix("HP_")), AxlField("alertingName", use.label)),
            PICKUP: (AxlField("name", use.device_name), AxlField("pickupNotification", "No Notification")),
            PARK: (fk("callManagerName", f"{source.cluster}-SUB1"),),
            DIRECTED_PARK: (AxlField("retrievalPrefix", "*8"), AxlField("reversionPattern", ""), fk("revertCssName", "")),
            MEETME: (AxlField("minimumSecurityLevel", "Non Secure"),),
        }
        return AxlItem(uuid_, common + specific[use.device_type])

    def axl_uuid(self, *parts: str) -> str:
        """AXL writes a row's pkid as an upper-case GUID in braces."""
        return "{" + self.guid("axl", *parts).upper() + "}"

    def export_bat_phones(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """One row per phone, its lines in the order they were added; sites by device pool."""
        phones: dict[str, list[Use]] = {}
        for use in uses:
            phones.setdefault(use.device_name, []).append(use)
        records = []
        mapped = []
        for name, lines in sorted(phones.items()):
            first = lines[0]
            site = self.site_of(first)
            pool = self.device_pool(first)
            mapped += [(pool, line.hierarchy) for line in lines]
            model = CISCO_PHONE_MODELS[int(name[-2:], 16) % len(CISCO_PHONE_MODELS)]
            records.append(BatPhone(
                name, first.label, pool, f"LOC_{site.code}", f"CSS_{site.code}_Internal", model, first.owner,
                tuple(BatLine(cucm_pattern(u.number), u.partition, u.label, _ascii_text(u.label), u.mask) for u in lines),
            ))
        _write(target, bat_export_phones(records))
        return SourceSettings("Device Pool", self.site_map(source, mapped))

    # -- Teams

    def teams_location(self, path: str) -> str:
        """The LocationId of a site's emergency address ('' for numbers held by the tenant)."""
        return self.guid("teams-location", path) if path else ""

    def export_teams_numbers(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """Get-CsPhoneNumberAssignment: every number Teams holds, assigned (a user's) or not;
        sites by LocationId. Teams only accepts well-formed numbers, so a typo in a LineURI
        is not among them."""
        records: list[tuple[str, dict[str, PowerShellValue]]] = []
        for use in uses:
            if _is_number(use.number):
                location = self.teams_location(use.hierarchy or use.site_key)
                target_id = self.guid("teams-user", use.owner)
                records.append((use.number, self.assignment(use.number, use.ext, use.number_type, use.hierarchy, location, target_id)))
        for held in self.vendor_numbers:
            if held.system == source.system and not held.assigned:
                record = self.assignment(held.number, "", held.number_type, held.hierarchy, self.teams_location(held.hierarchy), "")
                if held.blocked_state:
                    record["AssignmentBlockedState"] = held.blocked_state
                    record["AssignmentBlockedUntil"] = _en_us(held.blocked_until) if held.blocked_until else ""
                records.append((held.number, record))
        ordered = [record for _, record in sorted(records, key=lambda r: r[0])]
        if target.suffix == ".csv":
            _write(target, windows_powershell_export_csv(ordered, TEAMS_ASSIGNMENT_PROPERTIES, TEAMS_ASSIGNMENT_TYPE))
        else:
            _write(target, format_list(ordered, TEAMS_ASSIGNMENT_PROPERTIES))
        mapped = [(self.teams_location(u.hierarchy), u.hierarchy) for u in uses if u.hierarchy]
        mapped += [(self.teams_location(v.hierarchy), v.hierarchy) for v in self.vendor_numbers if v.hierarchy]
        unmapped = [self.teams_location(u.site_key) for u in uses if not u.hierarchy]
        return SourceSettings("LocationId", self.site_map(source, mapped, unmapped), {"date_format": EN_US_DATE_FORMAT})

    def assignment(self, number: str, ext: str, number_type: str, path: str, location: str, target_id: str) -> dict[str, PowerShellValue]:
        """One Get-CsPhoneNumberAssignment record (assigned when `target_id` is set)."""
        operator, partner, partner_name, number_source = TEAMS_OPERATORS[number_type]
        site = self.sites.get(path)
        direct_routing = number_type == "Direct Routing"
        city, country, subdivision = ("", "", "") if direct_routing or site is None else TEAMS_PLACES[site.code]
        capability = ("ConferenceAssignment", "VoiceApplicationAssignment", "UserAssignment") if direct_routing else ("UserAssignment",)
        return {
            "TelephoneNumber": f"{number};ext={ext}" if ext else number,
            "OperatorId": operator,
            "NumberType": TEAMS_NUMBER_TYPES[number_type],
            "ActivationState": "Activated",
            "AssignedPstnTargetId": target_id,
            "AssignmentCategory": "Primary" if target_id else "",
            "Capability": capability,
            "City": city,
            "CivicAddressId": self.guid("teams-civic-address", path) if location else "",
            "IsoCountryCode": country,
            "IsoSubdivision": subdivision,
            "LocationId": location,
            "LocationUpdateSupported": "True",
            "NetworkSiteId": "",
            "PortInOrderStatus": "",
            "PstnAssignmentStatus": "UserAssigned" if target_id else "Unassigned",
            "PstnPartnerId": partner,
            "PstnPartnerName": partner_name,
            "NumberSource": number_source,
            "ReverseNumberLookup": (),
            "Tag": (),
            "AssignmentBlockedState": "" if direct_routing else "NotBlocked",
            "AssignmentBlockedUntil": "",
            "SmsActivationState": "NotActivated",
        }

    def export_teams_users(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """Get-CsOnlineUser | Export-Csv: LineURI as `tel:+...;ext=...`; sites by City."""
        records: list[dict[str, PowerShellValue]] = []
        for use in uses:
            site = self.sites.get(use.hierarchy)
            city, country, _ = TEAMS_PLACES[site.code] if site else (use.site_key, "GB", "")
            line_uri = f"tel:{use.number}" + (f";ext={use.ext}" if use.ext else "")
            records.append(self.online_user(use.owner, use.label, line_uri, country, city))
        for person, path in self.teams_users_without_numbers:
            city, country, _ = TEAMS_PLACES[self.sites[path].code]
            records.append(self.online_user(person.upn, person.display, "", country, city))
        records.sort(key=lambda r: str(r["UserPrincipalName"]))
        _write(target, powershell_export_csv(records, ONLINE_USER_PROPERTIES))
        mapped = [(TEAMS_PLACES[self.sites[u.hierarchy].code][0], u.hierarchy) for u in uses if u.hierarchy]
        return SourceSettings("City", self.site_map(source, mapped, [u.site_key for u in uses if not u.hierarchy]))

    @staticmethod
    def online_user(upn: str, display: str, line_uri: str, country: str, city: str) -> dict[str, PowerShellValue]:
        return {
            "UserPrincipalName": upn, "DisplayName": display, "EnterpriseVoiceEnabled": "True" if line_uri else "False",
            "LineURI": line_uri, "OnPremLineURI": "", "UsageLocation": country, "City": city,
        }

    # -- Unity Connection

    def export_callhandlers(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """System call handlers; Unity's own Opening Greeting and Goodbye have no extension
        (no DtmfAccessId). They land at the customer (the source's default site)."""
        if any(u.hierarchy != self.customer.path for u in uses):
            raise ValueError(f"demo generator bug: {source.name}: call handlers land at the customer only")
        defaults = [] if source.filtered else [self.callhandler("Opening Greeting", ""), self.callhandler("Goodbye", "")]
        handlers = defaults + [self.callhandler(u.device_name, u.number) for u in uses]
        _write(target, cupi_callhandlers_xml(handlers) if target.suffix == ".xml" else cupi_callhandlers_json(handlers))
        return SourceSettings()

    def callhandler(self, name: str, extension: str) -> dict[str, str]:
        object_id = self.guid("callhandler", name)
        location, schedule = self.guid("cuc-location"), self.guid("cuc-schedule-set")
        switch, partition = self.guid("cuc-phone-system"), self.guid("cuc-partition")
        created = datetime.combine(self.today - timedelta(days=int(object_id[:4], 16) % 2000), time(9, 30))
        uri = f"/vmrest/handlers/callhandlers/{object_id}"
        handler = {
            "URI": uri, "CreationTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "Language": "1033",
            "Undeletable": "false" if extension else "true", "LocationObjectId": location,
            "LocationURI": f"/vmrest/locations/connectionlocations/{location}", "EditMsg": "true", "IsPrimary": "false",
            "OneKeyDelay": "1500", "ScheduleSetObjectId": schedule, "ScheduleSetURI": f"/vmrest/schedulesets/{schedule}",
            "SendUrgentMsg": "0", "MaxMsgLen": "300", "IsTemplate": "false", "ObjectId": object_id, "DisplayName": name,
            "AfterMessageAction": "2", "TimeZone": "190", "UseDefaultLanguage": "true", "UseDefaultTimeZone": "true",
            "MediaSwitchObjectId": switch, "PhoneSystemURI": f"/vmrest/phonesystems/{switch}", "PartitionObjectId": partition,
            "PartitionURI": f"/vmrest/partitions/{partition}", "GreetingsURI": f"{uri}/greetings",
            "TransferOptionsURI": f"{uri}/transferoptions", "MenuEntriesURI": f"{uri}/menuentries",
        }
        if extension:
            handler["DtmfAccessId"] = extension
        return handler

    # -- Webex Calling

    def export_webex_numbers(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """Every number of the Webex locations, with its owner when assigned; extension-only
        rows (`phoneNumber: ""`) exist only on an owner. Sites by location name."""
        webex_sites = [s for s in self.customer.sites if s.platform(s.blocks[0]) == "webex"]
        # Each location's routing prefix: its extensions are dialled as prefix + extension (ESN).
        prefixes = {self.customer.site_path(s): str(8200 + i) for i, s in enumerate(webex_sites, start=1)}
        owned = {u.number: u for u in uses if u.number_type == "Phone Number"}
        rows: list[tuple[tuple[str, str, str], dict[str, object]]] = []

        def add(number: str, location: str, path: str, state: str, owner: Use | None) -> None:
            row = self.webex_row(number, location, path, state, owner, prefixes.get(path, ""))
            rows.append(((location, number, str(row.get("extension", ""))), row))

        for site in webex_sites:
            path = self.customer.site_path(site)
            for block in (b for b in site.blocks if site.platform(b) == "webex"):
                for i, number in enumerate(block_numbers(block)):
                    # The last spare numbers were ported in and are not active yet.
                    state = "INACTIVE" if block.role == "spare" and i >= block.count - 5 else "ACTIVE"
                    add(number, site.label, path, state, owned.pop(number, None))
        for use in owned.values():  # numbers of locations no site maps
            add(use.number, use.site_key, use.hierarchy, "ACTIVE", use)
        for use in uses:
            if use.number_type == "Extension":
                add("", self.site_of(use).label, use.hierarchy, "ACTIVE", use)
        target.mkdir(parents=True, exist_ok=True)
        for page, body in enumerate(webex_numbers_pages([row for _, row in sorted(rows, key=lambda r: r[0])], source.page_size), start=1):
            _write(target / f"numbers-page-{page}.json", body)
        mapped = [(s.label, self.customer.site_path(s)) for s in webex_sites]
        return SourceSettings("location.name", self.site_map(source, mapped, [u.site_key for u in uses if not u.hierarchy]))

    def webex_row(self, number: str, location: str, path: str, state: str, owner: Use | None, routing_prefix: str) -> dict[str, object]:
        """One item of `phoneNumbers`: number-only rows have no extension and, unassigned, no owner."""
        row: dict[str, object] = {"phoneNumber": number}
        if owner is not None and owner.owner == "PEOPLE":
            extension = owner.number if not number else f"4{number[-3:]}"
            row |= {"extension": extension, "routingPrefix": routing_prefix, "esn": routing_prefix + extension}
        row |= {
            "state": state,
            "phoneNumberType": "PRIMARY",
            "mainNumber": owner is not None and owner.owner == "AUTO_ATTENDANT",
            "includedTelephonyTypes": "PSTN_NUMBER",
            "tollFreeNumber": False,
            "isServiceNumber": False,
            "location": {"id": _spark_id("LOCATION", self.guid("webex-location", location)), "name": location},
        }
        if owner is not None:
            first, _, last = owner.label.partition(" ")
            person = {"firstName": first, "lastName": last} if owner.owner == "PEOPLE" else {"firstName": owner.label}
            row["owner"] = {"id": _spark_id(owner.owner, self.guid("webex-owner", owner.label, path)), "type": owner.owner, **person}
        return row

    # -- AudioCodes, multi-vendor phones, E.164

    def export_registered_users(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """The SBC's Registered Users table: AOR and contact (newer firmware: no status text
        when registered, `Not-Active` when not); sites by the contact's IP group."""
        rows = []
        for index, use in enumerate(sorted(uses, key=lambda u: u.device_name), start=20):
            group = AUDIOCODES_IP_GROUPS[self.site_of(use).code]
            status = "" if use.online else " Not-Active;"
            rows.append([use.device_name, f"<sip:{use.number}@10.44.20.{index}:5060>;expires=180;{status} IPG:{group}"])
        _write(target, plain_csv(("Address of Record", "Contact"), rows))
        return SourceSettings(site_map=self.site_map(source, [(AUDIOCODES_IP_GROUPS[self.site_of(u).code], u.hierarchy) for u in uses]))

    def export_multivendor_phones(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        rows = sorted([u.number, u.vendor, u.device_name, self.site_of(u).label] for u in uses)
        _write(target, plain_csv(("number", "phoneVendor", "device name", "site"), rows))
        return SourceSettings(site_map=self.site_map(source, [(self.site_of(u).label, u.hierarchy) for u in uses]))

    def export_e164_associations(self, source: Source, target: Path, uses: list[Use]) -> SourceSettings:
        """The DID inventory's E.164 of the extensions of `associations` sites, as Excel saves
        a sheet (TRUE/FALSE); a few numbers kept their old DID too (N E.164 to 1 number)."""
        rows = []
        for site in (s for s in self.customer.sites if s.e164_from == "associations"):
            for block in site.blocks:
                if block.e164_first is None:
                    continue
                for i, number in enumerate(block_numbers(block)):
                    rows.append([f"+{block.e164_first + i}", number, "TRUE"])
                    if i < 3:  # the DID the number had before the range was renumbered
                        rows.append([f"+{block.e164_first + 9000 + i}", number, "FALSE"])
        _write(target, plain_csv(("e164", "internal number", "primary"), rows))
        return SourceSettings()



def _spark_id(kind: str, guid: str) -> str:
    """Webex ids: base64 of `ciscospark://us/<KIND>/<uuid>`, without padding."""
    return base64.b64encode(f"ciscospark://us/{kind}/{guid}".encode()).decode().rstrip("=")


def _en_us(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year} 12:00:00 AM"


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


def estate_toml(customer: Customer, settings: dict[str, object], comment: str, sources: Sequence[tuple[Source, SourceSettings]]) -> str:
    lines = [f"# {line}".rstrip() for line in comment.strip().splitlines()]
    lines += [
        f"customer = {_toml(customer.path)}",
        'hierarchy = "hierarchy.csv"',
        'inventory = "inventory.csv"',
        "",
        "[settings]",
        *(f"{key} = {_toml(value)}" for key, value in settings.items()),
    ]
    for source, mapping in sources:
        lines += ["", *(f"# {line}" for line in source.how.splitlines()), "[[sources]]"]
        lines += [f"name = {_toml(source.name)}", f"kind = {_toml(source.kind)}", f"path = {_toml(source.path)}"]
        if source.cluster:
            lines.append(f"cluster = {_toml(source.cluster)}")
        if mapping.site_field:
            lines.append(f"site_field = {_toml(mapping.site_field)}")
        if mapping.site_map:
            lines += ["[sources.site_map]", *(f"{_toml(k)} = {_toml(v)}" for k, v in mapping.site_map.items())]
        if mapping.options:
            lines += ["[sources.options]", *(f"{k} = {_toml(v)}" for k, v in mapping.options.items())]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return _bool(value)
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string of plain text is a TOML basic string


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _entry_row(e: Entry) -> list[str]:
    return [
        e.number, e.hierarchy, e.status, e.usage, e.vendor, e.number_type, e.e164, _date(e.release_date),
        _date(e.reserved_until), e.tag, e.description, e.reservation_notes, e.extra1, *[""] * 8,
    ]


def _write(path: Path, content: str | bytes) -> None:
    """Bytes as they are; text as UTF-8 with its own line ends (CRLF where the platform writes them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


# ---------------------------------------------------------------------------- the three customers

CUCM_SERVICES = (
    (HUNT, "HP_{code}_Reception"), (PICKUP, "PG_{code}_Finance"), (PARK, "CP_{code}_1"),
    (DIRECTED_PARK, "DCP_{code}_1"), (CTI_RP, "CTIRP_{code}_IVR"), (MEETME, "MM_{code}_Bridge1"),
    (HUNT, "HP_{code}_ServiceDesk"), (PICKUP, "PG_{code}_Facilities"), (PARK, "CP_{code}_2"),
    (PARK, "CP_{code}_3"), (DIRECTED_PARK, "DCP_{code}_2"), (CTI_RP, "CTIRP_{code}_Recorder"),
    (MEETME, "MM_{code}_Bridge2"), (HUNT, "HP_{code}_Sales"),
)
# A cluster exported with BAT and the list operations: CTI route points are in neither.
CUCM_LIST_SERVICES = (*((t, n) for t, n in CUCM_SERVICES if t != CTI_RP), (PICKUP, "PG_{code}_Reception"), (MEETME, "MM_{code}_Bridge3"))
WEBEX_SERVICES = (
    (WEBEX, "AUTO_ATTENDANT:{name} Main Menu"), (WEBEX, "HUNT_GROUP:{name} Front Desk"),
    (WEBEX, "CALL_QUEUE:{name} Support"),
)


def cucm_site(
    name: str, code: str, region: str, first: int, users: int, services: int, spare: int, *,
    cucm: str, mix: tuple[tuple[str, float], ...] = (("cucm", 1.0),), teams_type: str = "",
    plus: bool = True, e164_first: int | None = None, label: str = "",
    template: tuple[tuple[str, str], ...] = CUCM_SERVICES, e164_from: str = "",
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
    template = WEBEX_SERVICES if mix[0][0] == "webex" else template
    named = tuple((t, n.format(code=code, name=label)) for t, n in template)
    return Site(name, code, region, tuple(blocks), mix, cucm, teams_type, named, label, e164_from)


def customers() -> tuple[Customer, ...]:
    acme_sources = (
        Source("cucm-emea", "cucm_axl_sql", "cucm-emea", "CL-EMEA", "cucm-emea-numplan",
               "CL-EMEA: AXL executeSQLQuery of sources/cucm_numbers.sql, paged (`select skip N first 500`),\n"
               "one SOAP response per page. Sites by route partition: profiles have no device pool.", page_size=500),
        Source("cucm-emea-voicemail", "cucm_axl_list", "cucm-emea", "CL-EMEA", "cucm-emea-listVoiceMailPilot.xml",
               "CL-EMEA: AXL listVoiceMailPilot (pilots are not numplan patterns); they land at the customer.",
               device_types=(VM_PILOT,)),
        Source("cucm-amer", "cucm_axl_sql", "cucm-amer", "CL-AMER", "cucm-amer-numplan.xml",
               "CL-AMER: AXL executeSQLQuery of sources/cucm_numbers.sql, one response. Sites by route partition."),
        Source("teams-numbers", "teams_number_assignment", "teams", "M365-ACME", "teams-phone-number-assignments.txt",
               "Get-CsPhoneNumberAssignment -Top 10000 | Format-List > file (PowerShell 7, en-US console).\n"
               "Sites by the emergency location (LocationId); numbers held by the tenant have none."),
        Source("teams-users", "teams_online_users", "teams", "M365-ACME", "teams-online-users.csv",
               "Get-CsOnlineUser | Select-Object UserPrincipalName,DisplayName,EnterpriseVoiceEnabled,LineURI,\n"
               "OnPremLineURI,UsageLocation,City | Export-Csv -NoTypeInformation. Sites by City."),
        Source("unity", "unity_cupi_callhandlers", "unity", "CUC-ACME", "unity-callhandlers.json",
               "Unity Connection: CUPI GET /vmrest/handlers/callhandlers (JSON). System call handlers land at the customer."),
        Source("sbc-lon01", "audiocodes_registered_users", "audiocodes", "SBC-LON01", "sbc-lon01-registered-users.csv",
               "AudioCodes SBC LON01: the SBC Registered Users table (Address of Record, Contact).\n"
               "Sites by the contact's IP group (IPG:1 is London's analogue gateways)."),
        Source("multivendor-phones", "multivendor_phones", "multivendor", "", "multivendor-phones.csv",
               "Third-party SIP phones, as the administrators list them."),
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
        Source("cucm-phones", "cucm_bat_phones", "cucm", "CL-GLOBEX", "cucm-export-phones-all-details.csv",
               "CL-GLOBEX: BAT Export Phones - All Details. Sites by Device Pool."),
        Source("cucm-patterns", "cucm_axl_list", "cucm", "CL-GLOBEX", "cucm-axl-lists",
               "CL-GLOBEX: AXL listHuntPilot, listCallPickupGroup, listCallPark, listDirectedCallPark, listMeetMe\n"
               "and listVoiceMailPilot responses. Sites by route partition; the voicemail pilot has none and\n"
               "lands at the customer."),
        Source("unity", "unity_cupi_callhandlers", "unity", "CUC-GLOBEX", "unity-callhandlers.xml",
               "Unity Connection: CUPI GET /vmrest/handlers/callhandlers (XML). System call handlers land at the customer."),
        Source("webex", "webex_numbers", "webex", "WXC-GLOBEX", "webex-numbers",
               "Webex Calling: GET /v1/telephony/config/numbers?details=true&max=400, one body per page.\n"
               "Sites by location name.", page_size=400),
    )
    webex = (("webex", 1.0),)

    def webex_site(name: str, code: str, first: int, users: int, spare: int, ext_first: int, ext_count: int, label: str = "") -> Site:
        base = cucm_site(name, code, "", first, users, 3, spare, cucm="", mix=webex, label=label)
        extensions = Block("users", ext_first, ext_count, f"{code}-EXT", f"{label or name} extension-only numbers {ext_first}-{ext_first + ext_count - 1}", plus=False, mix=(("webex_ext", 1.0),))
        return replace(base, blocks=(*base.blocks, extensions))

    def globex_cucm_site(name: str, code: str, first: int, users: int, services: int, spare: int, label: str = "") -> Site:
        return cucm_site(name, code, "", first, users, services, spare, cucm="cucm", label=label, template=CUCM_LIST_SERVICES)

    globex = Customer("Globex", PROVIDER, "globex", "globex.example", (
        globex_cucm_site("Springfield", "SPR", 12175550000, 280, 14, 106),
        globex_cucm_site("Shelbyville", "SHB", 12175550400, 140, 10, 50),
        globex_cucm_site("CypressCreek", "CYC", 15415550000, 200, 14, 86, label="Cypress Creek"),
        globex_cucm_site("WaverlyHills", "WVH", 13145550000, 70, 5, 25, label="Waverly Hills"),
        webex_site("CapitalCity", "CAP", 16365550000, 140, 57, 6000, 50, label="Capital City"),
        webex_site("Ogdenville", "OGD", 14065550000, 70, 27, 6100, 30),
        webex_site("NorthHaverbrook", "NHB", 14065550100, 70, 27, 6200, 30, label="North Haverbrook"),
        webex_site("Brockway", "BRW", 14065550200, 70, 27, 6300, 20),
    ), globex_sources, cooling_enabled=True)

    initech_sources = (
        Source("cucm", "cucm_axl_sql", "cucm", "CL-INITECH", "cucm-numplan.xml",
               "CL-INITECH: AXL executeSQLQuery of sources/cucm_numbers.sql. Site Location Codes: the same\n"
               "extension exists in each site's partition, so sites come from the route partition."),
        Source("cucm-voicemail", "cucm_axl_list", "cucm", "CL-INITECH", "cucm-listVoiceMailPilot.xml",
               "CL-INITECH: AXL listVoiceMailPilot; the pilot lands at the customer.", device_types=(VM_PILOT,)),
        Source("teams-numbers", "teams_number_assignment", "teams", "M365-INITECH", "teams-phone-number-assignments.csv",
               "Get-CsPhoneNumberAssignment | Export-Csv (Windows PowerShell 5.1, en-US). Sites by LocationId."),
        Source("unity", "unity_cupi_callhandlers", "unity", "CUC-NORTHWIND", "unity-callhandlers.json",
               "Northwind's shared Unity Connection: CUPI GET /vmrest/handlers/callhandlers?query=(DisplayName\n"
               "startswith Initech). One handler matches, so CUPI returns it as an object, not a list.", filtered=True),
        Source("did-e164", "e164_associations", "", "", "did-e164-associations.csv",
               "The DID inventory's E.164 numbers of the Portland and San Jose extensions."),
    )
    dallas = cucm_site("Dallas", "DAL", "Texas", 1000, 150, 10, 40, cucm="cucm", plus=False, e164_first=12145551000, e164_from="range_mask")
    teams_only = (("teams", 1.0),)
    dallas_teams = (
        Block("users", 12145553000, 30, "DAL-TEAMS", "Dallas Teams Operator Connect +12145553000-+12145553029", mix=teams_only),
        Block("spare", 12145553030, 20, "DAL-TEAMS-SPARE", "Dallas Teams spare +12145553030-+12145553049", mix=teams_only),
    )
    initech = Customer("Initech", RESELLER, "initech", "initech.example", (
        cucm_site("Austin", "AUS", "Texas", 1000, 240, 14, 46, cucm="cucm", plus=False, e164_first=15125551000, e164_from="mask"),
        replace(dallas, blocks=(*dallas.blocks, *dallas_teams), teams_type="Operator Connect"),
        cucm_site("Houston", "HOU", "Texas", 1000, 110, 10, 30, cucm="cucm", plus=False, e164_first=17135551000, e164_from="mask"),
        cucm_site("Denver", "DEN", "West", 1000, 75, 5, 20, cucm="cucm", plus=False),
        cucm_site("Portland", "PDX", "West", 2000, 75, 5, 20, cucm="cucm", plus=False, e164_first=15035552000, e164_from="associations"),
        cucm_site("SanJose", "SJC", "West", 3000, 110, 10, 30, cucm="cucm", plus=False, label="San Jose", e164_first=14085553000, e164_from="associations"),
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
    b.add_teams_users_without_numbers(15)

    # Shared pool and global services at the customer: numbers any site may use.
    pool = Block("spare", 442079469900, 100, "ACME-GLOBAL", "Acme global services and shared pool +442079469900-+442079469999")
    numbers = block_numbers(pool)
    services = (
        (VM_PILOT, "VM_Pilot_Acme", "cucm-emea"), (HANDLER, "Acme Main Menu", "unity"),
        (HANDLER, "Acme After Hours", "unity"), (HANDLER, "Acme Holiday Greeting", "unity"),
        (HUNT, "HP_Acme_GlobalHelpdesk", "cucm-emea"), (HUNT, "HP_Acme_Switchboard", "cucm-amer"),
        (MEETME, "MM_Acme_Global1", "cucm-amer"), (MEETME, "MM_Acme_Global2", "cucm-amer"),
    )
    for number, (device_type, name, system) in zip(numbers, services, strict=False):
        use = Use(system, c.path, device_type, name, number, "" if system == "unity" else "PT_Global_Services", label=name)
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool))
    # A London phone on a pool number held at the customer (stays Used there), another on a
    # pool number still Available there (updated at the customer), and a pool number whose
    # phone was deleted (released).
    for number, status in ((numbers[50], "Used"), (numbers[51], "Available")):
        person = b.person()
        use = Use("cucm-emea", path["LON"], PHONE, f"SEP{b.mac()}", number, "PT_LON_DN", owner=person.userid, label=person.display)
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool) if status == "Used" else Entry(number, c.path, "Available", tag=pool.tag, description=pool.description))
    b.put(Entry(numbers[52], c.path, "Used", "Device", tag=pool.tag, description=pool.description))
    # Operator Connect numbers bought for the tenant, not yet placed at a site.
    for number in numbers[60:70]:
        b.vendor_numbers.append(VendorNumber("teams", "", number, "Microsoft", "Operator Connect", False))
    b.vendor_numbers.append(VendorNumber("teams", "", "+442079468990", "Microsoft", "Operator Connect", False))
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
    # (duplicate_device_profile and number_in_clusters on one New York entry); CL-EMEA has
    # the line in its partition for visiting New York staff.
    _, traveller = b.take("NYC", PHONE)
    user = traveller.owner
    b.add_uses([replace(traveller, device_type=PROFILE, device_name=f"UDP_{user}", system="cucm-amer")])
    b.add_uses([replace(traveller, device_type=PROFILE, device_name=f"UDP_{user}", system="cucm-emea", partition="PT_NYC_Visitors")])
    # London's reception pilot also built in CL-AMER for follow-the-sun (number_in_clusters).
    reception = next(u for u in b.uses if u.device_name == "HP_LON_Reception")
    b.add_uses([replace(reception, system="cucm-amer", partition="PT_FollowTheSun")])
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
    # Devices in an unmapped partition / emergency location (unmapped_device), and typos
    # (bad_number): CUCM takes the DTMF digit A in a DN; a LineURI typed with the letter O.
    lab = b.person()
    b.add_uses([
        Use("cucm-emea", "", PHONE, f"SEP{b.mac()}", "+442079468800", "PT_LAB_DN", owner="labtech", label="Lab", site_key="DP_LAB"),
        Use("cucm-emea", "", PHONE, f"SEP{b.mac()}", "+442079468801", "PT_LAB_DN", owner="labtech", label="Lab", site_key="DP_LAB"),
        Use("teams", "", TEAMS, "Conference Room Lab", "+442079468802", vendor="Microsoft", number_type="Direct Routing",
            owner=f"lab.room@{c.domain}", label="Conference Room Lab", site_key="Slough"),
        Use("cucm-emea", path["LDS"], PHONE, f"SEP{b.mac()}", "12A4", "PT_LDS_DN", owner=lab.userid, label=lab.display),
        Use("teams", path["LON"], TEAMS, "Temp Agency", "+4420794601O2", vendor="Microsoft", number_type="Direct Routing",
            owner=f"temp.agency@{c.domain}", label="Temp Agency"),
    ])


def build_globex(b: EstateBuilder) -> None:
    c = b.customer
    for site in c.sites:
        b.build_site(site)
    sites = {s.code: s for s in c.sites}
    pool = Block("spare", 18005550000, 50, "GLOBEX-SERVICES", "Globex toll-free and corporate services +18005550000-+18005550049")
    numbers = block_numbers(pool)
    services = (
        (VM_PILOT, "VM_Pilot_Globex", "cucm"), (HANDLER, "Globex Main Menu", "unity"), (HANDLER, "Globex Customer Care IVR", "unity"),
        (HUNT, "HP_Globex_CustomerCare", "cucm"), (HUNT, "HP_Globex_Sales", "cucm"), (MEETME, "MM_Globex_AllHands", "cucm"),
    )
    for number, (device_type, name, system) in zip(numbers, services, strict=False):
        use = Use(system, c.path, device_type, name, number, "" if system == "unity" else "PT_Global_Services", label=name)
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
    # Executives' lines also on their assistants' phones, as line 2 (BAT's `Directory Number 2`).
    for _ in range(3):
        _, executive = b.take("SPR", PHONE)
        _, assistant = b.take("SPR", PHONE)
        b.add_uses([replace(executive, device_name=assistant.device_name, owner=assistant.owner)])
    clerk = b.person()
    b.add_uses([
        # A pop-up store's phone in a Webex location nobody mapped (unmapped_device).
        Use("webex", "", WEBEX, "Pop-up Store", "+16365559990", vendor="Webex Calling", number_type="Phone Number",
            owner="PLACE", label="Pop-up Store", site_key="Springfield Pop-up"),
        # A DN with the DTMF digit C typed for a 0 (bad_number).
        Use("cucm", c.site_path(sites["SPR"]), PHONE, f"SEP{b.mac()}", "+1217555C123", "PT_SPR_DN", owner=clerk.userid, label=clerk.display),
    ])


def build_initech(b: EstateBuilder) -> None:
    c = b.customer
    for site in c.sites:
        b.build_site(site)
    sites = {s.code: s for s in c.sites}
    b.teams_numbers(sites["DAL"], ("BlockedUntil", "BlockedForever"))
    pool = Block("spare", 15125550100, 50, "INITECH-MAIN", "Initech main numbers +15125550100-+15125550149")
    numbers = block_numbers(pool)
    services = ((HUNT, "HP_Initech_MainLine", "cucm"), (VM_PILOT, "VM_Pilot_Initech", "cucm"), (HANDLER, "Initech Main Menu", "unity"))
    for number, (device_type, name, system) in zip(numbers, services, strict=False):
        use = Use(system, c.path, device_type, name, number, "" if system == "unity" else "PT_Global_Services", label=name)
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool))
    # Main numbers held at the customer but now on phones at sites: in site mode the audit
    # must not add a second entry on the path (ancestor_entry).
    for number, code, status in ((numbers[10], "AUS", "Used"), (numbers[11], "DAL", "Available")):
        person = b.person()
        use = Use("cucm", c.site_path(sites[code]), PHONE, f"SEP{b.mac()}", number, f"PT_{code}_DN", owner=person.userid, label=person.display)
        b.add_uses([use])
        b.put(b.used_entry(number, c.path, [use], pool) if status == "Used" else Entry(number, c.path, "Available", tag=pool.tag, description=pool.description))
    for number in numbers[40:50]:  # Operator Connect numbers held by the tenant, no site yet
        b.vendor_numbers.append(VendorNumber("teams", "", number, "Microsoft", "Operator Connect", False))
    for number in numbers:
        if (number, c.path) not in b.entries:
            b.put(Entry(number, c.path, "Available", "", "Microsoft" if number in numbers[40:] else "", "Operator Connect" if number in numbers[40:] else "", tag=pool.tag, description=pool.description))
    clerk = b.person()
    b.add_uses([
        Use("cucm", "", PHONE, f"SEP{b.mac()}", "1999", "PT_LAB_DN", owner="qa.bench", label="QA bench", site_key="DP_LAB"),
        Use("cucm", c.site_path(sites["AUS"]), PHONE, f"SEP{b.mac()}", "10#5", "PT_AUS_DN", owner=clerk.userid, label=clerk.display),
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
