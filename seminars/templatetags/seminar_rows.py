"""Rows of the seminar page's events, with what every viewer sees the same cached (seminars.page_cache), and the
virtual room card remembered per process. (My sessions keeps whole pages of its rows: seminars.dashboard_cache,
with ROW_TEMPLATE.)
"""

from functools import lru_cache
from types import SimpleNamespace

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from seminars import page_cache
from seminars.selectors.courses import events_fresh
from seminars.virtual_room import Access, LinksNote

register = template.Library()

ROW_TEMPLATE = "seminars/courses/_session_row.html"
VIRTUAL_SPOT = "<!--virtual-->"


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
