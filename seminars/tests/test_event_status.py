"""One event status for the seminar's list, the event page and booking: booking closes when the first session starts.

Both sides of the boundary, with the clock frozen: a second before the start the
event is bookable everywhere and booking works; at the start it is in progress
everywhere and booking is refused with the reason the event page gives.
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from seminars.models import Booking
from seminars.services.bookings import BookingError, booking_create

CLOSED = "Booking has closed: this event has already started."


def _row(html, event):
    """The seminar list's table row of `event`."""
    url = reverse("seminars:event", args=[event.pk])
    (row,) = [chunk.split("</tr>")[0] for chunk in html.split("<tr")[1:] if f'href="{url}"' in chunk]
    return row


@pytest.mark.parametrize(
    "offset, label, bookable",
    [(timedelta(seconds=-1), "Bookable", True), (timedelta(0), "In progress", False)],
    ids=["a second before the start", "at the start"],
)
def test_a_started_event_has_one_status_everywhere_and_booking_says_why(
    client, event, learner, offset, label, bookable
):
    start = event.sessions.get().start
    client.force_login(learner)
    with time_machine.travel(start + offset, tick=False):
        listing = client.get(reverse("seminars:seminar", args=[event.seminar_id])).content.decode()
        page = client.get(reverse("seminars:event", args=[event.pk])).content.decode()
        response = client.post(reverse("seminars:event_book", args=[event.pk]))

    assert f">{label}</span>" in _row(listing, event)
    assert f'data-testid="event-status">{label}</span>' in page
    assert ("Sign up" in _row(listing, event)) is bookable
    assert ('type="submit" class="btn btn-primary">Book</button>' in page) is bookable
    assert (CLOSED in page) is not bookable
    said = [str(m) for m in get_messages(response.wsgi_request)]
    if bookable:
        assert Booking.objects.get(user=learner).state == Booking.State.BOOKED
    else:
        assert said == [CLOSED]
        assert not Booking.objects.filter(user=learner).exists()


def test_the_service_refuses_a_started_event_with_the_same_reason(event, learner):
    with time_machine.travel(event.sessions.get().start + timedelta(minutes=5), tick=False):
        with pytest.raises(BookingError, match=CLOSED):
            booking_create(event=event, user=learner, actor=learner)


def test_a_full_event_without_waitlist_is_full_on_the_list_and_the_page_and_booking_says_so(
    client, event, learner, learner2
):
    event.capacity = 1
    event.save()
    booking_create(event=event, user=learner2, actor=learner2)
    client.force_login(learner)
    listing = client.get(reverse("seminars:seminar", args=[event.seminar_id])).content.decode()
    page = client.get(reverse("seminars:event", args=[event.pk])).content.decode()
    response = client.post(reverse("seminars:event_book", args=[event.pk]))
    assert ">Full</span>" in _row(listing, event)
    assert 'data-testid="event-status">Full</span>' in page
    assert "This event is full." in page
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["This event is full."]
