"""The sessions as every email about an event lists them: times in the session's and the reader's zone,
the room, and for a virtual room our join page (never the provider's link: see seminars.virtual_room)."""

from django.urls import reverse

from seminars.outbox import absolute_url
from seminars.timezones import time_span
from seminars.virtual_room import JOIN_WINDOW

# Minutes before a session's start when its virtual room opens, as the emails say it.
JOIN_OPENS_MINUTES = int(JOIN_WINDOW.total_seconds() // 60)


def session_text(session, zone: str) -> str:
    """`Tue 3 Mar 2026, 09:00–10:30 GMT (Europe/London)` in the given zone."""
    return f"{time_span(session.start, session.finish, zone)} ({zone})"


def session_rows(sessions, zone: str) -> list[dict]:
    """One row per session for the email templates (sessions with their room loaded)."""
    return [
        {
            "own": session_text(s, s.time_zone),
            "yours": session_text(s, zone) if zone != s.time_zone else "",
            "room": s.room.name if s.room else "",
            "join": absolute_url(reverse("seminars:virtual_join", args=[s.pk]))
            if s.room and s.room.virtual_kind
            else "",
        }
        for s in sessions
    ]
