"""The trainer's attendee table on the event page is kept in the cache once for every trainer; its buttons post
through forms outside it that carry each visitor's own CSRF token (form= and formaction=). In a real browser:
saving attendance, cancelling a booking and removing someone from the waitlist all work, for two trainers in turn."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def started_event(cast):
    from seminars.models import Enrolment, SeminarEvent
    from seminars.services.bookings import booking_create
    from seminars.tests.conftest import enrol, make_session, make_user

    event = SeminarEvent.objects.create(seminar=cast.seminar, name="Spring intake", capacity=2, waitlist_enabled=True)
    session = make_session(event, timezone.now() + timedelta(days=1), minutes=60)
    people = [cast.learner, cast.learner2, make_user("wanda", last_name="Waiting")]
    enrol(people[2], cast.course)
    for person in people:
        booking_create(event=event, user=person, actor=person)  # the third is waitlisted (capacity 2)
    session.start = timezone.now() - timedelta(minutes=10)  # then the session starts: attendance is open
    session.finish = session.start + timedelta(hours=1)
    session.save()
    second_trainer = make_user("terry", last_name="Trainer")
    enrol(second_trainer, cast.course, Enrolment.Role.TRAINER)
    return event, second_trainer


def test_two_trainers_use_the_cached_attendee_table(browse, live_server, cast, started_event, screenshot):
    from seminars.models import Booking

    event, second_trainer = started_event
    url = f"{live_server.url}/events/{event.pk}/"
    edna = browse(cast.trainer)
    edna.goto(url)  # fills the cache
    expect(edna.get_by_role("heading", name="Booked (2)")).to_be_visible()

    terry = browse(second_trainer)
    terry.goto(url)  # served from the cache: the same table, terry's own forms
    terry.get_by_label("Attendance of Lena Learner").select_option("fully_attended")
    terry.get_by_role("button", name="Save attendance").click()
    expect(terry.get_by_text("Attendance saved", exact=False)).to_be_visible()
    assert Booking.objects.get(event=event, user=cast.learner).state == "fully_attended"

    edna.goto(url)
    edna.get_by_role("button", name="Cancel the booking of Leo Late").click()
    expect(edna.get_by_text("The booking of Leo Late has been cancelled.")).to_be_visible()
    expect(edna.get_by_role("heading", name="Cancelled (1)")).to_be_visible()
    assert Booking.objects.get(event=event, user=cast.learner2).state == Booking.State.USER_CANCELLED
    screenshot(edna, "trainer-attendee-table")

    terry.goto(url)  # the table changed: made again once, the same for both
    expect(terry.get_by_role("heading", name="Cancelled (1)")).to_be_visible()
    terry.get_by_role("button", name="Remove from waitlist").click()
    expect(terry.get_by_text("The booking of Wanda Waiting has been cancelled.")).to_be_visible()
    expect(terry.get_by_role("heading", name="Waitlisted (0)")).to_be_visible()
    assert Booking.objects.get(event=event, user__username="wanda").state == Booking.State.USER_CANCELLED
