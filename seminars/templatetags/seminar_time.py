"""Show session times in the session's zone and in the viewer's zone, DST-correct."""

from datetime import timedelta
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
    if timezone.now() - moment < timedelta(minutes=1):
        return _("just now")
    return _("%(since)s ago") % {"since": timesince(moment)}
