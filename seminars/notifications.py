"""In-app notifications, also sent by email; and the "event times changed" notice.

`notify` is general: bookings use it for cancelled events, and virtual meeting
failures ("Virtual meeting creation failure", listing the sessions) use it too.
"""

from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from seminars.models import Booking, Notification, SeminarEvent


def absolute_url(url: str) -> str:
    """A site path made absolute with SITE_URL; absolute URLs pass through."""
    if url.startswith("/"):
        return settings.SITE_URL + url
    return url


def notify(*, users, subject, body, url="", send_email=True) -> list[Notification]:
    """Create one Notification per user and, unless `send_email` is false, email them the same text.

    `url` is a site path (e.g. the event page) or an absolute URL. The emails go
    out after the surrounding transaction commits, one message per recipient;
    users without an email address get only the in-app notification.
    """
    users = list(users)
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [Notification(user=user, subject=subject[:255], body=body, url=url[:500], created_at=now) for user in users]
    )
    if send_email:
        recipients = [user.email for user in users if user.email]
        transaction.on_commit(lambda: _send(recipients, subject, body, url), robust=True)
    return rows


def notify_event_times_changed(*, event, removed_sessions=()) -> None:
    """Email every booked learner the event's new times, with an updated calendar.

    Call it after an event's sessions changed (in or out of a transaction). The
    event's updated_at moves forward so that calendars see a higher SEQUENCE.
    `removed_sessions` (objects with pk, start, finish, room) are withdrawn from
    the learners' calendars with a METHOD:CANCEL part.
    """
    from seminars import emails

    SeminarEvent.objects.filter(pk=event.pk).update(updated_at=timezone.now())
    booking_ids = list(
        Booking.objects.filter(event_id=event.pk, state=Booking.State.BOOKED).values_list("pk", flat=True)
    )
    if not booking_ids:
        return
    learners = [b.user for b in Booking.objects.filter(pk__in=booking_ids).select_related("user")]
    notify(
        users=learners,
        subject=f"New times: {event.seminar.name}, {event.title}",
        body="The times of an event you are booked on have changed. See the event page for the new times.",
        url=event.get_absolute_url(),
        send_email=False,
    )
    for pk in booking_ids:
        # One callback per learner: a failing address does not stop the others.
        transaction.on_commit(
            partial(emails.send_booking_email, booking_id=pk, kind="times_changed", removed_sessions=removed_sessions),
            robust=True,
        )


def _send(recipients, subject, body, url):
    text = body if not url else f"{body}\n\n{absolute_url(url)}\n"
    messages = [EmailMessage(subject=subject, body=text, to=[address]) for address in recipients]
    if messages:
        get_connection().send_messages(messages)
