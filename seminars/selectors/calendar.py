"""What a user's calendar feed lists: the sessions they are booked on or teach.

A session stays in the feed from 30 days before now into the future. A
cancelled seat (not a waitlist place) or event stays for 30 days after the cancellation with
STATUS:CANCELLED, so subscribed calendar apps remove it; after that it leaves
the feed. A constant number of queries whatever the number of sessions.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q

from seminars.ical import event_sequence
from seminars.models import Booking, BookingStateChange, SeminarEvent, Session
from seminars.selectors.trainers import events_taught_by

PAST_WINDOW = timedelta(days=30)
CANCELLED_WINDOW = timedelta(days=30)


@dataclass
class FeedEntry:
    session: Session
    event: SeminarEvent
    cancelled: bool
    sequence: int


def _sessions(now: datetime):
    return Session.objects.filter(finish__gte=now - PAST_WINDOW).select_related("room")


def feed_entries(*, user, now: datetime) -> list[FeedEntry]:
    """The user's feed entries, one per session, by start time."""
    entries: dict[int, FeedEntry] = {}

    def add(session, event, cancelled, sequence):
        known = entries.get(session.pk)
        if known is not None:
            # Booked and teaching: listed once, cancelled only if cancelled both ways.
            cancelled = cancelled and known.cancelled
            sequence = max(sequence, known.sequence)
        entries[session.pk] = FeedEntry(session=session, event=event, cancelled=cancelled, sequence=sequence)

    bookings = (
        Booking.objects.filter(user=user)
        .filter(
            Q(state__in=Booking.SEAT_STATES)
            | Q(
                # Only a cancelled seat: a waitlist place never reached the learner's calendar.
                Exists(BookingStateChange.objects.filter(booking=OuterRef("pk"), state__in=Booking.SEAT_STATES)),
                state__in=[Booking.State.USER_CANCELLED, Booking.State.EVENT_CANCELLED],
                updated_at__gte=now - CANCELLED_WINDOW,
            )
        )
        .filter(Q(event__cancelled=False) | Q(event__cancelled_at__gte=now - CANCELLED_WINDOW))
        .select_related("event__seminar")
        .prefetch_related(Prefetch("event__sessions", queryset=_sessions(now)))
    )
    for booking in bookings:
        event = booking.event
        cancelled = event.cancelled or booking.state not in Booking.SEAT_STATES
        for session in event.sessions.all():
            add(session, event, cancelled, event_sequence(event, booking.updated_at))

    taught = (
        events_taught_by(user)
        .filter(Q(cancelled=False) | Q(cancelled_at__gte=now - CANCELLED_WINDOW))
        .distinct()
        .select_related("seminar")
        .prefetch_related(Prefetch("sessions", queryset=_sessions(now)))
    )
    for event in taught:
        for session in event.sessions.all():
            add(session, event, event.cancelled, event_sequence(event))

    return sorted(entries.values(), key=lambda entry: (entry.session.start, entry.session.pk))
