"""Time-zone helpers: IANA names, conversion at the edges, viewer's zone."""

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    return sorted(available_timezones())


def is_valid_zone(name: str) -> bool:
    if not name or name not in set(zone_names()):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def viewer_zone(user) -> str:
    """The zone a user reads times in (their profile's, else UTC)."""
    profile = getattr(user, "seminar_profile", None) if getattr(user, "is_authenticated", False) else None
    return profile.time_zone if profile is not None else "UTC"


def to_zone(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))
