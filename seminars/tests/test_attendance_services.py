"""Attendance per session: proposals, the trainer's confirmation, event-level states, thresholds."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse

from seminars.attendance import PRESENT_MINUTES_UNKNOWN, Proposal
from seminars.forms.courses import SeminarForm
from seminars.models import AttendanceSource, Booking, BookingStateChange, Seminar, SessionAttendance
from seminars.selectors.attendance import attendance_grace, seminar_attended_percent, session_sheet_rows
from seminars.services.attendance import (
    session_attendance_confirm,
    session_attendance_from_participants,
    session_attendance_propose,
)
from seminars.services.bookings import BookingError, booking_cancel, booking_create, booking_set_attendance
from seminars.tests.conftest import make_session
from seminars.tests.test_attendance_math import Participant

State = Booking.State
Source = AttendanceSource


def history(booking):
    return list(
        BookingStateChange.objects.filter(booking=booking)
        .order_by("changed_at", "pk")
        .values_list("state", "changed_by__username", "source", "session_id")
    )


def attendance_of(booking, session):
    return SessionAttendance.objects.get(booking=booking, session=session)


# --- Confirm ---------------------------------------------------------------------------------


def test_confirm_writes_the_decision_and_the_history_with_who_and_source(bookings, session, trainer, started):
    lena, leo = bookings["lena"], bookings["leo"]

    session_attendance_confirm(
        session=session,
        rows={lena.pk: (State.FULLY_ATTENDED, 55), leo.pk: (State.NO_SHOW, 0)},
        actor=trainer,
        sources={lena.pk: Source.REGISTRANT},
    )

    row = attendance_of(lena, session)
    assert (row.state, row.minutes, row.source, row.confirmed_by) == (State.FULLY_ATTENDED, 55, "registrant", trainer)
    assert row.confirmed_at is not None
    assert attendance_of(leo, session).source == Source.MANUAL  # no source given: set by hand
    lena.refresh_from_db()
    leo.refresh_from_db()
    assert (lena.state, leo.state) == (State.FULLY_ATTENDED, State.NO_SHOW)
    assert history(lena) == [("booked", "lena", "", None), ("fully_attended", "tom", "registrant", session.pk)]
    assert history(leo)[-1] == ("no_show", "tom", "manual", session.pk)


def test_confirm_accepts_a_state_without_minutes(bookings, session, trainer, started):
    lena = bookings["lena"]
    session_attendance_confirm(session=session, rows={lena.pk: (State.PARTIALLY_ATTENDED,)}, actor=trainer)
    row = attendance_of(lena, session)
    assert (row.state, row.minutes) == (State.PARTIALLY_ATTENDED, None)


def test_confirming_again_unchanged_keeps_the_first_confirmation(bookings, session, trainer, site_admin, started):
    lena = bookings["lena"]
    session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    changed = session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=site_admin)

    assert changed == []
    assert attendance_of(lena, session).confirmed_by == trainer
    assert len(history(lena)) == 2


def test_a_changed_decision_is_a_new_confirmation_and_history_row(bookings, session, trainer, site_admin, started):
    lena = bookings["lena"]
    session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    session_attendance_confirm(session=session, rows={lena.pk: (State.PARTIALLY_ATTENDED, 20)}, actor=site_admin)

    row = attendance_of(lena, session)
    assert (row.state, row.minutes, row.confirmed_by) == (State.PARTIALLY_ATTENDED, 20, site_admin)
    assert [entry[:2] for entry in history(lena)] == [
        ("booked", "lena"),
        ("fully_attended", "tom"),
        ("partially_attended", "admin"),
    ]


@pytest.mark.parametrize("actor", ["learner", "learner2", "outsider"])
def test_only_trainers_and_admins_confirm(request, bookings, session, started, actor):
    lena = bookings["lena"]
    with pytest.raises(BookingError, match="Only trainers"):
        session_attendance_confirm(
            session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=request.getfixturevalue(actor)
        )
    assert not SessionAttendance.objects.exists()


def test_editing_trainers_and_site_admins_confirm(bookings, session, editing_trainer, site_admin, started):
    session_attendance_confirm(session=session, rows={bookings["lena"].pk: State.NO_SHOW}, actor=editing_trainer)
    session_attendance_confirm(session=session, rows={bookings["leo"].pk: State.NO_SHOW}, actor=site_admin)
    assert SessionAttendance.objects.filter(state=State.NO_SHOW).count() == 2


def test_confirm_before_the_session_starts_is_refused(bookings, session, trainer, time_machine):
    time_machine.move_to(session.start - timedelta(minutes=1))
    with pytest.raises(BookingError, match="once it has started"):
        session_attendance_confirm(session=session, rows={bookings["lena"].pk: State.NO_SHOW}, actor=trainer)
    time_machine.move_to(session.start)
    session_attendance_confirm(session=session, rows={bookings["lena"].pk: State.NO_SHOW}, actor=trainer)


@pytest.mark.parametrize(
    "row, message",
    [
        ((State.BOOKED, None), "Choose no show"),
        (("", None), "Choose no show"),
        ((State.FULLY_ATTENDED, -1), "Minutes must be a whole number from 0 to 80"),
        ((State.FULLY_ATTENDED, 81), "Minutes must be a whole number from 0 to 80"),
        ((State.FULLY_ATTENDED, "55"), "Minutes must be a whole number"),
        ((State.FULLY_ATTENDED, True), "Minutes must be a whole number"),
    ],
)
def test_bad_rows_are_refused_and_nothing_is_saved(bookings, session, trainer, started, row, message):
    lena, leo = bookings["lena"], bookings["leo"]
    with pytest.raises(BookingError, match=message):
        # Leo's row is fine: the whole confirmation is refused all the same.
        session_attendance_confirm(session=session, rows={leo.pk: (State.NO_SHOW, 0), lena.pk: row}, actor=trainer)
    assert not SessionAttendance.objects.exists()
    leo.refresh_from_db()
    assert leo.state == State.BOOKED


def test_the_minutes_limit_is_the_session_with_its_grace(bookings, session, trainer, started):
    # One hour plus 10 minutes either side.
    session_attendance_confirm(session=session, rows={bookings["lena"].pk: (State.FULLY_ATTENDED, 80)}, actor=trainer)
    assert attendance_of(bookings["lena"], session).minutes == 80


def test_an_unknown_source_is_refused(bookings, session, trainer, started):
    lena = bookings["lena"]
    with pytest.raises(BookingError, match="evidence"):
        session_attendance_confirm(
            session=session, rows={lena.pk: State.NO_SHOW}, actor=trainer, sources={lena.pk: "rumour"}
        )


def test_only_learners_holding_a_seat_on_this_event(
    bookings, event, session, seminar, learner3, trainer, editing_trainer, started, time_machine
):
    other_event = seminar.events.create(name="Autumn intake", capacity=5)
    make_session(other_event, session.start + timedelta(days=30))
    other = booking_create(event=other_event, user=learner3, actor=learner3)
    cancelled = bookings["leo"]
    booking_cancel(booking=cancelled, actor=trainer)

    for booking in (other, cancelled):
        with pytest.raises(BookingError, match="booked on this event"):
            session_attendance_confirm(session=session, rows={booking.pk: State.NO_SHOW}, actor=trainer)
    with pytest.raises(BookingError, match="booked on this event"):
        session_attendance_confirm(session=session, rows={999999: State.NO_SHOW}, actor=trainer)
    assert not SessionAttendance.objects.exists()


# --- Event-level state from the sessions -------------------------------------------------------


@pytest.fixture
def two_sessions(event, session):
    second = make_session(event, session.start + timedelta(days=1), minutes=60, zone="UTC")
    return session, second


def test_the_event_state_waits_for_every_session_then_follows_them(bookings, two_sessions, trainer, time_machine):
    first, second = two_sessions
    lena = bookings["lena"]
    time_machine.move_to(second.finish + timedelta(minutes=5))

    session_attendance_confirm(session=first, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    lena.refresh_from_db()
    assert lena.state == State.BOOKED  # the second session is not set: not decided yet

    session_attendance_confirm(session=second, rows={lena.pk: (State.NO_SHOW, 0)}, actor=trainer)
    lena.refresh_from_db()
    assert lena.state == State.PARTIALLY_ATTENDED

    session_attendance_confirm(session=second, rows={lena.pk: (State.FULLY_ATTENDED, 58)}, actor=trainer)
    lena.refresh_from_db()
    assert lena.state == State.FULLY_ATTENDED
    assert history(lena)[1:] == [
        ("partially_attended", "tom", "manual", second.pk),
        ("fully_attended", "tom", "manual", second.pk),
    ]


def test_no_show_in_every_session_is_a_no_show(bookings, two_sessions, trainer, time_machine):
    first, second = two_sessions
    leo = bookings["leo"]
    time_machine.move_to(second.finish)
    for session in (first, second):
        session_attendance_confirm(
            session=session, rows={leo.pk: (State.NO_SHOW, 0)}, actor=trainer, sources={leo.pk: Source.NOT_SEEN}
        )
    leo.refresh_from_db()
    assert leo.state == State.NO_SHOW
    assert history(leo)[-1] == ("no_show", "tom", "not_seen", second.pk)


def test_a_session_decision_that_keeps_the_event_state_adds_no_history(bookings, two_sessions, trainer, time_machine):
    first, second = two_sessions
    lena = bookings["lena"]
    time_machine.move_to(second.finish)
    session_attendance_confirm(session=first, rows={lena.pk: (State.NO_SHOW, 0)}, actor=trainer)
    session_attendance_confirm(session=second, rows={lena.pk: (State.PARTIALLY_ATTENDED, 10)}, actor=trainer)
    session_attendance_confirm(session=second, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    lena.refresh_from_db()
    assert lena.state == State.PARTIALLY_ATTENDED
    assert [entry[0] for entry in history(lena)] == ["booked", "partially_attended"]


def test_the_event_level_dropdown_still_sets_the_state_and_says_it_was_by_hand(bookings, session, trainer, started):
    lena = bookings["lena"]
    booking_set_attendance(booking=lena, state=State.PARTIALLY_ATTENDED, actor=trainer)
    assert history(lena)[-1] == ("partially_attended", "tom", "manual", None)

    # A later session decision decides the event-level state again; both stay in the history.
    session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    lena.refresh_from_db()
    assert lena.state == State.FULLY_ATTENDED
    assert [entry[0] for entry in history(lena)] == ["booked", "partially_attended", "fully_attended"]


# --- Proposals ----------------------------------------------------------------------------------


def test_a_proposal_is_stored_without_deciding_anything(bookings, session):
    lena = bookings["lena"]
    session_attendance_propose(session=session, proposals={lena.pk: Proposal(State.FULLY_ATTENDED, 57, Source.EMAIL)})

    row = attendance_of(lena, session)
    assert (row.proposed_state, row.proposed_minutes, row.proposed_source) == ("fully_attended", 57, "email")
    assert (row.state, row.minutes, row.source, row.confirmed_by, row.confirmed_at) == ("", None, "", None, None)
    lena.refresh_from_db()
    assert lena.state == State.BOOKED
    assert len(history(lena)) == 1


def test_a_proposal_after_the_confirmation_is_kept_beside_it(bookings, session, trainer, started):
    lena = bookings["lena"]
    session_attendance_propose(
        session=session, proposals={lena.pk: Proposal(State.PARTIALLY_ATTENDED, 30, Source.REGISTRANT)}
    )
    session_attendance_confirm(
        session=session, rows={lena.pk: (State.FULLY_ATTENDED, 50)}, actor=trainer, sources={lena.pk: Source.MANUAL}
    )

    # Later data (the reconciliation poll) says something else.
    session_attendance_propose(session=session, proposals={lena.pk: Proposal(State.NO_SHOW, 0, Source.NOT_SEEN)})

    row = attendance_of(lena, session)
    assert (row.state, row.minutes, row.source, row.confirmed_by) == ("fully_attended", 50, "manual", trainer)
    assert (row.proposed_state, row.proposed_minutes, row.proposed_source) == ("no_show", 0, "not_seen")
    assert row.later_data_differs
    lena.refresh_from_db()
    assert lena.state == State.FULLY_ATTENDED


def test_a_repeated_proposal_changes_nothing(bookings, session, time_machine):
    lena = bookings["lena"]
    proposal = {lena.pk: Proposal(State.FULLY_ATTENDED, 57, Source.REGISTRANT)}
    time_machine.move_to(session.finish)
    assert len(session_attendance_propose(session=session, proposals=proposal)) == 1
    first_at = attendance_of(lena, session).proposed_at
    time_machine.shift(timedelta(minutes=5))
    assert session_attendance_propose(session=session, proposals=proposal) == []
    assert attendance_of(lena, session).proposed_at == first_at


def test_proposals_skip_bookings_without_a_seat(bookings, session, trainer):
    leo = bookings["leo"]
    booking_cancel(booking=leo, actor=trainer)
    written = session_attendance_propose(
        session=session, proposals={leo.pk: Proposal(State.PARTIALLY_ATTENDED, 5, Source.EMAIL)}
    )
    assert written == []
    assert not SessionAttendance.objects.exists()


def test_a_proposal_that_is_not_a_proposal_is_a_programming_error(bookings, session):
    with pytest.raises(ValueError, match="proposal state"):
        session_attendance_propose(session=session, proposals={bookings["lena"].pk: Proposal("booked", 1, "email")})
    with pytest.raises(ValueError, match="source"):
        session_attendance_propose(session=session, proposals={bookings["lena"].pk: Proposal("no_show", 0, "rumour")})


# --- From participants, with the thresholds --------------------------------------------------


@dataclass
class At:
    """Participant intervals as minutes after the session's start."""

    start: datetime

    def __call__(self, minutes):
        return None if minutes is None else self.start + timedelta(minutes=minutes)


