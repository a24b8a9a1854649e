"""Emails to learners about their bookings: text and HTML, with an iCalendar file when booked.

Sent after the transaction that changed the booking commits (the services call
these from `transaction.on_commit`). No email and no calendar file ever carries
a meeting or virtual room link: the event page is where booked learners join.
"""

from email.mime.text import MIMEText

from django.core.mail import EmailMultiAlternatives
from django.db.models import Prefetch
from django.template.loader import render_to_string

from seminars import ical
from seminars.models import Booking, Session
from seminars.notifications import absolute_url
from seminars.timezones import to_zone, viewer_zone

SUBJECTS = {
    "booked": "Booking confirmed: {title}",
    "waitlisted": "You are on the waitlist: {title}",
    "promoted": "A seat freed up, you are booked: {title}",
    "cancelled": "Booking cancelled: {title}",
    "event_cancelled": "Event cancelled: {title}",
    "times_changed": "New times: {title}",
}
# Which calendar method an email carries (None: no calendar).
CALENDAR_METHODS = {
    "booked": ical.REQUEST,
    "promoted": ical.REQUEST,
    "times_changed": ical.REQUEST,
    "cancelled": ical.CANCEL,
    "event_cancelled": ical.CANCEL,
    "waitlisted": None,
}


def session_text(session, zone: str) -> str:
    """`Tue 3 Mar 2026, 09:00–10:30 GMT (Europe/London)` in the given zone."""
    start, finish = to_zone(session.start, zone), to_zone(session.finish, zone)
    if start.date() == finish.date():
        return f"{start:%a %-d %b %Y, %H:%M}–{finish:%H:%M} {start.tzname()} ({zone})"
    return f"{start:%a %-d %b %Y, %H:%M} {start.tzname()} – {finish:%a %-d %b %Y, %H:%M} {finish.tzname()} ({zone})"


def send_booking_email(*, booking_id, kind, with_calendar=True, removed_sessions=()) -> bool:
    """Email the learner about their booking; `kind` is one of SUBJECTS. Returns whether a mail was sent.

    Booked learners (booked, promoted, times changed) get a METHOD:REQUEST
    calendar; a cancellation of a booked seat gets METHOD:CANCEL.
    """
    if kind not in SUBJECTS:
        raise ValueError(f"Unknown booking email {kind!r}")
    booking = (
        Booking.objects.select_related("user", "event__seminar__course")
        .prefetch_related(Prefetch("event__sessions", queryset=Session.objects.select_related("room")))
        .filter(pk=booking_id)
        .first()
    )
    if booking is None or not booking.user.email:
        return False
    message = build_booking_email(
        booking=booking, kind=kind, with_calendar=with_calendar, removed_sessions=removed_sessions
    )
    message.send()
    return True


def build_booking_email(*, booking, kind, with_calendar=True, removed_sessions=()) -> EmailMultiAlternatives:
    event, learner = booking.event, booking.user
    sessions = list(event.sessions.all())
    zone = viewer_zone(learner)
    url = absolute_url(event.get_absolute_url())
    context = {
        "kind": kind,
        "learner": learner,
        "event": event,
        "seminar": event.seminar,
        "course": event.seminar.course,
        "url": url,
        "sessions": [
            {
                "own": session_text(s, s.time_zone),
                "yours": session_text(s, zone) if zone != s.time_zone else "",
                "room": s.room.name if s.room else "",
            }
            for s in sessions
        ],
    }
    subject = SUBJECTS[kind].format(title=f"{event.seminar.name}, {event.title}")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"seminars/email/{kind}.txt", context),
        to=[learner.email],
    )
    message.attach_alternative(render_to_string(f"seminars/email/{kind}.html", context), "text/html")
    method = CALENDAR_METHODS[kind]
    if with_calendar and method and sessions:
        calendar = ical.event_calendar(event=event, sessions=sessions, method=method, attendee=learner, url=url)
        message.attach(_calendar_part(calendar, method))
    if with_calendar and removed_sessions:
        # Sessions taken out of the event: withdraw them from the learner's calendar.
        calendar = ical.event_calendar(
            event=event, sessions=removed_sessions, method=ical.CANCEL, attendee=learner, url=url
        )
        message.attach(_calendar_part(calendar, ical.CANCEL, filename="cancel.ics"))
    return message


def _calendar_part(calendar: str, method: str, filename: str = "invite.ics") -> MIMEText:
    # Built by hand: Django's attach() cannot add the `method` parameter that
    # calendar clients read. Base64 keeps the CRLF line endings intact.
    part = MIMEText(calendar, "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part
