"""Show session times in the session's zone and in the viewer's zone, DST-correct."""

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from seminars.timezones import time_span, to_zone

register = template.Library()


@register.simple_tag
def session_when(session, viewer_zone="UTC"):
    """`Tue 3 Mar 2026, 09:00–10:30 GMT (Europe/London)`, plus the viewer's time when their zone differs."""
    return _when_html(session.start, session.finish, session.time_zone, viewer_zone or "", get_language())


# The same times in the same zones and language always read the same: lists show the same sessions to many
# viewers, and formatting two localised dates costs more than the rest of a row.
@lru_cache(maxsize=32768)
def _when_html(start, finish, zone: str, viewer_zone: str, language: str | None) -> str:
    own = format_html(
        '<span class="when">{}</span> <span class="zone">({})</span>',
        time_span(start, finish, zone),
        zone,
    )
    if viewer_zone and viewer_zone != zone:
        yours = _("Your time: %(when)s (%(zone)s)") % {
            "when": time_span(start, finish, viewer_zone),
            "zone": viewer_zone,
        }
        return format_html('{} <span class="your-time">{}</span>', own, yours)
    return own


@register.filter
def in_zone(moment, zone):
    return to_zone(moment, zone) if moment else moment


@register.filter
def ago(moment):
    """How long ago `moment` was, in words: "3 minutes ago", or "just now" in its first minute (where Django's
    timesince alone says "0 minutes")."""
    if moment is None:
        return ""
    return ago_text(moment, timezone.now())


# Under four weeks, timesince's words depend only on the whole minutes elapsed (it counts weeks, days, hours and
# minutes from the moment itself; months and years, counted on the calendar, need at least 28 days): the header's
# notification bell says the same few of them on every page.
_BY_MINUTES_UNDER = timedelta(days=28)


def ago_text(moment, now) -> str:
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return _("just now")
    if elapsed < _BY_MINUTES_UNDER:
        return _ago_minutes(elapsed // timedelta(minutes=1), get_language())
    return _("%(since)s ago") % {"since": timesince(moment, now)}


_ANY_START = datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=8192)
def _ago_minutes(minutes: int, language: str | None) -> str:
    return _("%(since)s ago") % {"since": timesince(_ANY_START, _ANY_START + timedelta(minutes=minutes))}
