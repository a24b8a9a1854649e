"""What attendance means, as pure functions: minutes from join/leave intervals, the proposed state,
which booking a meeting participant belongs to, and the event-level state from the sessions.

Nothing here reads the database, the settings or the clock: the services pass in the session's
times, the thresholds and the moment open intervals end, so every rule is tested on plain values.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from seminars.models import AttendanceSource, Booking, SessionAttendance

State = Booking.State

# A participant who was present but whose times the provider did not give (Zoom's older
# past-participants variant lists only names and emails). We do not guess their minutes: the sheet
# proposes "present, minutes unknown" and the trainer chooses the state.
PRESENT_MINUTES_UNKNOWN = SessionAttendance.PRESENT_MINUTES_UNKNOWN

# Where a participant's link to a booking came from, strongest first.
BY_REGISTRANT = AttendanceSource.REGISTRANT
BY_EMAIL = AttendanceSource.EMAIL
BY_HAND = AttendanceSource.HAND_MATCHED
_STRENGTH = {BY_REGISTRANT: 0, BY_EMAIL: 1, BY_HAND: 2}

MINUTE = timedelta(minutes=1)


def attended_minutes(intervals, *, start: datetime, finish: datetime, grace: timedelta, until=None) -> int:
    """The whole minutes covered by the union of `intervals`, within [start - grace, finish + grace].

    `intervals` are (joined, left) pairs of aware datetimes, each the half-open [joined, left):
    rejoins and several devices at once count each moment once. An open interval (left None,
    still in the meeting) ends at `until`, the meeting's end or now, which is then required.
    An interval with no positive length inside the window adds nothing.

    Rounding: a minute counts once it is complete (the total is rounded down), so the result
    is never more than the window's length, and 44 min 59 s is 44 minutes, not 45.
    """
    window_start, window_end = start - grace, finish + grace
    clipped = []
    for joined, left in intervals:
        if left is None:
            if until is None:
                raise ValueError("an open interval (left is None) needs `until`, the meeting's end or now")
            left = until
        joined, left = max(joined, window_start), min(left, window_end)
        if left > joined:
            clipped.append((joined, left))

    total = timedelta(0)
    current_start = current_end = None
    for joined, left in sorted(clipped):
        if current_end is None or joined > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = joined, left
        else:
            current_end = max(current_end, left)
    if current_end is not None:
        total += current_end - current_start
    return total // MINUTE


def scheduled_minutes(*, start: datetime, finish: datetime) -> int:
    """A session's scheduled length in whole minutes (rounded down), at least 1."""
    return max((finish - start) // MINUTE, 1)


def proposed_state(minutes, scheduled_minutes: int, *, attended_percent: int, partial_above: int = 0) -> str:
    """The attendance state that `minutes` in a session of `scheduled_minutes` suggests.

    Fully attended from `attended_percent` % of the scheduled minutes (compared exactly, in
    integers: 75 % of 50 minutes is 37.5, so 38 minutes are needed); partially attended above
    `partial_above` minutes; otherwise no show. `minutes` None means present with unknown times:
    PRESENT_MINUTES_UNKNOWN, which is not a state; the trainer decides.
    """
    if scheduled_minutes < 1:
        raise ValueError("scheduled_minutes must be at least 1")
    if not 1 <= attended_percent <= 100:
        raise ValueError("attended_percent must be from 1 to 100")
    if minutes is None:
        return PRESENT_MINUTES_UNKNOWN
    if minutes > partial_above and minutes * 100 >= scheduled_minutes * attended_percent:
        return State.FULLY_ATTENDED
    if minutes > partial_above:
        return State.PARTIALLY_ATTENDED
    return State.NO_SHOW


def participant_minutes(participants, *, start, finish, grace, until=None):
    """attended_minutes over the participants' (joined_at, left_at) intervals.

    No participants: 0. A participant without a join time (the provider gave no times) is
    present but adds no minutes; when participants exist and none has times, the minutes are
    unknown (None), not 0.
    """
    participants = list(participants)
    timed = [(p.joined_at, p.left_at) for p in participants if p.joined_at is not None]
    if not timed:
        return None if participants else 0
    return attended_minutes(timed, start=start, finish=finish, grace=grace, until=until)


def normalise_email(email) -> str:
    """How addresses are compared: stripped and lower-cased ("" for none)."""
    return (email or "").strip().lower()


def bookings_by_email(pairs: Iterable[tuple[object, str]]) -> dict[str, object]:
    """{normalised email: booking id} from (booking id, email) pairs.

    An address shared by several bookings (two accounts with one email) says nothing about
    who joined, so it is left out; empty addresses are left out too.
    """
    found: dict[str, set] = {}
    for booking_id, email in pairs:
        key = normalise_email(email)
        if key:
            found.setdefault(key, set()).add(booking_id)
    return {key: ids.pop() for key, ids in found.items() if len(ids) == 1}


@dataclass
class Matching:
    """match_participants' answer: the participants of each booking, the evidence, and the rest."""

    matched: dict = field(default_factory=dict)  # booking id -> [participants]
    sources: dict = field(default_factory=dict)  # booking id -> BY_REGISTRANT, BY_EMAIL or BY_HAND
    unmatched: list = field(default_factory=list)
    ignored: list = field(default_factory=list)  # a trainer said they are nobody's


def participant_id(participant) -> tuple[str, str]:
    """(occurrence, participant key): one device in one occurrence, what a trainer matches by hand."""
    return (getattr(participant, "occurrence", "") or "", getattr(participant, "participant_key", "") or "")


def split_staff(participants, *, staff_registrant_ids) -> tuple[list, list]:
    """(everyone else, the host and staff) among a meeting's participants, each list in its order.

    The host and staff are not learners: a participant the provider marked as the meeting's host
    (`is_host`), or who joined with a registrant link of staff registered on demand (a registrant id
    in `staff_registrant_ids`). The whole device goes with them: every interval of the same
    participant_id, even one that lacks the mark (an interval told without its email or account).
    """
    participants = list(participants)
    staff_ids = {participant_id(p) for p in participants if _is_staff(p, staff_registrant_ids)}
    others = [p for p in participants if participant_id(p) not in staff_ids]
    staff = [p for p in participants if participant_id(p) in staff_ids]
    return others, staff


def _is_staff(participant, staff_registrant_ids) -> bool:
    registrant_id = (participant.registrant_id or "").strip()
    return getattr(participant, "is_host", False) or bool(registrant_id and registrant_id in staff_registrant_ids)


def match_participants(
    participants,
    *,
    registrant_to_booking: Mapping[str, object],
    email_to_booking: Mapping[str, object],
    by_hand: Mapping[tuple[str, str], object] | None = None,
) -> Matching:
    """Which booking each participant (a record with `registrant_id` and `email`) belongs to.

    A trainer's decision comes first: `by_hand` maps participant_id(participant) to a booking id,
    or to None for a participant to ignore. Then by registrant id (the personal join link we
    registered for the booking); then by the email of an LMS user booked on the event
    (`email_to_booking` is keyed by normalise_email, see bookings_by_email); otherwise unmatched
    (guests, phone dial-ins, someone else's link). A participant whose registrant id is a booking's
    counts for that booking even if their email is another booking's. A booking's source is the
    strongest of its participants' (registrant id, then email, then by hand). Participants keep
    their order within each list.
    """
    by_hand = by_hand or {}
    result = Matching()
    for participant in participants:
        booking_id, source = _match_one(participant, registrant_to_booking, email_to_booking, by_hand)
        if source == BY_HAND and booking_id is None:
            result.ignored.append(participant)
            continue
        if booking_id is None:
            result.unmatched.append(participant)
            continue
        result.matched.setdefault(booking_id, []).append(participant)
        known = result.sources.get(booking_id)
        if known is None or _STRENGTH[source] < _STRENGTH[known]:
            result.sources[booking_id] = source
    return result


def _match_one(participant, registrant_to_booking, email_to_booking, by_hand):
    """(booking id or None, source) for one participant."""
    decided = participant_id(participant)
    if decided in by_hand:
        return by_hand[decided], BY_HAND
    registrant_id = (participant.registrant_id or "").strip()
    booking_id = registrant_to_booking.get(registrant_id) if registrant_id else None
    if booking_id is not None:
        return booking_id, BY_REGISTRANT
    email = normalise_email(participant.email)
    if email and email_to_booking.get(email) is not None:
        return email_to_booking[email], BY_EMAIL
    return None, None


def event_state_from_sessions(states: Iterable) -> str | None:
    """A booking's event-level attendance from its states in each of the event's sessions.

    Fully attended if every session was fully attended, no show if every one was a no show,
    partially attended otherwise (the established seminar module's rule). None while any
    session is not set ("" or None) or there are no sessions: not decided yet.
    """
    states = list(states)
    if not states or any(not state for state in states):
        return None
    unknown = {str(state) for state in states} - set(Booking.ATTENDANCE_STATES)
    if unknown:
        raise ValueError(f"not attendance states: {sorted(unknown)}")
    if all(state == State.FULLY_ATTENDED for state in states):
        return State.FULLY_ATTENDED
    if all(state == State.NO_SHOW for state in states):
        return State.NO_SHOW
    return State.PARTIALLY_ATTENDED


@dataclass(frozen=True)
class Proposal:
    """What the meeting data suggests for one booking in one session."""

    state: str  # an attendance state or PRESENT_MINUTES_UNKNOWN
    minutes: int | None
    source: str  # an AttendanceSource value


def session_proposals(
    booking_ids, matching: Matching, *, start, finish, grace, until, attended_percent, partial_above=0
) -> dict:
    """{booking id: Proposal} for every booking of a session, from match_participants' answer.

    A booking nobody matched is proposed a no show with 0 minutes (source NOT_SEEN): call this
    only once the provider has reported the session's participants.
    """
    scheduled = scheduled_minutes(start=start, finish=finish)
    proposals = {}
    for booking_id in booking_ids:
        participants = matching.matched.get(booking_id)
        if not participants:
            proposals[booking_id] = Proposal(State.NO_SHOW, 0, AttendanceSource.NOT_SEEN)
            continue
        minutes = participant_minutes(participants, start=start, finish=finish, grace=grace, until=until)
        state = proposed_state(minutes, scheduled, attended_percent=attended_percent, partial_above=partial_above)
        proposals[booking_id] = Proposal(state, minutes, matching.sources[booking_id])
    return proposals
