"""Two learners race for the last seat on PostgreSQL, with real threads and separate connections."""

import pytest

from seminars.models import Booking, BookingStateChange
from seminars.services.bookings import BookingError, booking_create
from seminars.tests.race import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(event, users):
    """Call booking_create for every user at the same moment; each user's state, or "refused: <why>"."""
    results = at_once(
        *(lambda user=user: booking_create(event=event, user=user, actor=user) for user in users),
        expected=(BookingError,),
    )
    return {
        user.username: f"refused: {result}" if isinstance(result, BookingError) else result.state
        for user, result in zip(users, results, strict=True)
    }


@pytest.mark.parametrize("attempt", range(3))
def test_two_learners_racing_for_the_last_seat_give_one_booking(event, learner, learner2, attempt):
    event.capacity = 1
    event.save()

    results = race(event, [learner, learner2])

    assert sorted(results.values()) == ["booked", "refused: This event is full."]
    assert Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).count() == 1
    assert Booking.objects.filter(event=event).count() == 1
    assert BookingStateChange.objects.count() == 1


def test_with_a_waitlist_the_loser_is_waitlisted(event, learner, learner2):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()

    results = race(event, [learner, learner2])

    assert sorted(results.values()) == ["booked", "waitlisted"]
    assert Booking.objects.filter(event=event, state=Booking.State.BOOKED).count() == 1
