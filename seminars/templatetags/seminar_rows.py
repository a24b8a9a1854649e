"""Rows of the session lists and of the seminar page's events, with what every viewer sees the same cached
(seminars.page_cache).

`{% session_rows sessions viewer_zone show_booked as rows %}` gives (session, head, tail) for each session: the
row's cells up to the room's virtual part, and after it, as HTML made once per session, zone and language and kept
until the session, its event, room, seminar or course changes. What depends on the viewer (the virtual room's
buttons, "My role") is rendered around them on every request.
"""

from functools import lru_cache
from types import SimpleNamespace

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from seminars import page_cache
from seminars.selectors.courses import dashboard_sessions_fresh, events_fresh
from seminars.virtual_room import Access, LinksNote

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
            parts.append(((head, tail), f"{session.pk}:{variant}"))
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


EVENT_ROW_TEMPLATE = "seminars/courses/_event_row.html"


@register.simple_tag(takes_context=True)
def event_rows(context, events, viewer_zone, seminar, is_learner):
    """The seminar page's rows, one per event (from event_list_for_seminar, with or without its sessions): each
    made once per event, zone, language and every per-viewer and per-moment value the row shows (status,
    registration window, the viewer's booking state, whether they are a learner) and kept until the event, its
    sessions, rooms, bookings, seminar or course change."""
    events = list(events)
    user = context["request"].user
    now = timezone.now()
    language = get_language()

    def render_fresh(stale):
        fresh = events_fresh((event.pk for event in stale), user=user, now=now)
        made = []
        for event in stale:
            event = fresh.get(event.pk, event)
            context = {"event": event, "viewer_zone": viewer_zone, "seminar": seminar, "is_learner": is_learner}
            made.append((mark_safe(render_to_string(EVENT_ROW_TEMPLATE, context)), key(event)))
        return made

    def key(event):
        parts = (event.pk, viewer_zone, language, event.status, event.registration, event.my_booking_state or "")
        return ":".join(str(part) for part in (*parts, int(bool(is_learner))))

    return page_cache.event_fragments(
        "event-row", [(key(event), event.pk, seminar.course_id, event) for event in events], render_fresh
    )


VIRTUAL_TEMPLATE = "seminars/bookings/_session_virtual.html"


@register.simple_tag
def session_virtual(session):
    """A session's virtual room card (bookings/_session_virtual.html) without "Retry now": the same card for the
    same session and the same access is the same HTML, so it is made once per process (the card of a session
    with "Retry now" holds a CSRF token and is included as a template instead)."""
    access = session.virtual
    if access is None:
        return ""
    if session.virtual_can_retry:
        raise ValueError("A card with Retry now holds a CSRF token: include the template.")
    return _virtual_card(
        session.pk,
        access.role,
        bool(access.pending),
        tuple((str(label), url) for label, url in access.buttons),
        str(access.message or ""),
        str(access.problem or ""),
        tuple((note.kind, str(note.text)) for note in access.links),
        bool(session.virtual_waiting),
        get_language(),
    )


@lru_cache(maxsize=8192)
def _virtual_card(session_pk, role, pending, buttons, message, problem, links, waiting, language) -> str:
    access = Access(role=role, pending=pending, buttons=list(buttons), message=message, problem=problem)
    access.links = [LinksNote(kind=kind, text=text) for kind, text in links]
    card = SimpleNamespace(pk=session_pk, virtual=access, virtual_waiting=waiting, virtual_can_retry=False)
    return mark_safe(render_to_string(VIRTUAL_TEMPLATE, {"session": card}))