def participant(session, *, joined, left, registrant_id="", email="", name="Someone"):
    at = At(session.start)
    return Participant(name=name, email=email, registrant_id=registrant_id, joined_at=at(joined), left_at=at(left))


def test_participants_become_proposals_by_registrant_then_email(bookings, session, learner, learner2, learner3):
    lena, leo = bookings["lena"], bookings["leo"]
    people = [
        participant(session, joined=2, left=40, registrant_id="r-lena", email=learner2.email),
        participant(session, joined=45, left=None, registrant_id="r-lena"),  # rejoined from a phone
        participant(session, joined=0, left=20, email=learner2.email.upper()),
        participant(session, joined=0, left=60, email="guest@elsewhere.test", name="Guest"),
    ]

    matching = session_attendance_from_participants(
        session=session, participants=people, registrant_to_booking={"r-lena": lena.pk}, until=session.finish
    )

    assert [p.name for p in matching.unmatched] == ["Guest"]
    lena_row, leo_row = attendance_of(lena, session), attendance_of(leo, session)
    assert (lena_row.proposed_state, lena_row.proposed_minutes, lena_row.proposed_source) == (
        "fully_attended",
        53,
        "registrant",
    )
    assert (leo_row.proposed_state, leo_row.proposed_minutes, leo_row.proposed_source) == (
        "partially_attended",
        20,
        "email",
    )


