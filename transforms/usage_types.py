"""SPEC section 3: what each device type implies, in canonical usage order."""

from __future__ import annotations

from typing import NamedTuple

import polars as pl


class UsageType(NamedTuple):
    device_type: str
    usage: str
    status: str  # Used or Used-Utility
    vendor: str  # default vendor; multi-vendor phones carry their own phoneVendor


# The order of this table is the canonical usage order: Device first, utilities, then User.
USAGE_TYPES: tuple[UsageType, ...] = (
    UsageType("device/cucm/Phone", "Device", "Used", ""),
    UsageType("device/cucm/DeviceProfile", "Device", "Used", ""),
    UsageType("device/cucm/RemoteDestinationProfile", "Device", "Used", ""),
    UsageType("device/audiocodes", "Device", "Used", "AudioCodes"),
    UsageType("device/cucm/HuntPilot", "Hunt_Pilot", "Used-Utility", ""),
    UsageType("device/cucm/CallPickupGroup", "Pickup_Group_Pilot", "Used-Utility", ""),
    UsageType("device/cuc/Callhandler", "Call_Handler_Pilot", "Used-Utility", ""),
    UsageType("device/cucm/VoicemailPilot", "Voicemail_Pilot", "Used-Utility", ""),
    UsageType("device/cucm/MeetMe", "Meet_Me", "Used-Utility", ""),
    UsageType("device/cucm/CtiRoutePoint", "CTI_RoutePoint", "Used-Utility", ""),
    UsageType("device/cucm/CallPark", "Call_Park", "Used-Utility", ""),
    UsageType("device/cucm/DirectedCallPark", "Directed_Call_Park", "Used-Utility", ""),
    UsageType("data/PRS_MultiVendorPhone_DAT", "VOSS_Phone", "Used-Utility", ""),
    UsageType("device/msteamsonline/CsOnlineUser", "User", "Used", "Microsoft"),
    UsageType("device/spark/Number", "User", "Used", "Webex Calling"),
)

DEVICE_TYPES: tuple[str, ...] = tuple(t.device_type for t in USAGE_TYPES)
USAGE_ORDER: tuple[str, ...] = tuple(dict.fromkeys(t.usage for t in USAGE_TYPES))
UTILITY_USAGES: frozenset[str] = frozenset(t.usage for t in USAGE_TYPES if t.status == "Used-Utility")
USED_USAGES: frozenset[str] = frozenset(t.usage for t in USAGE_TYPES if t.status == "Used")

DEVICE_PROFILE = "device/cucm/DeviceProfile"
PHONE = "device/cucm/Phone"


def usage_types_frame() -> pl.DataFrame:
    """device_type -> usage, implied status, rank of the usage in canonical order."""
    return pl.DataFrame(
        {
            "device_type": list(DEVICE_TYPES),
            "usage": [t.usage for t in USAGE_TYPES],
            "implied_status": [t.status for t in USAGE_TYPES],
            "default_vendor": [t.vendor for t in USAGE_TYPES],
            "usage_rank": [USAGE_ORDER.index(t.usage) for t in USAGE_TYPES],
        },
        schema={
            "device_type": pl.String(),
            "usage": pl.String(),
            "implied_status": pl.String(),
            "default_vendor": pl.String(),
            "usage_rank": pl.Int32(),
        },
    )
