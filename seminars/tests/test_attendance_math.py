"""seminars/attendance.py: interval union, clipping, rounding, thresholds, matching order, event state."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seminars.attendance import (
    BY_EMAIL,
    BY_HAND,
    BY_REGISTRANT,
    PRESENT_MINUTES_UNKNOWN,
    Proposal,
    attended_minutes,
    bookings_by_email,
    event_state_from_sessions,
    match_participants,
    participant_minutes,
    proposed_state,
    scheduled_minutes,
    session_proposals,
    split_staff,
)
from seminars.models import AttendanceSource, Booking

State = Booking.State
T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
START, FINISH = T0, T0 + timedelta(minutes=60)
GRACE = timedelta(minutes=10)


def at(minutes, seconds=0):
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def minutes_of(*intervals, until=None, grace=GRACE):
    return attended_minutes(intervals, start=START, finish=FINISH, grace=grace, until=until)


# --- attended_minutes ------------------------------------------------------------------------


def test_no_intervals_is_zero():
    assert minutes_of() == 0


def test_one_interval_inside_the_session():
    assert minutes_of((at(5), at(45))) == 40


def test_a_rejoin_adds_the_second_stretch_only():
    # Joins at +2, leaves at +40, rejoins at +45 until the end.
    assert minutes_of((at(2), at(40)), (at(45), at(60))) == 53


def test_two_devices_at_once_do_not_double_count():
    assert minutes_of((at(0), at(30)), (at(10), at(40))) == 40
    assert minutes_of((at(0), at(60)), (at(20), at(30))) == 60


def test_touching_intervals_join_up():
    assert minutes_of((at(0), at(30)), (at(30), at(50))) == 50


def test_time_before_the_grace_and_after_it_is_clipped():
    # In the meeting from 30 minutes early to 30 minutes late: the session plus the grace either side.
    assert minutes_of((at(-30), at(90))) == 80
    assert minutes_of((at(-30), at(90)), grace=timedelta(0)) == 60


def test_an_interval_wholly_outside_the_window_adds_nothing():
    assert minutes_of((at(-120), at(-11))) == 0
    assert minutes_of((at(71), at(200))) == 0


def test_an_interval_that_ends_before_it_starts_adds_nothing():
    assert minutes_of((at(30), at(20))) == 0


def test_an_open_interval_ends_at_until():
    assert minutes_of((at(10), None), until=at(25)) == 15
    # ...clipped to the window like any other.
    assert minutes_of((at(10), None), until=at(500)) == 60


def test_an_open_interval_without_until_is_refused():
    with pytest.raises(ValueError, match="until"):
        minutes_of((at(10), None))


def test_partial_minutes_round_down():
    assert minutes_of((at(0), at(44, 59))) == 44
    assert minutes_of((at(0, 30), at(1, 29))) == 0
    # Seconds of separate stretches add up before rounding.
    assert minutes_of((at(0), at(0, 30)), (at(5), at(5, 30))) == 1


def test_naive_and_aware_times_are_not_mixed_silently():
    with pytest.raises(TypeError):
        minutes_of((datetime(2026, 12, 3, 10, 5), at(20)))


# A reference implementation: every second of the window, checked one by one.
def reference_minutes(intervals, window_start, window_end):
    seconds = 0
    moment = window_start
    while moment < window_end:
        if any(joined <= moment < left for joined, left in intervals):
            seconds += 1
        moment += timedelta(seconds=1)
    return seconds // 60


# Intervals within two hours around a short session, to the second.
offsets = st.integers(min_value=-1800, max_value=3600)
interval = st.tuples(offsets, st.integers(min_value=0, max_value=1800)).map(
    lambda pair: (T0 + timedelta(seconds=pair[0]), T0 + timedelta(seconds=pair[0] + pair[1]))
)
intervals = st.lists(interval, max_size=8)
SHORT_FINISH = T0 + timedelta(minutes=20)
SHORT_GRACE = timedelta(minutes=5)


def short_minutes(items):
    return attended_minutes(items, start=T0, finish=SHORT_FINISH, grace=SHORT_GRACE)


@given(intervals, st.randoms())
def test_union_does_not_depend_on_order(items, random):
    shuffled = list(items)
    random.shuffle(shuffled)
    assert short_minutes(shuffled) == short_minutes(items)


@given(intervals)
def test_repeating_intervals_changes_nothing(items):
    assert short_minutes(items + items) == short_minutes(items)


@given(intervals)
def test_never_more_than_the_window(items):
    window = (SHORT_FINISH + SHORT_GRACE) - (T0 - SHORT_GRACE)
    assert 0 <= short_minutes(items) <= window // timedelta(minutes=1)


@given(intervals, interval)
def test_more_intervals_never_mean_fewer_minutes(items, extra):
    assert short_minutes(items + [extra]) >= short_minutes(items)


@given(st.lists(interval, max_size=4))
def test_union_matches_counting_every_second(items):
    assert short_minutes(items) == reference_minutes(items, T0 - SHORT_GRACE, SHORT_FINISH + SHORT_GRACE)


# --- participant_minutes ---------------------------------------------------------------------


@dataclass
class Participant:
    name: str = ""
    email: str = ""
    registrant_id: str = ""
    joined_at: datetime | None = None
    left_at: datetime | None = None


def test_participant_minutes_without_any_times_are_unknown():
    people = [Participant(name="Lena"), Participant(name="Lena")]
    assert participant_minutes(people, start=START, finish=FINISH, grace=GRACE) is None


def test_participant_minutes_use_the_intervals_that_have_times():
    people = [Participant(joined_at=at(0), left_at=at(30)), Participant(name="no times")]
    assert participant_minutes(people, start=START, finish=FINISH, grace=GRACE) == 30


def test_participant_minutes_with_no_participants_are_zero_not_unknown():
    # Nobody there is not "present, times unknown".
    assert participant_minutes([], start=START, finish=FINISH, grace=GRACE) == 0


def test_participant_minutes_close_open_intervals_at_until():
    people = [Participant(joined_at=at(50), left_at=None)]
    assert participant_minutes(people, start=START, finish=FINISH, grace=GRACE, until=at(65)) == 15


# --- scheduled_minutes and proposed_state ----------------------------------------------------


def test_scheduled_minutes():
    assert scheduled_minutes(start=START, finish=FINISH) == 60
    assert scheduled_minutes(start=START, finish=at(90, 30)) == 90
    assert scheduled_minutes(start=START, finish=at(0, 20)) == 1


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (60, State.FULLY_ATTENDED),
        (80, State.FULLY_ATTENDED),  # with the grace, more than scheduled
        (45, State.FULLY_ATTENDED),  # exactly 75 %
        (44, State.PARTIALLY_ATTENDED),
        (1, State.PARTIALLY_ATTENDED),
        (0, State.NO_SHOW),
        (None, PRESENT_MINUTES_UNKNOWN),
    ],
)
def test_proposed_state_at_75_percent_of_an_hour(minutes, expected):
    assert proposed_state(minutes, 60, attended_percent=75) == expected


def test_the_threshold_is_compared_exactly():
    # 75 % of 50 minutes is 37.5: 37 is not enough, 38 is.
    assert proposed_state(37, 50, attended_percent=75) == State.PARTIALLY_ATTENDED
    assert proposed_state(38, 50, attended_percent=75) == State.FULLY_ATTENDED


def test_per_seminar_percent_changes_the_proposal():
    assert proposed_state(50, 60, attended_percent=90) == State.PARTIALLY_ATTENDED
    assert proposed_state(54, 60, attended_percent=90) == State.FULLY_ATTENDED
    assert proposed_state(60, 60, attended_percent=100) == State.FULLY_ATTENDED
    assert proposed_state(59, 60, attended_percent=100) == State.PARTIALLY_ATTENDED
    assert proposed_state(1, 60, attended_percent=1) == State.FULLY_ATTENDED


def test_partial_above_sets_the_no_show_line():
    assert proposed_state(5, 60, attended_percent=75, partial_above=5) == State.NO_SHOW
    assert proposed_state(6, 60, attended_percent=75, partial_above=5) == State.PARTIALLY_ATTENDED


def test_zero_minutes_is_never_fully_attended():
    assert proposed_state(0, 1, attended_percent=1) == State.NO_SHOW


@pytest.mark.parametrize("percent", [0, 101, -5])
def test_percent_out_of_range_is_refused(percent):
    with pytest.raises(ValueError, match="attended_percent"):
        proposed_state(30, 60, attended_percent=percent)


def test_scheduled_minutes_below_one_is_refused():
    with pytest.raises(ValueError, match="scheduled_minutes"):
        proposed_state(0, 0, attended_percent=75)


@given(st.integers(min_value=0, max_value=600), st.integers(min_value=1, max_value=600), st.integers(1, 100))
def test_more_minutes_never_propose_less(minutes, scheduled, percent):
    rank = {State.NO_SHOW: 0, State.PARTIALLY_ATTENDED: 1, State.FULLY_ATTENDED: 2}
    lower = proposed_state(minutes, scheduled, attended_percent=percent)
    higher = proposed_state(minutes + 1, scheduled, attended_percent=percent)
    assert rank[higher] >= rank[lower]


# --- matching --------------------------------------------------------------------------------


def test_bookings_by_email_normalises_and_leaves_out_shared_and_empty_addresses():
    pairs = [(1, " Lena@Example.com "), (2, "leo@example.com"), (3, "LEO@example.com"), (4, ""), (5, None)]
    assert bookings_by_email(pairs) == {"lena@example.com": 1}


def test_the_same_booking_twice_with_one_address_is_not_ambiguous():
    assert bookings_by_email([(1, "lena@example.com"), (1, "LENA@example.com")]) == {"lena@example.com": 1}


def match(people, registrants=None, emails=None):
    return match_participants(people, registrant_to_booking=registrants or {}, email_to_booking=emails or {})


def test_registrant_id_matches_first():
    lena = Participant(name="Lena", registrant_id="r-lena")
    result = match([lena], registrants={"r-lena": 1})
    assert result.matched == {1: [lena]}
    assert result.sources == {1: BY_REGISTRANT}
    assert result.unmatched == []


def test_email_matches_case_insensitively_and_stripped():
    leo = Participant(name="Leo", email="  LEO@Example.COM ")
    result = match([leo], emails={"leo@example.com": 2})
    assert result.matched == {2: [leo]}
    assert result.sources == {2: BY_EMAIL}


def test_registrant_wins_over_an_email_of_another_booking():
    # Lena's personal link, but signed in to Zoom as Leo.
    person = Participant(registrant_id="r-lena", email="leo@example.com")
    result = match([person], registrants={"r-lena": 1}, emails={"leo@example.com": 2})
    assert result.matched == {1: [person]}
    assert result.sources == {1: BY_REGISTRANT}


def test_an_unknown_registrant_id_falls_back_to_the_email():
    # A registrant we do not map to a booking (a trainer's, or a cancelled learner's link).
    person = Participant(registrant_id="r-unknown", email="leo@example.com")
    result = match([person], registrants={"r-lena": 1}, emails={"leo@example.com": 2})
    assert result.matched == {2: [person]}
    assert result.sources == {2: BY_EMAIL}


def test_guests_and_dial_ins_are_unmatched_in_order():
    guest = Participant(name="Guest", email="guest@elsewhere.test")
    phone = Participant(name="+44 20 7946 0000")
    lena = Participant(registrant_id="r-lena")
    result = match([guest, lena, phone], registrants={"r-lena": 1}, emails={"leo@example.com": 2})
    assert result.unmatched == [guest, phone]
    assert result.matched == {1: [lena]}


def test_two_devices_of_one_learner_are_both_listed_and_registrant_is_the_source():
    by_email = Participant(name="Lena's phone", email="lena@example.com")
    by_link = Participant(name="Lena's laptop", registrant_id="r-lena")
    result = match([by_email, by_link], registrants={"r-lena": 1}, emails={"lena@example.com": 1})
    assert result.matched == {1: [by_email, by_link]}
    assert result.sources == {1: BY_REGISTRANT}


def test_blank_registrant_ids_and_emails_match_nothing():
    person = Participant(registrant_id="  ", email=" ")
    result = match([person], registrants={"": 1}, emails={"": 2})
    assert result.unmatched == [person]


@dataclass
class Device(Participant):
    """A participant as the sheet keys it: one device in one occurrence."""

    occurrence: str = "uuid-1"
    participant_key: str = ""


def test_a_trainers_match_comes_first_and_is_the_weakest_source():
    phone = Device(name="+44 20 7946 0000", participant_key="dial-in")
    # Someone else's link: the registrant id says Lena, the trainer says it was Leo.
    borrowed = Device(registrant_id="r-lena", participant_key="borrowed")
    laptop = Device(registrant_id="r-leo", participant_key="leo-laptop")
    result = match_participants(
        [phone, borrowed, laptop],
        registrant_to_booking={"r-lena": 1, "r-leo": 2},
        email_to_booking={},
        by_hand={("uuid-1", "dial-in"): 3, ("uuid-1", "borrowed"): 2},
    )
    assert result.matched == {3: [phone], 2: [borrowed, laptop]}
    assert result.sources == {3: BY_HAND, 2: BY_REGISTRANT}
    assert result.unmatched == []


def test_an_ignored_participant_is_nobodys_and_not_unmatched():
    guest = Device(name="Guest", email="lena@example.com", participant_key="guest")
    result = match_participants(
        [guest], registrant_to_booking={}, email_to_booking={"lena@example.com": 1}, by_hand={("uuid-1", "guest"): None}
    )
    assert (result.matched, result.unmatched, result.ignored) == ({}, [], [guest])


def test_a_match_is_for_one_occurrence_only():
    again = Device(name="Guest", occurrence="uuid-2", participant_key="guest")
    result = match_participants(
        [again], registrant_to_booking={}, email_to_booking={}, by_hand={("uuid-1", "guest"): 1}
    )
    assert result.unmatched == [again]


# --- host and staff --------------------------------------------------------------------------


@dataclass
class Person(Device):
    is_host: bool = False


def test_the_host_and_staff_links_are_kept_apart_from_learners_and_guests():
    host = Person(name="Pat Pro", participant_key="host", is_host=True)
    trainer = Person(name="Tom", registrant_id=" r-tom ", participant_key="tom")
    lena = Person(name="Lena", registrant_id="r-lena", participant_key="lena")
    guest = Person(name="Gail Guest", participant_key="gail")
    others, staff = split_staff([host, lena, trainer, guest], staff_registrant_ids={"r-tom"})
    assert (others, staff) == ([lena, guest], [host, trainer])


def test_every_interval_of_the_hosts_device_goes_with_the_host():
    # The provider told the host's account with the join only; the rejoin of the device came without it.
    first = Person(name="Pat Pro", participant_key="host", is_host=True, joined_at=at(0))
    again = Person(name="Pat Pro", participant_key="host", joined_at=at(30))
    elsewhere = Person(name="Pat Pro", participant_key="host", occurrence="uuid-2", joined_at=at(0))
    others, staff = split_staff([first, again, elsewhere], staff_registrant_ids=set())
    assert (others, staff) == ([elsewhere], [first, again])


def test_records_without_a_host_mark_are_learners_and_guests():
    # A record that says nothing of the host (as match_participants' callers may pass) is not staff.
    people = [Device(name="Lena", registrant_id="r-lena", participant_key="lena"), Device(participant_key="x")]
    assert split_staff(people, staff_registrant_ids={""}) == (people, [])


# --- session_proposals -----------------------------------------------------------------------


def test_session_proposals_from_matched_participants():
    lena_laptop = Participant(registrant_id="r-lena", joined_at=at(2), left_at=at(40))
    lena_phone = Participant(registrant_id="r-lena", joined_at=at(45), left_at=None)
    leo = Participant(email="leo@example.com", joined_at=at(0), left_at=at(20))
    lia = Participant(email="lia@example.com")  # no times
    matching = match(
        [lena_laptop, lena_phone, leo, lia],
        registrants={"r-lena": 1},
        emails={"leo@example.com": 2, "lia@example.com": 3},
    )

    proposals = session_proposals(
        [1, 2, 3, 4], matching, start=START, finish=FINISH, grace=GRACE, until=at(60), attended_percent=75
    )

    assert proposals == {
        1: Proposal(State.FULLY_ATTENDED, 53, AttendanceSource.REGISTRANT),
        2: Proposal(State.PARTIALLY_ATTENDED, 20, AttendanceSource.EMAIL),
        3: Proposal(PRESENT_MINUTES_UNKNOWN, None, AttendanceSource.EMAIL),
        4: Proposal(State.NO_SHOW, 0, AttendanceSource.NOT_SEEN),
    }


def test_session_proposals_follow_the_percent():
    leo = Participant(email="leo@example.com", joined_at=at(0), left_at=at(50))
    matching = match([leo], emails={"leo@example.com": 2})
    common = {"start": START, "finish": FINISH, "grace": GRACE, "until": None}
    assert session_proposals([2], matching, attended_percent=75, **common)[2].state == State.FULLY_ATTENDED
    assert session_proposals([2], matching, attended_percent=90, **common)[2].state == State.PARTIALLY_ATTENDED


# --- event_state_from_sessions ---------------------------------------------------------------

F, P, N = State.FULLY_ATTENDED, State.PARTIALLY_ATTENDED, State.NO_SHOW


@pytest.mark.parametrize(
    "states, expected",
    [
        ([F], F),
        ([F, F, F], F),
        ([N], N),
        ([N, N], N),
        ([P], P),
        ([F, N], P),
        ([F, P], P),
        ([N, P], P),
        ([F, ""], None),
        ([N, None], None),
        ([""], None),
        ([], None),
    ],
)
def test_event_state_from_sessions(states, expected):
    assert event_state_from_sessions(states) == expected


def test_event_state_refuses_states_that_are_not_attendance():
    with pytest.raises(ValueError, match="booked"):
        event_state_from_sessions([F, State.BOOKED])
