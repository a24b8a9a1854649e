"""Reading attendance: the thresholds in force, what a session's meeting reported, and what a
session's sign-in sheet shows."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Page, Paginator
from django.shortcuts import get_object_or_404
from django.utils import timezone

from seminars.attendance import (
    Matching,
    bookings_by_email,
    match_participants,
    participant_id,
    participant_minutes,
    split_staff,
)
from seminars.meetings import BOOKING_KEY, STAFF_KEY, meeting_reference
from seminars.models import Booking, ParticipantMatch, Session, SessionAttendance
from seminars.validators import ATTENDED_PERCENT_MAX, ATTENDED_PERCENT_MIN
from virtualmeeting.selectors import meeting_occurrences, meeting_participants, meetings_by_reference, registrant_ids

ATTENDANCE_PER_PAGE = 20


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
    # The learner's join..leave intervals in the meeting (matched by link, email or by hand), by join time.
    intervals: list = field(default_factory=list)


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


# --- What the session's meeting reported -----------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    """One join..leave interval of one device in the session's meeting (joined_at None: times unknown)."""

    occurrence: str
    participant_key: str
    registrant_id: str
    name: str
    email: str
    joined_at: datetime | None
    left_at: datetime | None
    is_host: bool = False  # the meeting's host, as the provider told (virtualmeeting.selectors.meeting_participants)


@dataclass
class SessionParticipation:
    """Everything the session's meeting reported, and the trainer's matches by hand."""

    reference: str = ""  # "" when the session has no provider meeting
    provider: str = ""
    occurrences: list = field(default_factory=list)  # virtualmeeting MeetingOccurrence rows
    # Learners and guests: what is matched to bookings (by link, email or hand) or left unmatched.
    participants: list[Presence] = field(default_factory=list)
    # The host and staff registered on demand (seminars.attendance.split_staff): never matched to a learner.
    staff: list[Presence] = field(default_factory=list)
    registrant_to_booking: dict = field(default_factory=dict)
    matches: dict = field(default_factory=dict)  # participant_id -> ParticipantMatch

    @property
    def by_hand(self) -> dict:
        """participant_id -> booking id, or None to ignore (match_participants' `by_hand`)."""
        return {key: match.booking_id for key, match in self.matches.items()}

    @property
    def reported(self) -> bool:
        """The provider told us the meeting ended, or gave its final participant list."""
        return any(o.ended_at or o.participants_done_at for o in self.occurrences)

    @property
    def next_check_at(self) -> datetime | None:
        """When the participants are asked for next, while the list has not come."""
        waiting = [o.next_poll_at for o in self.occurrences if o.next_poll_at and not o.participants_done_at]
        return min(waiting, default=None)

    @property
    def poll_error(self) -> str:
        """Why the participant list could not be had, when nothing came and no check is left ("")."""
        if any(o.participants_done_at for o in self.occurrences) or self.next_check_at:
            return ""
        return next((o.poll_error for o in self.occurrences if o.poll_error), "")

    def until(self, now: datetime | None = None) -> datetime:
        """Where an interval with no leave time ends: the meeting's end once every occurrence ended, else now."""
        ends = [o.ended_at for o in self.occurrences]
        if ends and all(ends):
            return max(ends)
        return now or timezone.now()


def session_reference(session) -> str:
    """The reference of the session's provider meeting, "" when its room has none."""
    room = session.room
    if room is None or not room.is_provider_backed:
        return ""
    return meeting_reference(session, room)


def registrant_bookings(registrants: Mapping[str, str]) -> dict[str, int]:
    """{registrant id: booking id} from {registrant id: key}: the keys "booking:<id>" (staff's are others)."""
    found = {}
    for registrant_id, key in registrants.items():
        number = key.removeprefix(BOOKING_KEY)
        if key.startswith(BOOKING_KEY) and number.isdigit():
            found[registrant_id] = int(number)
    return found


def registrant_staff(registrants: Mapping[str, str]) -> set[str]:
    """The registrant ids of staff registered on demand (keys "user:<id>") in {registrant id: key}."""
    return {registrant_id for registrant_id, key in registrants.items() if key.startswith(STAFF_KEY)}


