"""Attendance per session: proposals from the meeting's participant data, and the trainer's decision.

A proposal (what the data suggests) and a decision (what a trainer confirmed) live side by side
on each SessionAttendance row: proposals never touch a decision, so data arriving late is shown
beside it. Confirming decides the booking's event-level state from all of the event's sessions
(seminars.attendance.event_state_from_sessions) through the booking state path, with history.

The event page's event-level dropdown (seminars.services.bookings.booking_set_attendance) stays:
it sets the event-level state directly, for an event taken as a whole. Whichever decision comes
last wins; both are in the booking's history with their source.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from seminars.attendance import (
    MINUTE,
    Matching,
    bookings_by_email,
    event_state_from_sessions,
    match_participants,
    participant_id,
    session_proposals,
)
from seminars.models import AttendanceSource, Booking, ParticipantMatch, Session, SessionAttendance
from seminars.permissions import is_course_trainer
from seminars.selectors.attendance import attendance_grace, seminar_attended_percent, session_participation
from seminars.services.bookings import BookingError, booking_state_change, event_lock

PROPOSAL_STATES = {value for value, _label in SessionAttendance.PROPOSAL_CHOICES}
PROPOSAL_FIELDS = ["proposed_state", "proposed_minutes", "proposed_source", "proposed_at", "updated_at"]


def session_attendance_propose(*, session, proposals) -> list[SessionAttendance]:
    """Store what the meeting data suggests for a session: {booking id: seminars.attendance.Proposal}.

    Only the proposal fields are written: a confirmed state, minutes or source is never changed.
    Bookings that no longer hold a seat on the event are skipped. A proposal equal to the stored
    one changes nothing (its `proposed_at` says when the evidence last changed). Returns the rows
    written.
    """
    for proposal in proposals.values():
        _check_proposal(proposal)
    with transaction.atomic():
        event_lock(session.event_id)
        seated = set(
            Booking.objects.filter(
                event_id=session.event_id, pk__in=list(proposals), state__in=Booking.SEAT_STATES
            ).values_list("pk", flat=True)
        )
        existing = {
            row.booking_id: row
            for row in SessionAttendance.objects.select_for_update().filter(session=session, booking_id__in=seated)
        }
        now = timezone.now()
        written = []
        for booking_id, proposal in proposals.items():
            if booking_id not in seated:
                continue
            row = existing.get(booking_id)
            if row is not None and (row.proposed_state, row.proposed_minutes, row.proposed_source) == (
                proposal.state,
                proposal.minutes,
                proposal.source,
            ):
                continue
            if row is None:
                row = SessionAttendance(booking_id=booking_id, session=session)
            row.proposed_state, row.proposed_minutes = proposal.state, proposal.minutes
            row.proposed_source, row.proposed_at = proposal.source, now
            # update_fields: a proposal cannot write a decision, whatever else the row holds.
            row.save(update_fields=PROPOSAL_FIELDS if row.pk else None)
            written.append(row)
        return written


def session_attendance_from_participants(
    *, session, participants, registrant_to_booking, until, by_hand=None
) -> Matching:
    """Propose attendance for a session from its meeting's participants (records with
    registrant_id, email, joined_at, left_at; and occurrence, participant_key for `by_hand`).

    `registrant_to_booking` maps the provider's registrant ids to booking ids; emails are those
    of the learners holding a seat on the event; `by_hand` holds a trainer's matches
    ({(occurrence, participant key): booking id, or None to ignore}), which come first. Minutes
    are clipped to the session plus the site's grace; the seminar's threshold (or the site's)
    decides the proposed state; open intervals end at `until` (the meeting's end, or now).
    Returns the matching, whose `unmatched` participants the trainer may match by hand.
    """
    session = Session.objects.select_related("event__seminar").get(pk=session.pk)
    event = session.event
    bookings = list(Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).values_list("pk", "user__email"))
    matching = match_participants(
        participants,
        registrant_to_booking=registrant_to_booking,
        email_to_booking=bookings_by_email(bookings),
        by_hand=by_hand,
    )
    proposals = session_proposals(
        [booking_id for booking_id, _email in bookings],
        matching,
        start=session.start,
        finish=session.finish,
        grace=attendance_grace(),
        until=until,
        attended_percent=seminar_attended_percent(event.seminar),
    )
    session_attendance_propose(session=session, proposals=proposals)
    return matching


def session_attendance_refresh(*, session) -> Matching | None:
    """Propose a session's attendance again from everything its meeting reported and the hand matches.

    Nothing is proposed until the provider has said the meeting ended or given its participant
    list (before that, everyone not yet seen would be proposed a no show). A confirmed decision
    is never changed (session_attendance_propose). Returns the matching, or None when nothing
    was proposed.
    """
    participation = session_participation(session=session)
    if not participation.reported:
        return None
    return session_attendance_from_participants(
        session=session,
        participants=participation.participants,
        registrant_to_booking=participation.registrant_to_booking,
        until=participation.until(),
        by_hand=participation.by_hand,
    )


def participant_match_set(*, session, occurrence, participant_key, booking_id, actor) -> ParticipantMatch:
    """A trainer says whose a meeting participant nobody matched is (`booking_id`), or to ignore it (None).

    The participant then counts for that learner with the source "matched by hand", and the
    session's proposals are made again. Only the course's trainers and site admins; the booking
    must hold a seat on the event and the participant must be one the meeting reported. Raises
    BookingError with a message for the user; nothing is saved then.
    """
    with transaction.atomic():
        event = event_lock(session.event_id)
        session = Session.objects.select_related("room").get(pk=session.pk, event=event)
        if not is_course_trainer(actor, event.seminar.course):
            raise BookingError(_("Only trainers may match participants."))
        participation = session_participation(session=session)
        if (occurrence, participant_key) not in {participant_id(p) for p in participation.participants}:
            raise BookingError(_("This participant is not among the meeting's participants."))
        if (
            booking_id is not None
            and not Booking.objects.filter(pk=booking_id, event=event, state__in=Booking.SEAT_STATES).exists()
        ):
            raise BookingError(_("Choose a learner booked on this event."))
        match, _created = ParticipantMatch.objects.update_or_create(
            session=session,
            occurrence=occurrence,
            participant_key=participant_key,
            defaults={"booking_id": booking_id, "matched_by": actor, "matched_at": timezone.now()},
        )
        session_attendance_refresh(session=session)
        return match


def participant_match_clear(*, session, occurrence, participant_key, actor) -> bool:
    """Undo a trainer's match or ignore: the participant is matched by link and email again.

    Only the course's trainers and site admins. Returns whether there was a match to undo.
    """
    with transaction.atomic():
        event = event_lock(session.event_id)
        session = Session.objects.select_related("room").get(pk=session.pk, event=event)
        if not is_course_trainer(actor, event.seminar.course):
            raise BookingError(_("Only trainers may match participants."))
        deleted, _details = ParticipantMatch.objects.filter(
            session=session, occurrence=occurrence, participant_key=participant_key
        ).delete()
        if deleted:
            session_attendance_refresh(session=session)
        return bool(deleted)


def session_attendance_confirm(*, session, rows, actor, sources=None) -> list[SessionAttendance]:
    """A trainer confirms a session's attendance: {booking id: (state, minutes)} (minutes may be None).

    `sources` says, per booking id, where the evidence came from (an AttendanceSource value;
    MANUAL when absent). In one transaction: each row's decision is written with who and when
    (a row confirmed again unchanged keeps its first confirmation), then each changed booking's
    event-level state is decided from all of the event's sessions and written with its history
    (who, when, source, this session); while a session is not set, the event-level state stays.
    Only the course's trainers and site admins, once the session has started. Raises
    BookingError with a message for the user; nothing is saved then.
    """
    sources = sources or {}
    decisions = {booking_id: _decision(row) for booking_id, row in rows.items()}
    with transaction.atomic():
        event = event_lock(session.event_id)
        session = Session.objects.get(pk=session.pk, event=event)
        _check_confirm(session=session, event=event, actor=actor, decisions=decisions, sources=sources)
        bookings = {
            booking.pk: booking
            for booking in Booking.objects.select_for_update().filter(event=event, pk__in=list(decisions))
        }
        if set(bookings) != set(decisions) or any(b.state not in Booking.SEAT_STATES for b in bookings.values()):
            raise BookingError(_("Attendance can only be taken for learners booked on this event."))

        existing = {
            row.booking_id: row
            for row in SessionAttendance.objects.select_for_update().filter(
                session=session, booking_id__in=list(bookings)
            )
        }
        now = timezone.now()
        changed = []
        for booking_id, (state, minutes) in decisions.items():
            source = sources.get(booking_id, AttendanceSource.MANUAL)
            row = existing.get(booking_id) or SessionAttendance(booking_id=booking_id, session=session)
            if row.pk and (row.state, row.minutes, row.source) == (state, minutes, source):
                continue
            row.state, row.minutes, row.source = state, minutes, source
            row.confirmed_by, row.confirmed_at = actor, now
            row.save()
            changed.append(row)

        _event_states_follow(event=event, session=session, rows=changed, bookings=bookings, actor=actor, at=now)
        return changed


def session_minutes_limit(session) -> int:
    """The most minutes anyone can have in a session: its length plus the grace either side."""
    return (session.finish - session.start + 2 * attendance_grace()) // MINUTE


def _decision(row):
    """(state, minutes) from a sheet row given as a state or as (state,) or (state, minutes)."""
    if isinstance(row, str):
        return row, None
    state, minutes = (*row, None)[:2]
    return state, minutes


def _check_proposal(proposal):
    if proposal.state not in PROPOSAL_STATES:
        raise ValueError(f"not a proposal state: {proposal.state!r}")
    if proposal.source not in AttendanceSource.values:
        raise ValueError(f"not an attendance source: {proposal.source!r}")
    if proposal.minutes is not None and (not isinstance(proposal.minutes, int) or proposal.minutes < 0):
        raise ValueError(f"minutes must be None or a whole number, 0 or more: {proposal.minutes!r}")


def _check_confirm(*, session, event, actor, decisions, sources):
    if not is_course_trainer(actor, event.seminar.course):
        raise BookingError(_("Only trainers may take attendance."))
    if session.start > timezone.now():
        raise BookingError(_("Attendance for a session can be taken once it has started."))
    limit = session_minutes_limit(session)
    for state, minutes in decisions.values():
        if state not in Booking.ATTENDANCE_STATES:
            raise BookingError(_("Choose no show, partially attended or fully attended."))
        if minutes is not None and (
            isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= limit
        ):
            raise BookingError(
                _("Minutes must be a whole number from 0 to %(limit)s (the session with its grace time).")
                % {"limit": limit}
            )
    if any(source not in AttendanceSource.values for source in sources.values()):
        raise BookingError(_("Choose where the evidence came from among the listed sources."))


def _event_states_follow(*, event, session, rows, bookings, actor, at):
    """Decide the event-level state of each booking whose row changed, from all the event's sessions."""
    if not rows:
        return
    session_ids = list(event.sessions.values_list("pk", flat=True))
    states = {}
    for booking_id, session_id, state in SessionAttendance.objects.filter(
        booking_id__in=[row.booking_id for row in rows], session_id__in=session_ids
    ).values_list("booking_id", "session_id", "state"):
        states[booking_id, session_id] = state
    for row in rows:
        booking = bookings[row.booking_id]
        decided = event_state_from_sessions(states.get((booking.pk, sid), "") for sid in session_ids)
        if decided is not None and decided != booking.state:
            booking_state_change(booking, decided, actor=actor, at=at, source=row.source, session=session)
