"""Events short of their minimum bookings: their trainers are warned once, in the app and by email.

A periodic task (seminars.tasks.minimum_warnings) calls `minimum_warnings_record`: every event
that is not cancelled, has a `minimum_bookings`, starts within SEMINARS_MINIMUM_WARNING_HOURS
and has fewer seats taken is claimed with a conditional UPDATE of its `minimum_warning_sent_at`
(so repeated and concurrent runs warn once per event, trainers without an email address too),
then each of the event's trainers (seminars.selectors.trainers) gets a Notification and its email,
recorded in the outbox under the key `minimum_warning:<event>:<trainer>:<first start>` (sent once,
with retries). An event that reaches its minimum before the warning time is never warned about.
When an event's first start moves, its warning is re-armed (`minimum_warning_rearm`): the trainers
are warned again, the warning time before the new start, if it is still short then.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from seminars.email_messages import NoticeEmail
from seminars.models import Booking, Notification, SeminarEvent, Session
from seminars.outbox import email_record
from seminars.selectors.trainers import event_trainers


def minimum_warnings_record(*, now=None) -> list[int]:
    """Warn the trainers of the events short of their minimum now; return the ids of the emails recorded.

    Call it in a transaction: each event's claim, notifications and emails commit together.
    """
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.SEMINARS_MINIMUM_WARNING_HOURS)
    seats = (
        Booking.objects.filter(event=OuterRef("pk"), state__in=Booking.SEAT_STATES)
        .order_by()
        .values("event")
        .annotate(count=Count("pk"))
        .values("count")
    )
    # Events that reached their minimum are never warned: of those, read only the ones starting soon.
    starting = Session.objects.filter(start__gt=now, start__lte=horizon).values("event_id")
    short = (
        SeminarEvent.objects.filter(
            cancelled=False, minimum_bookings__isnull=False, minimum_warning_sent_at=None, pk__in=starting
        )
        .annotate(first_start=Min("sessions__start"), seats_taken=Coalesce(Subquery(seats), 0))
        .filter(first_start__gt=now, first_start__lte=horizon, seats_taken__lt=F("minimum_bookings"))
        .select_related("seminar")
        .order_by("first_start", "pk")
    )
    email_ids = []
    for event in short:
        claimed = SeminarEvent.objects.filter(pk=event.pk, cancelled=False, minimum_warning_sent_at=None).update(
            minimum_warning_sent_at=now
        )
        if claimed:
            email_ids += _warn_trainers(event)
    return email_ids


def minimum_warning_rearm(*, event, old_first_start, new_first_start) -> None:
    """Let `event` be warned about again when its first session now starts at another time.

    Call it in the transaction that changed the sessions, after the event row is written.
    """
    if old_first_start == new_first_start or event.pk is None:
        return
    SeminarEvent.objects.filter(pk=event.pk).update(minimum_warning_sent_at=None)
    event.minimum_warning_sent_at = None


def _warn_trainers(event) -> list[int]:
    trainers = sorted(event_trainers(event), key=lambda user: user.pk)
    subject = gettext("Few bookings: %(title)s") % {"title": f"{event.seminar.name}, {event.title}"}
    body = ngettext(
        "%(booked)d learner is booked; this event needs at least %(minimum)d. Consider cancelling it or "
        "inviting more learners.",
        "%(booked)d learners are booked; this event needs at least %(minimum)d. Consider cancelling it or "
        "inviting more learners.",
        event.seats_taken,
    ) % {"booked": event.seats_taken, "minimum": event.minimum_bookings}
    email = NoticeEmail(
        "minimum_warning", {"booked": str(event.seats_taken), "minimum": str(event.minimum_bookings)}, event_id=event.pk
    ).params()
    email_ids = []
    for trainer in trainers:
        row = Notification.objects.create(user=trainer, subject=subject[:255], body=body, url=event.get_absolute_url())
        email_id = email_record(
            key=f"minimum_warning:{event.pk}:{trainer.pk}:{event.first_start.isoformat()}",
            kind="notification",
            to=trainer.email,
            params={"notification_id": row.pk, "email": email},
        )
        if email_id is not None:
            email_ids.append(email_id)
    return email_ids