def session_participation(*, session) -> SessionParticipation:
    """What the session's meeting reported (occurrences, participants, registrants) and the hand matches.

    The host and staff are kept apart from the learners and guests (`staff`). A constant number of
    queries, whatever the number of participants.
    """
    reference = session_reference(session)
    if not reference:
        return SessionParticipation()
    meeting = meetings_by_reference([reference]).get(reference)
    if meeting is None:
        return SessionParticipation(reference=reference)
    everyone = [
        Presence(
            occurrence=row.occurrence.uuid,
            participant_key=row.participant_key,
            registrant_id=row.registrant_id,
            name=row.name,
            email=row.email,
            joined_at=row.joined_at,
            left_at=row.left_at,
            is_host=row.is_host,
        )
        for row in meeting_participants([reference])[reference]
    ]
    registrants = registrant_ids(reference)
    participants, staff = split_staff(everyone, staff_registrant_ids=registrant_staff(registrants))
    matches = {
        (match.occurrence, match.participant_key): match
        for match in ParticipantMatch.objects.filter(session=session).select_related("matched_by", "booking__user")
    }
    return SessionParticipation(
        reference=reference,
        provider=meeting.provider,
        occurrences=meeting_occurrences([reference])[reference],
        participants=participants,
        staff=staff,
        registrant_to_booking=registrant_bookings(registrants),
        matches=matches,
    )


@dataclass
class ParticipantGroup:
    """One device in one occurrence, as the sheet lists a participant nobody matched (or a trainer did)."""

    occurrence: str
    participant_key: str
    name: str
    email: str
    intervals: list  # [(joined_at, left_at)], by join time
    minutes: int | None
    match: ParticipantMatch | None = None
    is_host: bool = False

    @property
    def id(self) -> tuple[str, str]:
        return (self.occurrence, self.participant_key)


@dataclass
class Sheet:
    """A session's sign-in sheet: the booked learners' rows, the participants for the trainer to match,
    and the host and staff (listed with their minutes, never matched to a learner)."""

    rows: list[SheetRow]
    participation: SessionParticipation
    unmatched: list[ParticipantGroup]
    decided: list[ParticipantGroup]  # matched by hand or ignored: the trainer may undo
    staff: list[ParticipantGroup] = field(default_factory=list)  # the host first


def sign_in_sheet(*, session, now: datetime | None = None) -> Sheet:
    """The sign-in sheet of a session: rows with each learner's intervals, the participants nobody
    matched, those a trainer matched or ignored, and the host and staff. A constant number of queries."""
    rows = session_sheet_rows(session=session)
    participation = session_participation(session=session)
    matching = _sheet_matching(rows, participation)
    for row in rows:
        row.intervals = _intervals(matching.matched.get(row.booking.pk, []))
    window = {
        "start": session.start,
        "finish": session.finish,
        "grace": attendance_grace(),
        "until": participation.until(now),
    }
    decided_people = [p for p in participation.participants if participant_id(p) in participation.matches]
    decided = _groups(decided_people, window)
    for group in decided:
        group.match = participation.matches[group.id]
    staff = sorted(_groups(participation.staff, window), key=lambda group: not group.is_host)
    return Sheet(
        rows=rows,
        participation=participation,
        unmatched=_groups(matching.unmatched, window),
        decided=decided,
        staff=staff,
    )


def _sheet_matching(rows, participation) -> Matching:
    emails = bookings_by_email((row.booking.pk, row.booking.user.email) for row in rows)
    return match_participants(
        participation.participants,
        registrant_to_booking=participation.registrant_to_booking,
        email_to_booking=emails,
        by_hand=participation.by_hand,
    )


def _intervals(participants) -> list:
    timed = [(p.joined_at, p.left_at) for p in participants if p.joined_at is not None]
    return sorted(timed, key=lambda interval: interval[0])


def _groups(participants, window) -> list[ParticipantGroup]:
    """The participants by device and occurrence, in order of first appearance."""
    found: dict[tuple[str, str], list] = {}
    for participant in participants:
        found.setdefault(participant_id(participant), []).append(participant)
    groups = []
    for (occurrence, key), people in found.items():
        groups.append(
            ParticipantGroup(
                occurrence=occurrence,
                participant_key=key,
                name=next((p.name for p in people if p.name), ""),
                email=next((p.email for p in people if p.email), ""),
                intervals=_intervals(people),
                minutes=participant_minutes(people, **window),
                is_host=any(getattr(p, "is_host", False) for p in people),
            )
        )
    return groups


# --- What a learner sees -------------------------------------------------------------------------


def _learner_attendance_rows(user):
    return SessionAttendance.objects.filter(booking__user=user).exclude(state="")


def learner_attendance_count(*, user) -> int:
    """How many confirmed attendances `user` has (learner_attendance's count)."""
    return _learner_attendance_rows(user).count()


def learner_attendance(*, user, page: int | str = 1, count: int | None = None) -> Page:
    """The learner's confirmed attendance per session, latest session first, paged (`count`: their number when
    known, e.g. cached: seminars.dashboard_cache).

    Only decisions a trainer confirmed: what the meeting data merely suggests is not shown.
    """
    rows = _learner_attendance_rows(user).select_related("session__event__seminar__course", "session__room")
    paginator = Paginator(rows.order_by("-session__start", "-pk"), ATTENDANCE_PER_PAGE)
    if count is not None:
        paginator.count = count
    return paginator.get_page(page)
