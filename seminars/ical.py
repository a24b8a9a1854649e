"""iCalendar (RFC 5545) invitations for booked learners, written by hand.

One VEVENT per session, with a UID that stays the same for the session's whole
life, so a calendar updates the entry instead of adding a new one. METHOD
REQUEST adds or updates; METHOD CANCEL (with STATUS:CANCELLED) removes.

A calendar file never carries a meeting or virtual room link: it is copied and
forwarded freely, and the event page (URL) is where booked learners join.
"""

from datetime import UTC, datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PRODID = "-//LMS//Seminars//EN"
MAX_LINE_OCTETS = 75


def escape_text(value) -> str:
    """Escape a TEXT value: backslash, semicolon, comma, and newlines as \\n."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def param_value(value) -> str:
    """A parameter value (e.g. CN): quoted when it holds , ; or :, which it may not escape."""
    text = str(value).replace('"', "").replace("\r", " ").replace("\n", " ")
    return f'"{text}"' if any(c in text for c in ",;:") else text


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets joined by CRLF + space.

    Splits only between characters, never inside a multi-byte UTF-8 sequence.
    """
    chunks, current, size = [], [], 0
    limit = MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            chunks.append("".join(current))
            # A continuation line starts with one space, which counts towards its 75 octets.
            current, size, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def session_uid(session_id) -> str:
    """The session's UID: the same in every email about that session."""
    return f"session-{session_id}@{site_host()}"


def event_sequence(event) -> int:
    """SEQUENCE grows with every change to the event (its last update, in whole seconds)."""
    return int(event.updated_at.timestamp())


def event_calendar(*, event, sessions, method, attendee, url) -> str:
    """The calendar for one learner's signup: one VEVENT per session.

    `sessions` are the event's sessions (with `room` loaded); `attendee` is the
    learner (a user with an email); `url` is the absolute event page address.
    """
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Unknown iTIP method {method!r}")
    organizer_name, organizer_email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    summary = f"{event.seminar.name}: {event.title}"
    stamp = utc_stamp(timezone.now())
    sequence = event_sequence(event)
    status = "CANCELLED" if method == CANCEL else "CONFIRMED"
    attendee_name = attendee.get_full_name() or attendee.get_username()

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
    ]
    for session in sessions:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{session_uid(session.pk)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(session.start)}",
            f"DTEND:{utc_stamp(session.finish)}",
            f"SEQUENCE:{sequence}",
            f"STATUS:{status}",
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(f'{summary}. Details and room information: {url}')}",
            f"URL:{url}",
        ]
        if session.room is not None:
            lines.append(f"LOCATION:{escape_text(session.room.name)}")
        lines += [
            f"ORGANIZER;CN={param_value(organizer_name or 'LMS')}:mailto:{organizer_email or 'noreply@' + site_host()}",
            f"ATTENDEE;CN={param_value(attendee_name)};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE"
            f":mailto:{attendee.email}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
