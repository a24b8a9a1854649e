"""Reading events, sessions and rooms for the editor, the room page and site-room management."""

from datetime import datetime

from django.db.models import Count, Min, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from seminars.models import Booking, Room, SeminarEvent, Session
from seminars.permissions import is_site_admin


def event_with_course(pk: int) -> SeminarEvent:
    return get_object_or_404(SeminarEvent.objects.select_related("seminar__course"), pk=pk)


def event_sessions_for_edit(event: SeminarEvent) -> list[Session]:
    return list(event.sessions.select_related("room").order_by("start", "pk"))


def rooms_available(*, start: datetime, finish: datetime, exclude_event: SeminarEvent | None = None):
    """Site rooms free from `start` to `finish`: not held by an overlapping session of another
    live event, unless the room allows conflicts."""
    busy = Session.objects.filter(start__lt=finish, finish__gt=start, event__cancelled=False, room__isnull=False)
    if exclude_event is not None and exclude_event.pk:
        busy = busy.exclude(event=exclude_event)
    return (
        Room.objects.filter(event__isnull=True)
        .exclude(Q(allow_conflicts=False) & Q(pk__in=busy.values("room_id")))
        .order_by("name", "pk")
    )


def site_rooms_with_use():
    """Site rooms with the number of upcoming sessions that use them and the next one's start."""
    upcoming = Q(sessions__finish__gt=timezone.now(), sessions__event__cancelled=False)
    return (
        Room.objects.filter(event__isnull=True)
        .annotate(
            upcoming_sessions=Count("sessions", filter=upcoming), next_start=Min("sessions__start", filter=upcoming)
        )
        .order_by("name", "pk")
    )


def room_with_event(pk: int) -> Room:
    return get_object_or_404(Room.objects.select_related("event__seminar__course", "created_by"), pk=pk)


def room_sessions_for_viewer(*, room: Room, user):
    """The sessions using `room` that the viewer may know about: all for site admins,
    otherwise those of courses the viewer is enrolled in."""
    sessions = Session.objects.filter(room=room).select_related("event__seminar__course").order_by("start", "pk")
    if not is_site_admin(user):
        sessions = sessions.filter(event__seminar__course__enrolments__user=user).distinct()
    return sessions


def event_booking_count(event: SeminarEvent) -> int:
    counts = event.bookings.aggregate(n=Count("pk", filter=Q(state__in=Booking.SEAT_STATES)))
    return counts["n"] or 0


def event_cancelled_signup_count(event: SeminarEvent) -> int:
    """How many signups (booked or waitlisted) were cancelled with the event, and so told of it."""
    return event.bookings.filter(state=Booking.State.EVENT_CANCELLED).count()
