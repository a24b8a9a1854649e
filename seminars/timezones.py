"""Time-zone helpers: IANA names, conversion at the edges, viewer's zone."""

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from lms.userfacts import fact

# The IANA areas of real places. Names outside them are the system's own ("localtime",
# "Factory", "posixrules", "posix/...", "right/...") or legacy aliases ("EST5EDT", "Etc/GMT+5",
# "US/Eastern", "Japan") that Zoom and calendar programs do not all accept.
GEOGRAPHIC_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)
UNIVERSAL = "UTC"
UNKNOWN_ZONE_MESSAGE = _("Unknown time zone: choose one from the list, e.g. Europe/London or UTC.")


def _is_listed(name: str) -> bool:
    return name == UNIVERSAL or ("/" in name and name.split("/", 1)[0] in GEOGRAPHIC_AREAS)


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    """The zones people may choose: the list pages offer is exactly what is_valid_zone accepts."""
    return sorted(name for name in available_timezones() if _is_listed(name))


@lru_cache(maxsize=1)
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


def is_valid_zone(name) -> bool:
    if not isinstance(name, str) or name not in _zone_set():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_time_zone(value) -> None:
    """Model and form validator: one of zone_names()."""
    if not is_valid_zone(value):
        raise ValidationError(UNKNOWN_ZONE_MESSAGE, code="unknown_zone")


def viewer_zone(user) -> str:
    """The zone a user reads times in (their profile's, else UTC)."""
    if not getattr(user, "is_authenticated", False):
        return "UTC"
    loaded = user._state.fields_cache
    if "seminar_profile" in loaded:  # already read with the user (select_related): None when there is none
        profile = loaded["seminar_profile"]
        return profile.time_zone if profile is not None else "UTC"
    return fact(user, "zone")


def to_zone(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def time_span(start: datetime, finish: datetime, zone: str) -> str:
    """`Tue 3 Mar 2026, 09:00–10:30 GMT` in `zone` (both dates when they differ); day and month names in
    the active language."""
    start, finish = to_zone(start, zone), to_zone(finish, zone)
    if start.date() == finish.date():
        return f"{date_format(start, 'D j M Y, H:i')}–{finish:%H:%M} {start.tzname()}"
    return f"{date_format(start, 'D j M Y, H:i')} {start.tzname()} – {date_format(finish, 'D j M Y, H:i')} {finish.tzname()}"


def moment_text(moment: datetime, zone: str) -> str:
    """`Tue 3 Mar 2026, 09:00 GMT (Europe/London)`: one moment in `zone`, names in the active language."""
    local = to_zone(moment, zone)
    return f"{date_format(local, 'D j M Y, H:i')} {local.tzname()} ({zone})"
