"""Emails to learners about their bookings, from the templates admins edit, with an iCalendar file when booked.

The services record the email with the booking change (`booking_email_queue`,
in their transaction); a Celery task builds it from the current data and sends
it after the commit, with retries (seminars.outbox). No email and no calendar
file ever carries a meeting's or a virtual room's own link: a session in a
virtual room shows our join page (seminars:virtual_join), which checks the
booking and opens 15 minutes before the start.
"""

from datetime import datetime
from email.mime.text import MIMEText
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Prefetch
from django.urls import reverse

from seminars import ical
from seminars.email_messages import display_name, email_message, event_values, manager_name, reason_values
from seminars.email_types import email_type
from seminars.models import Booking, Session
from seminars.outbox import absolute_url
from seminars.tasks import email_queue

# Which calendar method an email carries (None: no calendar).
CALENDAR_METHODS = {
    "booked": ical.REQUEST,
    "promoted": ical.REQUEST,
    "times_changed": ical.REQUEST,
    "cancelled": ical.CANCEL,
    "event_cancelled": ical.CANCEL,
    "waitlisted": None,
    "approval_requested": None,
    "declined": None,
    "request_expired": None,
}
# Emails to someone other than the learner: the approvers of a request (`recipient`). They read
# the approvals page, not the event page (a learner's manager may not see the course).
TO_APPROVER_KINDS = {"approval_requested"}


def booking_email_queue(
    *, booking, kind, version: datetime, with_calendar=True, removed_sessions=(), reason="", recipient=None
) -> None:
    """Record the email about `booking` of `kind` (one of CALENDAR_METHODS); it is sent once the transaction commits.

    `version` is when the change it reports was made (the booking's or the event's
    updated_at): with the booking and the kind it names the message, so the same
    change never emails twice. Booked learners (booked, promoted, times changed)
    get a METHOD:REQUEST calendar; a cancellation of a booked seat gets
    METHOD:CANCEL. `removed_sessions` (pk, start, finish, room) are withdrawn from
    the learner's calendar. `reason` is the cancellation's (or the decline's) reason, quoted in the
    email. `recipient` (TO_APPROVER_KINDS only) is the approver written to instead of the learner.
    """
    if kind not in CALENDAR_METHODS:
        raise ValueError(f"Unknown booking email {kind!r}")
    if (recipient is not None) != (kind in TO_APPROVER_KINDS):
        raise ValueError(f"Booking email {kind!r} goes to {'an approver' if recipient is None else 'the learner'}")
    key = f"booking:{booking.pk}:{kind}:{version.isoformat()}"
    email_queue(
        key=f"{key}:{recipient.pk}" if recipient is not None else key,
        kind="booking",
        to=recipient.email if recipient is not None else booking.user.email,
        params={
            "booking_id": booking.pk,
            "recipient_id": recipient.pk if recipient is not None else None,
            "kind": kind,
            "with_calendar": with_calendar,
            "reason": reason,
            "removed_sessions": [
                {
                    "pk": s.pk,
                    "start": s.start.isoformat(),
                    "finish": s.finish.isoformat(),
                    "room": s.room.name if s.room else None,
                }
                for s in removed_sessions
            ],
        },
    )


def booking_email_render(params: dict) -> EmailMultiAlternatives | None:
    """The email recorded by booking_email_queue, from the current data (None if nobody is left to tell)."""
    booking = (
        Booking.objects.select_related("user", "event__seminar__course")
        .prefetch_related(Prefetch("event__sessions", queryset=Session.objects.select_related("room")))
        .filter(pk=params["booking_id"])
        .first()
    )
    if booking is None:
        return None
    recipient = booking.user
    if params["kind"] in TO_APPROVER_KINDS:
        if booking.state != Booking.State.REQUESTED:
            return None  # decided (or withdrawn) before the email went out
        recipient = get_user_model().objects.filter(pk=params.get("recipient_id"), is_active=True).first()
    if recipient is None or not recipient.email:
        return None
    removed = [
        SimpleNamespace(
            pk=s["pk"],
            start=datetime.fromisoformat(s["start"]),
            finish=datetime.fromisoformat(s["finish"]),
            room=SimpleNamespace(name=s["room"]) if s["room"] else None,
        )
        for s in params.get("removed_sessions", [])
    ]
    return build_booking_email(
        booking=booking,
        kind=params["kind"],
        with_calendar=params["with_calendar"],
        removed_sessions=removed,
        reason=params.get("reason", ""),
        recipient=recipient,
    )


def build_booking_email(
    *, booking, kind, with_calendar=True, removed_sessions=(), reason="", recipient=None
) -> EmailMultiAlternatives | None:
    """The email of `kind` from its template in effect (None: the seminar switched it off), with its calendar.
    `recipient`: an approver (TO_APPROVER_KINDS), else the learner."""
    event, learner = booking.event, booking.user
    recipient = recipient or learner
    sessions = list(event.sessions.all())
    url = absolute_url(event.get_absolute_url())
    email_kind = email_type(kind)
    values = event_values(event=event, recipient=recipient, sessions=sessions, join_links=email_kind.join_links)
    values.update(
        learner_name=display_name(learner),
        approvals_url=absolute_url(reverse("seminars:approvals")),
        **reason_values(reason),
    )
    if "manager_name" in email_kind.placeholders:
        values["manager_name"] = manager_name(learner)
    message = email_message(kind=kind, seminar_id=event.seminar_id, values=values, to=[recipient.email])
    if message is None:
        return None
    method = CALENDAR_METHODS[kind]
    if with_calendar and method and sessions:
        calendar = ical.event_calendar(
            event=event, sessions=sessions, method=method, attendee=learner, url=url, booking=booking
        )
        message.attach(_calendar_part(calendar, method))
    if with_calendar and removed_sessions:
        # Sessions taken out of the event: withdraw them from the learner's calendar.
        calendar = ical.event_calendar(
            event=event, sessions=removed_sessions, method=ical.CANCEL, attendee=learner, url=url, booking=booking
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
