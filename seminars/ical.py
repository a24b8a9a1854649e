"""iCalendar (RFC 5545) files for sessions, built with the `icalendar` library.

One VEVENT per session, with a UID that stays the same for the session's whole
life, so a calendar updates the entry instead of adding a new one; SEQUENCE grows
with every change. Email invitations carry METHOD REQUEST (adds or updates) or
METHOD CANCEL (with STATUS:CANCELLED, removes); the subscription feed carries no
method and marks withdrawn sessions STATUS:CANCELLED.

Times are written in UTC (`...Z`): a session is one instant-bounded occurrence,
never a recurrence, so UTC loses nothing and needs no VTIMEZONE; calendar apps
show it in the reader's own zone.

A calendar file never carries a meeting or virtual room link of the provider: it
is copied and forwarded freely. The event page, or our own join address (which
checks the booking and the 15-minute rule), is where booked learners join.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PRODID = "-//LMS//Seminars//EN"


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def session_uid(session_id) -> str:
    """The session's UID: the same in every email and feed about that session."""
    return f"session-{session_id}@{site_host()}"


def event_sequence(event, *changes: datetime | None) -> int:
    """SEQUENCE: the latest of the event's last update and `changes` (e.g. a booking's), in whole seconds.

    Each of these only moves forward, so the SEQUENCE of a session never goes down.
    """
    moments = [event.updated_at, *(moment for moment in changes if moment is not None)]
    return int(max(moments).timestamp())


def new_calendar(*, method: str | None = None, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def session_vevent(*, session, summary, description, url, cancelled, sequence, stamp) -> Event:
    """The VEVENT of one session (`session` has pk, start, finish and room)."""
    vevent = Event()
    vevent.add("uid", session_uid(session.pk))
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", session.start.astimezone(UTC))
    vevent.add("dtend", session.finish.astimezone(UTC))
    vevent.add("sequence", sequence)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("summary", summary)
    vevent.add("description", description)
    vevent.add("url", url)
    if session.room is not None:
        vevent.add("location", session.room.name)
    return vevent


def organizer() -> vCalAddress:
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = vCalAddress(f"mailto:{email or 'noreply@' + site_host()}")
    address.params["cn"] = name or "LMS"
    return address


def event_calendar(*, event, sessions, method, attendee, url, booking=None) -> str:
    """The calendar for one learner's signup: one VEVENT per session.

    `sessions` are the event's sessions (with `room` loaded); `attendee` is the
    learner (a user with an email); `url` is the absolute event page address;
    `booking`, when given, raises SEQUENCE with its own changes (a cancel, a rebooking).
    """
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Unknown iTIP method {method!r}")
    summary = f"{event.seminar.name}: {event.title}"
    sequence = event_sequence(event, booking.updated_at if booking else None)
    attendee_address = vCalAddress(f"mailto:{attendee.email}")
    attendee_address.params.update(
        {
            "cn": attendee.get_full_name() or attendee.get_username(),
            "role": "REQ-PARTICIPANT",
            "partstat": "ACCEPTED",
            "rsvp": "FALSE",
        }
    )
    calendar = new_calendar(method=method)
    stamp = timezone.now()
    for session in sessions:
        vevent = session_vevent(
            session=session,
            summary=summary,
            description=_("%(summary)s. Details and room information: %(url)s") % {"summary": summary, "url": url},
            url=url,
            cancelled=method == CANCEL,
            sequence=sequence,
            stamp=stamp,
        )
        vevent.add("organizer", organizer())
        vevent.add("attendee", attendee_address)
        calendar.add_component(vevent)
    return calendar.to_ical().decode("utf-8")


def feed_calendar(*, name: str, entries) -> str:
    """A subscription calendar: one VEVENT per entry (`session`, `summary`, `description`, `url`, `cancelled`, `sequence`).

    It carries no METHOD: apps refresh the whole feed, update entries by UID and
    SEQUENCE, and remove those marked STATUS:CANCELLED.
    """
    calendar = new_calendar(name=name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = timezone.now()
    for entry in entries:
        calendar.add_component(
            session_vevent(
                session=entry.session,
                summary=entry.summary,
                description=entry.description,
                url=entry.url,
                cancelled=entry.cancelled,
                sequence=entry.sequence,
                stamp=stamp,
            )
        )
    return calendar.to_ical().decode("utf-8")