def test_booked_learners_nobody_saw_are_proposed_no_shows(bookings, session):
    session_attendance_from_participants(session=session, participants=[], registrant_to_booking={}, until=None)
    assert {row.proposed_state for row in SessionAttendance.objects.all()} == {State.NO_SHOW}
    assert {row.proposed_source for row in SessionAttendance.objects.all()} == {Source.NOT_SEEN}


def test_present_without_times_is_left_to_the_trainer(bookings, session, learner):
    people = [Participant(name="Lena", email=learner.email)]
    session_attendance_from_participants(session=session, participants=people, registrant_to_booking={}, until=None)
    row = attendance_of(bookings["lena"], session)
    assert (row.proposed_state, row.proposed_minutes) == (PRESENT_MINUTES_UNKNOWN, None)
    assert row.get_proposed_state_display() == "Present, minutes unknown"


def propose_fifty_minutes(session, booking, learner):
    people = [participant(session, joined=0, left=50, email=learner.email)]
    session_attendance_from_participants(session=session, participants=people, registrant_to_booking={}, until=None)
    return attendance_of(booking, session).proposed_state


def test_the_site_default_threshold_applies_without_a_seminar_threshold(bookings, session, learner, settings):
    assert propose_fifty_minutes(session, bookings["lena"], learner) == State.FULLY_ATTENDED  # 50/60 >= 75 %
    settings.SEMINARS_ATTENDED_PERCENT = 90
    assert propose_fifty_minutes(session, bookings["lena"], learner) == State.PARTIALLY_ATTENDED


