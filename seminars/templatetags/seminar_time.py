"""Show session times in the session's zone and in the viewer's zone, DST-correct."""

from django import template
from django.utils.html import format_html

from seminars.timezones import to_zone

register = template.Library()


def _span(start, finish, zone):
    s, f = to_zone(start, zone), to_zone(finish, zone)
    if s.date() == f.date():
        return f"{s:%a %-d %b %Y, %H:%M}–{f:%H:%M} {s.tzname()}"
    return f"{s:%a %-d %b %Y, %H:%M} {s.tzname()} – {f:%a %-d %b %Y, %H:%M} {f.tzname()}"


@register.simple_tag
def session_when(session, viewer_zone="UTC"):
    """`Tue 3 Mar 2026, 09:00–10:30 GMT (Europe/London)`, plus the viewer's time when their zone differs."""
    own = format_html(
        '<span class="when">{}</span> <span class="zone">({})</span>',
        _span(session.start, session.finish, session.time_zone),
        session.time_zone,
    )
    if viewer_zone and viewer_zone != session.time_zone:
        return format_html(
            '{} <span class="your-time">Your time: {} ({})</span>',
            own,
            _span(session.start, session.finish, viewer_zone),
            viewer_zone,
        )
    return own


@register.filter
def in_zone(moment, zone):
    return to_zone(moment, zone) if moment else moment
