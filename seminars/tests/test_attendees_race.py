"""A trainer's bulk add and a learner booking themselves race for the last seats on PostgreSQL:
the event lock decides, and the batch is all or nothing."""

import pytest

from seminars.models import Booking
from seminars.services.attendees import Outcome, attendees_add
from seminars.services.bookings import BookingError, booking_create
from seminars.tests.conftest import enrol, make_user
from seminars.tests.race import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_bulk_add_and_self_booking_race_for_the_last_seats(event, course, trainer, learner, attempt):
    event.capacity = 2
    event.save()
    ann, bob = (enrol(make_user(name), course).user for name in ("ann", "bob"))
    expected = {ann.pk: Outcome.BOOK, bob.pk: Outcome.BOOK}

    added, booked = at_once(
        lambda: attendees_add(event=event, users=[ann, bob], actor=trainer, expected=expected),
        lambda: booking_create(event=event, user=learner, actor=learner),
        expected=(BookingError,),
    )

    seats = set(
        Booking.objects.filter(event=event, state=Booking.State.BOOKED).values_list("user__username", flat=True)
    )
    if isinstance(added, BookingError):
        # The learner came first: the batch no longer fits as previewed, and none of it was added.
        assert seats == {"lena"}
    else:
        # The batch came first: the learner finds the event full.
        assert isinstance(booked, BookingError) and "full" in str(booked)
        assert seats == {"ann", "bob"}
