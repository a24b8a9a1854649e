"""Rows of the session lists, with the part every viewer sees the same cached (seminars.page_cache).

`{% session_rows sessions viewer_zone show_booked as rows %}` gives (session, head, tail) for each session: the
row's cells up to the room's virtual part, and after it, as HTML made once per session, zone and language and kept
until the session, its event, room, seminar or course changes. What depends on the viewer (the virtual room's
buttons, "My role") is rendered around them on every request.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from seminars import page_cache
from seminars.selectors.courses import dashboard_sessions_fresh

register = template.Library()

ROW_TEMPLATE = "seminars/courses/_session_row.html"
VIRTUAL_SPOT = "<!--virtual-->"


@register.simple_tag
def session_rows(sessions, viewer_zone, show_booked=False):
    sessions = list(sessions)
    variant = f"{viewer_zone}:{get_language()}:{int(bool(show_booked))}"

    def render_fresh(stale):
        fresh = dashboard_sessions_fresh(session.pk for session in stale)
        parts = []
        for session in stale:
            row = render_to_string(
                ROW_TEMPLATE,
                {"session": fresh.get(session.pk, session), "viewer_zone": viewer_zone, "show_booked": show_booked},
            )
            head, _spot, tail = row.partition(VIRTUAL_SPOT)
            parts.append((head, tail))
        return parts

    parts = page_cache.event_fragments(
        "session-row",
        [
            (f"{session.pk}:{variant}", session.event_id, session.event.seminar.course_id, session)
            for session in sessions
        ],
        render_fresh,
    )
    return [(session, mark_safe(head), mark_safe(tail)) for session, (head, tail) in zip(sessions, parts, strict=True)]
