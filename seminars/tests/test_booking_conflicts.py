"""A learner cannot hold seats on two events at the same time: booking themselves, like staff adding them."""

from datetime import timedelta

import pytest

from seminars.models import Booking, SeminarEvent
from seminars.selectors.bookings import seat_conflicts
from seminars.services.bookings import BookingError, booking_cancel, booking_create
from seminars.tests.conftest import make_session


def other_event(seminar, creator, *, start, minutes=60, name="Autumn intake"):
    event = SeminarEvent.objects.create(seminar=seminar, name=name, capacity=5, created_by=creator)
    make_session(event, start, minutes=minutes)
    return event


@pytest.fixture
def first(event):
    event.capacity = 5
    event.save()
    return event


def test_learner_booked_on_an_overlapping_event_is_refused_naming_it(first, seminar, editing_trainer, learner):
    session = first.sessions.get()
    booking_create(event=first, user=learner, actor=learner)
    overlapping = other_event(seminar, editing_trainer, start=session.start + timedelta(minutes=30))

    with pytest.raises(BookingError, match="You are already booked on Spring intake at the same time."):
        booking_create(event=overlapping, user=learner, actor=learner)
    assert not Booking.objects.filter(event=overlapping).exists()


def test_sessions_that_touch_do_not_conflict(first, seminar, editing_trainer, learner):
    session = first.sessions.get()
    booking_create(event=first, user=learner, actor=learner)
    after = other_event(seminar, editing_trainer, start=session.finish)
    before = other_event(seminar, editing_trainer, start=session.start - timedelta(minutes=60), name="Early")

    assert booking_create(event=after, user=learner, actor=learner).state == Booking.State.BOOKED
    assert booking_create(event=before, user=learner, actor=learner).state == Booking.State.BOOKED


def test_one_minute_of_overlap_conflicts(first, seminar, editing_trainer, learner):
    session = first.sessions.get()
    booking_create(event=first, user=learner, actor=learner)
    late = other_event(seminar, editing_trainer, start=session.finish - timedelta(minutes=1))

    assert seat_conflicts(event=late, user_ids=[learner.pk]) == {learner.pk: "Spring intake"}


def test_a_cancelled_seat_or_a_waitlist_place_does_not_conflict(first, seminar, editing_trainer, learner):
    session = first.sessions.get()
    booking = booking_create(event=first, user=learner, actor=learner)
    booking_cancel(booking=booking, actor=learner)
    overlapping = other_event(seminar, editing_trainer, start=session.start)

    assert booking_create(event=overlapping, user=learner, actor=learner).state == Booking.State.BOOKED


def test_a_cancelled_event_does_not_conflict(first, seminar, editing_trainer, learner):
    session = first.sessions.get()
    booking_create(event=first, user=learner, actor=learner)
    SeminarEvent.objects.filter(pk=first.pk).update(cancelled=True)
    overlapping = other_event(seminar, editing_trainer, start=session.start)

    assert booking_create(event=overlapping, user=learner, actor=learner).state == Booking.State.BOOKED


def test_the_event_page_says_why_before_the_click(client, first, seminar, editing_trainer, learner):
    session = first.sessions.get()
    booking_create(event=first, user=learner, actor=learner)
    overlapping = other_event(seminar, editing_trainer, start=session.start)
    client.force_login(learner)

    page = client.get(overlapping.get_absolute_url()).content.decode()

    assert "You are already booked on Spring intake at the same time." in page
    assert f"/events/{overlapping.pk}/book/" not in page