def test_the_seminars_threshold_wins_over_the_site_default(bookings, session, seminar, learner, settings):
    settings.SEMINARS_ATTENDED_PERCENT = 50
    seminar.attended_percent = 90
    seminar.save()
    assert propose_fifty_minutes(session, bookings["lena"], learner) == State.PARTIALLY_ATTENDED
    assert seminar_attended_percent(seminar) == 90
    seminar.attended_percent = None
    assert seminar_attended_percent(seminar) == 50


def test_the_grace_comes_from_the_settings(bookings, session, learner, settings):
    # In the meeting from 20 minutes early to 25 minutes in: with 10 minutes' grace that is 35 minutes.
    people = [participant(session, joined=-20, left=25, email=learner.email)]

    def proposed_minutes():
        session_attendance_from_participants(session=session, participants=people, registrant_to_booking={}, until=None)
        return attendance_of(bookings["lena"], session).proposed_minutes

    assert proposed_minutes() == 35
    settings.SEMINARS_ATTENDANCE_GRACE_MINUTES = 0
    assert proposed_minutes() == 25


@pytest.mark.parametrize("name, value", [("SEMINARS_ATTENDED_PERCENT", 0), ("SEMINARS_ATTENDED_PERCENT", 101)])
def test_a_site_percent_out_of_range_is_a_clear_configuration_error(settings, seminar, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match="SEMINARS_ATTENDED_PERCENT"):
        seminar_attended_percent(seminar)


