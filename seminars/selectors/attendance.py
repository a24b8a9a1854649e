"""Reading attendance: the thresholds in force and what a session's sign-in sheet shows."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import get_object_or_404

from seminars.models import Booking, Session, SessionAttendance
from seminars.validators import ATTENDED_PERCENT_MAX, ATTENDED_PERCENT_MIN


def site_attended_percent() -> int:
    """SEMINARS_ATTENDED_PERCENT: the share of a session's minutes that counts as fully attended."""
    percent = settings.SEMINARS_ATTENDED_PERCENT
    if not isinstance(percent, int) or not ATTENDED_PERCENT_MIN <= percent <= ATTENDED_PERCENT_MAX:
        raise ImproperlyConfigured(
            f"SEMINARS_ATTENDED_PERCENT must be a whole number from {ATTENDED_PERCENT_MIN} to {ATTENDED_PERCENT_MAX}."
        )
    return percent


def seminar_attended_percent(seminar) -> int:
    """The seminar's own threshold, or the site's default when it sets none."""
    return seminar.attended_percent or site_attended_percent()


def attendance_grace() -> timedelta:
    """SEMINARS_ATTENDANCE_GRACE_MINUTES: time before the start and after the finish that still counts."""
    minutes = settings.SEMINARS_ATTENDANCE_GRACE_MINUTES
    if not isinstance(minutes, int) or minutes < 0:
        raise ImproperlyConfigured("SEMINARS_ATTENDANCE_GRACE_MINUTES must be a whole number of minutes, 0 or more.")
    return timedelta(minutes=minutes)


def session_for_sheet(*, session_id) -> Session:
    """The session with its event, seminar, course and room loaded; 404 if missing."""
    return get_object_or_404(Session.objects.select_related("event__seminar__course", "room"), pk=session_id)


@dataclass
class SheetRow:
    booking: Booking
    attendance: SessionAttendance | None  # None: nothing proposed or confirmed yet


def session_sheet_rows(*, session) -> list[SheetRow]:
    """One row per learner holding a seat on the session's event, in signup order, with their attendance."""
    bookings = (
        Booking.objects.filter(event_id=session.event_id, state__in=Booking.SEAT_STATES)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    rows = {
        row.booking_id: row for row in SessionAttendance.objects.filter(session=session).select_related("confirmed_by")
    }
    return [SheetRow(booking=booking, attendance=rows.get(booking.pk)) for booking in bookings]
