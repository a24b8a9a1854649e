"""In-app notifications, also sent by email; and the "event times changed" notice.

`notify` is general: bookings use it for cancelled events, and virtual meeting
failures ("Virtual meeting creation failure", listing the sessions) use it too.
"""

import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from seminars import emails
from seminars.email_messages import NoticeEmail, notice_email_message
from seminars.models import Booking, Notification, SeminarEvent
from seminars.outbox import absolute_url
from seminars.tasks import email_queue
from seminars.viewer_facts import notifications_changed

log = logging.getLogger(__name__)


def notify(*, users, subject, body, url="", email: NoticeEmail | None = None) -> list[Notification]:
    """Create one Notification per user and, with `email`, email each of them too.

    `url` is a site path (e.g. the event page) or an absolute URL. The email is made
    from the template of `email.kind` (seminars.email_types), which admins edit, when it
    is sent. Each email is recorded with its notification and sent by a task after the
    surrounding transaction commits, one message per recipient (seminars.outbox); users
    without an email address get only the in-app notification.
    """
    users = list(users)
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [Notification(user=user, subject=subject[:255], body=body, url=url[:500], created_at=now) for user in users]
    )
    notifications_changed(user.pk for user in users)
    if email is not None:
        params = email.params()
        for row in rows:
            email_queue(
                key=f"notification:{row.pk}",
                kind="notification",
                to=row.user.email,
                params={"notification_id": row.pk, "email": params},
            )
    return rows


def notification_email_render(params: dict) -> EmailMessage | None:
    """The email of one notification, from its template (None if it or its user's address is gone)."""
    row = Notification.objects.select_related("user").filter(pk=params["notification_id"]).first()
    if row is None or not row.user.email:
        return None
    if "email" in params:
        return notice_email_message(spec=params["email"], user=row.user)
    # Recorded before emails had templates: the notification's own text.
    text = row.body if not row.url else f"{row.body}\n\n{absolute_url(row.url)}\n"
    return EmailMessage(subject=row.subject, body=text, to=[row.user.email])


def notify_event_times_changed(*, event, removed_sessions=()) -> None:
    """Tell every booked learner the event's new times: in the app, and by email with an updated calendar.

    Call it after an event's sessions changed, in the transaction that changed
    them (or out of one). The event's updated_at moves forward so that calendars
    see a higher SEQUENCE. `removed_sessions` (objects with pk, start, finish,
    room) are withdrawn from the learners' calendars with a METHOD:CANCEL part.
    The in-app notice and each learner's email are recorded independently: one
    that fails is logged and the others go ahead.
    """
    changed_at = timezone.now()
    SeminarEvent.objects.filter(pk=event.pk).update(updated_at=changed_at)
    bookings = list(Booking.objects.filter(event_id=event.pk, state=Booking.State.BOOKED).select_related("user"))
    if not bookings:
        return
    subject = gettext("New times: %(seminar)s, %(event)s") % {"seminar": event.seminar.name, "event": event.title}
    body = gettext("The times of an event you are booked on have changed. See the event page for the new times.")
    _independently(
        lambda: notify(users=[b.user for b in bookings], subject=subject, body=body, url=event.get_absolute_url()),
        what=f"notify the learners of event {event.pk} in the app",
    )
    for booking in bookings:
        _independently(
            lambda booking=booking: emails.booking_email_queue(
                booking=booking, kind="times_changed", version=changed_at, removed_sessions=removed_sessions
            ),
            what=f"record the new-times email of booking {booking.pk}",
        )


def _independently(action, *, what: str) -> None:
    # A savepoint: a failure rolls back only this action, never the caller's transaction.
    try:
        with transaction.atomic():
            action()
    except Exception:
        log.exception("Could not %s; the other notices go ahead.", what)