def test_a_negative_grace_is_a_clear_configuration_error(settings):
    settings.SEMINARS_ATTENDANCE_GRACE_MINUTES = -1
    with pytest.raises(ImproperlyConfigured, match="SEMINARS_ATTENDANCE_GRACE_MINUTES"):
        attendance_grace()


# --- The seminar's threshold in the seminar form -------------------------------------------------


def seminar_form(value):
    return SeminarForm({"name": "Fire wardens", "description": "", "attended_percent": value})


@pytest.mark.parametrize("value", ["0", "101", "-5"])
def test_the_form_refuses_a_percent_out_of_range_at_the_field(db, value):
    form = seminar_form(value)
    assert not form.is_valid()
    assert form.errors["attended_percent"] == ["Enter a whole number of percent from 1 to 100."]


def test_the_form_refuses_text_at_the_field(db):
    form = seminar_form("most")
    assert form.errors["attended_percent"] == ["Enter a whole number of percent, e.g. 75."]


def test_the_form_takes_a_percent_or_nothing(db, settings):
    assert seminar_form("80").is_valid()
    form = seminar_form("")
    assert form.is_valid()
    assert form.cleaned_data["attended_percent"] is None
    settings.SEMINARS_ATTENDED_PERCENT = 70
    assert "the site's default, 70 %" in SeminarForm().fields["attended_percent"].help_text


def test_editing_a_seminar_saves_its_threshold(client, seminar, editing_trainer):
    client.force_login(editing_trainer)
    url = reverse("seminars:seminar_edit", args=[seminar.pk])
    page = client.get(url).content.decode()
    assert 'name="attended_percent"' in page
    assert "Leave empty for the site&#x27;s default, 75 %." in page

    client.post(url, {"name": seminar.name, "description": "", "attended_percent": "90"})
    seminar.refresh_from_db()
    assert seminar.attended_percent == 90

    response = client.post(url, {"name": seminar.name, "description": "", "attended_percent": "150"})
    assert response.status_code == 200
    assert "Enter a whole number of percent from 1 to 100." in response.content.decode()
    seminar.refresh_from_db()
    assert seminar.attended_percent == 90


def test_the_database_refuses_a_percent_out_of_range(seminar):
    with pytest.raises(IntegrityError), transaction.atomic():
        Seminar.objects.filter(pk=seminar.pk).update(attended_percent=0)


def test_the_sheet_rows_list_seated_learners_with_their_attendance(bookings, session, learner3, trainer, started):
    lena = bookings["lena"]
    booking_cancel(booking=bookings["leo"], actor=trainer)
    session_attendance_confirm(session=session, rows={lena.pk: State.NO_SHOW}, actor=trainer)

    rows = session_sheet_rows(session=session)

    assert [row.booking.user.username for row in rows] == ["lena"]
    assert rows[0].attendance.state == State.NO_SHOW
