"""The sessions as every email about an event lists them: times in the session's and the reader's zone,
the room, and for a virtual room our join page (never the provider's link: see seminars.virtual_room)."""

from django.urls import reverse
from django.utils.translation import gettext, ngettext

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


def sessions_text(rows: list[dict], *, join_links: bool) -> str:
    """The {sessions} of an email: the rows of `session_rows` as lines; with `join_links`, our join
    page of each virtual room and the rule that it opens JOIN_OPENS_MINUTES before the start."""
    if not rows:
        return gettext("No session dates are set yet.")
    lines = [gettext("Sessions:")]
    for row in rows:
        lines.append(f"- {row['own']}")
        if row["yours"]:
            lines.append("  " + gettext("Your time: %(time)s") % {"time": row["yours"]})
        if row["room"]:
            lines.append("  " + gettext("Room: %(room)s") % {"room": row["room"]})
        if join_links and row["join"]:
            lines.append("  " + gettext("Join online: %(url)s") % {"url": row["join"]})
    if join_links and any(row["join"] for row in rows):
        lines.append(
            ngettext(
                "The virtual room opens %(minutes)d minute before the start of each session; sign in with this "
                "account to join.",
                "The virtual room opens %(minutes)d minutes before the start of each session; sign in with this "
                "account to join.",
                JOIN_OPENS_MINUTES,
            )
            % {"minutes": JOIN_OPENS_MINUTES}
        )
    return "\n".join(lines)
