"""Reminders before an event: to its booked learners and its trainers, sent once each through the outbox.

A periodic task (seminars.tasks.reminders_queue) calls `reminders_record`: for
every event whose first session is near, the nearest reminder that is due
(hours before the first session: the seminar's `reminder_offsets`, else
settings.SEMINARS_REMINDER_OFFSETS_HOURS) is recorded as an OutboundEmail per
recipient, and the email task sends it (seminars.outbox: claimed, retried, sent
once). Only the nearest due reminder is recorded: a learner who books ten
minutes before the start gets the one-hour reminder, not a late 24-hour one.

The key of each email names the event, the reminder, the recipient and the
schedule (a digest of the session times), so repeated and concurrent runs
record it once, and a session moved after its reminder was sent gets a new
one. The email is built from the current data and the template in effect
(seminars.email_types: "reminder", "reminder_trainer") when it is sent: a
booking cancelled, an event cancelled or rescheduled, a first session already
started, or a seminar that switched reminders off by then sends nothing.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Min, Prefetch
from django.utils import timezone

from seminars.email_messages import email_message, event_values
from seminars.models import Booking, OutboundEmail, Seminar, SeminarEvent, Session
from seminars.selectors.trainers import event_trainers, event_trainers_by_event
from seminars.validators import reminder_offsets_parse

# Events looked at per run, nearest first: the run's queries stay few and bounded.
BATCH = 200


def seminar_reminder_offsets(seminar: Seminar) -> list[int]:
    """Hours before an event's first session when reminders go out, largest first.

    A stored value the validator would refuse (written around the forms) counts as blank:
    one bad seminar must not stop every event's reminders.
    """
    if seminar.reminder_offsets.strip():
        try:
            return reminder_offsets_parse(seminar.reminder_offsets)
        except ValueError:
            pass
    return sorted({int(hours) for hours in settings.SEMINARS_REMINDER_OFFSETS_HOURS}, reverse=True)


def reminder_due(*, offsets, first_start, now) -> int | None:
    """The nearest reminder (hours) due at `now` before a first session at `first_start`, or None."""
    if first_start <= now:
        return None
    due = [hours for hours in offsets if first_start - timedelta(hours=hours) <= now]
    return min(due) if due else None


def schedule_version(sessions) -> str:
    """A digest of the event's session times: moving a session changes it (and so the reminders' keys)."""
    times = ",".join(f"{s.pk}@{s.start.isoformat()}" for s in sorted(sessions, key=lambda s: s.pk))
    return hashlib.sha256(times.encode()).hexdigest()[:16]


def reminders_record(*, now=None, batch: int = BATCH) -> list[int]:
    """Record the reminders due now that are not recorded yet; return the ids of the emails to send.

    Safe to run again and at the same time as another run: each reminder has a
    unique key and is inserted once (ON CONFLICT DO NOTHING); an id returned by
    two runs is sent once (the send claims its row).
    """
    now = now or timezone.now()
    reach = timedelta(hours=_largest_offset())
    if not reach:
        return []
    # An event whose first session starts within reach has a session there: asking the index on the sessions'
    # start for those events first reads the coming sessions, not the history.
    starting = Session.objects.filter(start__gt=now, start__lte=now + reach).values("event_id")
    events = list(
        SeminarEvent.objects.filter(cancelled=False, pk__in=starting)
        .annotate(first_start=Min("sessions__start"))
        .filter(first_start__gt=now, first_start__lte=now + reach)
        .select_related("seminar")
        .prefetch_related(
            Prefetch("sessions", queryset=Session.objects.only("pk", "event_id", "start")),
            Prefetch(
                "bookings",
                queryset=Booking.objects.filter(state__in=Booking.SEAT_STATES).select_related("user"),
                to_attr="seat_bookings",
            ),
        )
        .order_by("first_start", "pk")[:batch]
    )
    due = {}
    for event in events:
        offset = reminder_due(offsets=seminar_reminder_offsets(event.seminar), first_start=event.first_start, now=now)
        if offset is not None:
            due[event] = offset
    if not due:
        return []
    trainers = event_trainers_by_event(event.pk for event in due)
    wanted = {}
    for event, offset in due.items():
        version = schedule_version(event.sessions.all())
        booked = set()
        for booking in event.seat_bookings:
            booked.add(booking.user_id)
            _want(wanted, event, offset, version, booking.user, booking_id=booking.pk)
        for user in trainers.get(event.pk, []):
            if user.pk not in booked:
                _want(wanted, event, offset, version, user, booking_id=None)
    if not wanted:
        return []
    known = set(OutboundEmail.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    fresh = [row for key, row in wanted.items() if key not in known]
    OutboundEmail.objects.bulk_create(fresh, ignore_conflicts=True)
    return list(
        OutboundEmail.objects.filter(key__in=[row.key for row in fresh], state=OutboundEmail.State.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def reminder_email_render(params: dict) -> EmailMultiAlternatives | None:
    """The reminder recorded by reminders_record, from the current data (None when it no longer applies)."""
    event = (
        SeminarEvent.objects.select_related("seminar__course")
        .prefetch_related(Prefetch("sessions", queryset=Session.objects.select_related("room").order_by("start")))
        .filter(pk=params["event_id"], cancelled=False)
        .first()
    )
    if event is None:
        return None
    sessions = list(event.sessions.all())
    now = timezone.now()
    if not sessions or schedule_version(sessions) != params["version"]:
        return None  # rescheduled: the new schedule has reminders of its own
    offset = reminder_due(offsets=seminar_reminder_offsets(event.seminar), first_start=sessions[0].start, now=now)
    if offset != params["offset"]:
        return None  # started, or a nearer reminder is due (or the seminar's reminders changed)
    user = _recipient(event, params)
    if user is None or not user.email:
        return None
    kind = "reminder" if params["booking_id"] is not None else "reminder_trainer"
    values = event_values(event=event, recipient=user, sessions=sessions, join_links=True)
    values["learner_name"] = values["recipient_name"]
    return email_message(kind=kind, seminar_id=event.seminar_id, values=values, to=[user.email])


def _largest_offset() -> int:
    # The furthest any seminar reminds ahead: events further away need no look yet.
    offsets = set(settings.SEMINARS_REMINDER_OFFSETS_HOURS)
    for text in Seminar.objects.exclude(reminder_offsets="").values_list("reminder_offsets", flat=True).distinct():
        offsets.update(seminar_reminder_offsets(Seminar(reminder_offsets=text)))
    return max(offsets, default=0)


def _want(wanted: dict, event, offset: int, version: str, user, *, booking_id) -> None:
    if not user.email:
        return
    who = f"booking{booking_id}" if booking_id else "trainer"
    key = f"reminder:{event.pk}:{offset}h:{who}:{user.pk}:{version}"
    params = {"event_id": event.pk, "offset": offset, "version": version, "user_id": user.pk, "booking_id": booking_id}
    wanted[key] = OutboundEmail(key=key, kind="reminder", to=user.email, params=params)


def _recipient(event, params):
    if params["booking_id"] is not None:
        booking = (
            Booking.objects.select_related("user")
            .filter(pk=params["booking_id"], event=event, user_id=params["user_id"], state__in=Booking.SEAT_STATES)
            .first()
        )
        return booking.user if booking else None
    # Still one of the event's trainers when it is sent: someone unassigned since hears nothing.
    return next((user for user in event_trainers(event) if user.pk == params["user_id"]), None)
