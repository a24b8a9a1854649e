"""The registration window: an event's optional opening and closing times for learners signing up.

Both sides of each boundary with the clock frozen: the seminar's list, the event page and the
booking service agree; staff signing a learner up are not bound; the editor takes the times in the
editor's own zone and refuses a window that closes before it opens, at the field.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from seminars.models import Booking, Profile, SeminarEvent
from seminars.services.attendees import attendees_add
from seminars.services.bookings import BookingError, booking_create
from seminars.services.events import event_save
from seminars.tests.conftest import event_post_data, field_error, make_session

OPENS = datetime(2030, 3, 2, 9, 0, tzinfo=UTC)
CLOSES = datetime(2030, 3, 9, 17, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def windowed(event):
    """The event with its session after the window, registration open from OPENS until CLOSES."""
    event.sessions.all().delete()
    make_session(event, datetime(2030, 3, 20, 9, 0, tzinfo=UTC))
    event.registration_opens_at = OPENS
    event.registration_closes_at = CLOSES
    event.save()
    return event


def _row(html, event):
    url = reverse("seminars:event", args=[event.pk])
    (row,) = [chunk.split("</tr>")[0] for chunk in html.split("<tr")[1:] if f'href="{url}"' in chunk]
    return row


def _views(client, event):
    listing = client.get(reverse("seminars:seminar", args=[event.seminar_id])).content.decode()
    page = client.get(reverse("seminars:event", args=[event.pk])).content.decode()
    return _row(listing, event), page


BOOK_BUTTON = '<button type="submit" class="btn btn-primary">Book</button>'


@pytest.mark.parametrize(
    "moment, label, refusal",
    [
        (OPENS - SECOND, "Registration not open yet", "Registration opens on Sat 2 Mar 2030, 09:00 UTC (UTC)."),
        (OPENS, "Bookable", None),
        (CLOSES - SECOND, "Bookable", None),
        (CLOSES, "Registration closed", "Registration closed on Sat 9 Mar 2030, 17:00 UTC (UTC)."),
    ],
    ids=["a second before it opens", "as it opens", "a second before it closes", "as it closes"],
)
def test_the_list_the_page_and_booking_agree_on_both_sides_of_each_boundary(
    client, windowed, learner, moment, label, refusal
):
    with time_machine.travel(moment, tick=False):
        client.force_login(learner)  # in the frozen time: a session from today would have expired
        row, page = _views(client, windowed)
        response = client.post(reverse("seminars:event_book", args=[windowed.pk]))

    assert f">{label}</span>" in row
    assert f'data-testid="event-status">{label}</span>' in page
    booking = Booking.objects.filter(event=windowed, user=learner).first()
    if refusal is None:
        assert BOOK_BUTTON in page
        assert booking is not None and booking.state == Booking.State.BOOKED
    else:
        assert BOOK_BUTTON not in page
        assert refusal in page
        assert [str(m) for m in get_messages(response.wsgi_request)] == [refusal]
        assert booking is None


def test_the_list_says_when_registration_opens_in_the_viewers_zone(client, windowed, learner):
    Profile.objects.create(user=learner, time_zone="Asia/Tokyo")
    with time_machine.travel(OPENS - SECOND, tick=False):
        client.force_login(learner)
        row, page = _views(client, windowed)
    assert "Registration opens 2 Mar 2030, 18:00 (Asia/Tokyo)" in row
    assert "Registration opens on Sat 2 Mar 2030, 18:00 JST (Asia/Tokyo)." in page
    assert "Sign up" not in row


def test_the_service_refuses_outside_the_window_with_the_reason(windowed, learner):
    with time_machine.travel(CLOSES, tick=False), pytest.raises(BookingError, match="Registration closed on"):
        booking_create(event=windowed, user=learner, actor=learner)
    assert not Booking.objects.filter(event=windowed).exists()


def test_a_trainer_signs_a_learner_up_outside_the_window(windowed, learner, trainer):
    with time_machine.travel(CLOSES + timedelta(days=1), tick=False):
        booking = booking_create(event=windowed, user=learner, actor=trainer)
    assert booking.state == Booking.State.BOOKED


def test_registration_still_closes_when_the_first_session_starts(windowed, learner):
    windowed.registration_closes_at = None
    windowed.save()
    start = windowed.sessions.get().start
    with time_machine.travel(start, tick=False), pytest.raises(BookingError, match="already started"):
        booking_create(event=windowed, user=learner, actor=learner)


def test_a_waitlist_only_event_follows_the_window_too(event, learner):
    event.sessions.all().delete()
    event.registration_opens_at = OPENS
    event.save()
    with time_machine.travel(OPENS - SECOND, tick=False), pytest.raises(BookingError, match="Registration opens"):
        booking_create(event=event, user=learner, actor=learner)
    with time_machine.travel(OPENS, tick=False):
        assert booking_create(event=event, user=learner, actor=learner).state == Booking.State.WAITLISTED


@pytest.mark.parametrize(
    "role, status",
    [
        ("site_admin", 200),
        ("editing_trainer", 200),
        ("trainer", 200),
        ("learner", 200),
        ("outsider", 404),
        ("anonymous", 302),
    ],
)
def test_the_event_page_with_a_closed_window_by_role(client, request, windowed, role, status):
    with time_machine.travel(CLOSES, tick=False):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        response = client.get(reverse("seminars:event", args=[windowed.pk]))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert BOOK_BUTTON not in page
        assert ("Registration closed on" in page) is (role == "learner")
        assert "Closes Sat 9 Mar 2030, 17:00" in page


def test_the_seminar_list_queries_stay_constant_with_windows(client, seminar, learner, django_assert_max_num_queries):
    def add(count):
        for _ in range(count):
            event = SeminarEvent.objects.create(
                seminar=seminar, registration_opens_at=OPENS, registration_closes_at=CLOSES
            )
            make_session(event, datetime(2030, 3, 20, 9, 0, tzinfo=UTC))

    url = reverse("seminars:seminar", args=[seminar.pk])
    add(3)
    with time_machine.travel(OPENS - SECOND, tick=False):
        client.force_login(learner)
        with django_assert_max_num_queries(40) as few:
            client.get(url)
        add(12)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(url).content.decode().count("Registration not open yet") >= 15


# --- The editor ------------------------------------------------------------------------------


SESSION = {"start": "2030-03-20T09:00", "finish": "2030-03-20T10:00", "zone": "UTC"}


@pytest.fixture
def editor_client(client, editing_trainer):
    Profile.objects.create(user=editing_trainer, time_zone="Europe/Berlin")
    client.force_login(editing_trainer)
    return client


def test_the_editor_takes_the_window_in_the_editors_zone(editor_client, seminar):
    data = event_post_data(
        sessions=[SESSION], registration_opens_at="2030-03-02T10:00", registration_closes_at="2030-03-09T18:00"
    )
    response = editor_client.post(reverse("seminars:event_add", args=[seminar.pk]), data)
    assert response.status_code == 302
    event = SeminarEvent.objects.get(seminar=seminar, name="Spring intake")
    assert (event.registration_opens_at, event.registration_closes_at) == (OPENS, CLOSES)

    page = editor_client.get(reverse("seminars:event_edit", args=[event.pk])).content.decode()
    assert 'value="2030-03-02T10:00"' in page and 'value="2030-03-09T18:00"' in page
    assert "in your time zone (Europe/Berlin)" in page


@pytest.mark.parametrize(
    "fields, field, message",
    [
        (
            {"registration_opens_at": "2030-03-09T10:00", "registration_closes_at": "2030-03-09T10:00"},
            "registration_closes_at",
            "Registration must close after it opens.",
        ),
        ({"registration_opens_at": "1999-12-31T23:00"}, "registration_opens_at", "Enter a date between the years"),
        ({"registration_closes_at": "next week"}, "registration_closes_at", "Enter a date and time"),
    ],
)
def test_a_bad_window_is_refused_at_the_field_and_nothing_is_saved(editor_client, seminar, fields, field, message):
    data = event_post_data(sessions=[SESSION], **fields)
    response = editor_client.post(reverse("seminars:event_add", args=[seminar.pk]), data)
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), field)
    assert not SeminarEvent.objects.filter(seminar=seminar).exists()


def test_a_window_closing_after_the_first_start_is_allowed(editor_client, seminar):
    data = event_post_data(sessions=[SESSION], registration_closes_at="2030-04-01T00:00")
    assert editor_client.post(reverse("seminars:event_add", args=[seminar.pk]), data).status_code == 302


def test_the_service_refuses_a_reversed_window_from_callers_that_bypass_the_form(seminar, editing_trainer):
    berlin = ZoneInfo("Europe/Berlin")
    data = {
        "name": "Direct",
        "capacity": 5,
        "registration_opens_at": datetime(2030, 3, 9, tzinfo=berlin),
        "registration_closes_at": datetime(2030, 3, 2, tzinfo=berlin),
        "sessions": [],
    }
    with pytest.raises(ValidationError) as caught:
        event_save(event_or_none=None, seminar=seminar, data=data, actor=editing_trainer)
    assert caught.value.message_dict["registration_closes_at"] == ["Registration must close after it opens."]
    assert not SeminarEvent.objects.filter(name="Direct").exists()


@pytest.mark.parametrize("moment", [OPENS - SECOND, CLOSES], ids=["before it opens", "after it closed"])
def test_staff_adding_attendees_are_not_bound_by_the_window(windowed, learner, trainer, moment):
    with time_machine.travel(moment, tick=False):
        attendees_add(event=windowed, users=[learner], actor=trainer)
    assert Booking.objects.get(event=windowed, user=learner).state == Booking.State.BOOKED
