"""Who may see the event page, book, cancel and take attendance; errors come back as messages."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from seminars.models import Booking, Room, SeminarEvent
from seminars.services.bookings import booking_create
from seminars.tests.conftest import enrol, make_session, make_user

State = Booking.State
ROLES = ["site_admin", "editing_trainer", "trainer", "learner", "outsider"]


def event_url(event):
    return reverse("seminars:event", args=[event.pk])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- The event page -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, event):
    response = client.get(event_url(event))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "role, status, sees_attendees, sees_edit",
    [
        ("site_admin", 200, True, True),
        ("editing_trainer", 200, True, True),
        ("trainer", 200, True, False),
        ("learner", 200, False, False),
        ("outsider", 404, False, False),
    ],
)
def test_event_page_by_role(client, as_user, event, learner2, role, status, sees_attendees, sees_edit):
    booking_create(event=event, user=learner2, actor=learner2)
    as_user(role)

    response = client.get(event_url(event))

    assert response.status_code == status
    if status != 200:
        return
    html = response.content.decode()
    assert "Fire wardens: Spring intake" in html
    assert ("Attendees" in html) is sees_attendees
    assert ("leo@example.com" in html) is sees_attendees
    assert ("Edit event" in html) is sees_edit
    assert ("Cancel event" in html) is sees_edit


def test_missing_event_is_404(client, as_user):
    as_user("site_admin")
    assert client.get("/events/999999/").status_code == 404


def test_learner_sees_book_then_their_state_and_cancel(client, as_user, event):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    learner = as_user("learner")
    html = client.get(event_url(event)).content.decode()
    assert ">Book</button>" in html

    booking_create(event=event, user=learner, actor=learner)
    html = client.get(event_url(event)).content.decode()
    assert ">Book</button>" not in html
    assert "Booked" in html
    assert "Cancel booking" in html
    assert "1 of 2 seats left" in html


def test_learner_sees_why_they_cannot_cancel(client, as_user, event):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.NEVER
    event.save()
    learner = as_user("learner")
    booking_create(event=event, user=learner, actor=learner)
    html = client.get(event_url(event)).content.decode()
    assert "Cancel booking" not in html
    assert "Cancellations are not allowed for this event." in html


def test_cut_off_and_booking_dates_are_shown_in_the_viewers_zone(client, as_user, event):
    from zoneinfo import ZoneInfo

    from seminars.models import Profile

    learner = as_user("learner")
    Profile.objects.create(user=learner, time_zone="America/New_York")
    booking = booking_create(event=event, user=learner, actor=learner)
    cutoff = (event.sessions.get().start - timedelta(hours=24)).astimezone(ZoneInfo("America/New_York"))
    booked_at = booking.updated_at.astimezone(ZoneInfo("America/New_York"))

    html = client.get(event_url(event)).content.decode()

    assert f"You can cancel until {cutoff:%a %-d %b %Y, %H:%M} (America/New_York)." in html
    assert f"since {booked_at:%-d %b %Y, %H:%M} (America/New_York)" in html


def test_full_event_offers_the_waitlist(client, as_user, event, learner2, course):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    booking_create(event=event, user=learner2, actor=learner2)
    as_user("learner")
    html = client.get(event_url(event)).content.decode()
    assert "Join waitlist" in html
    assert "Full – waitlist available" in html


def test_sessions_show_both_zones_and_link_the_room(client, as_user, event):
    room = Room.objects.create(name="Boardroom", capacity=8)
    event.sessions.update(room=room)
    learner = as_user("learner")
    from seminars.models import Profile

    Profile.objects.create(user=learner, time_zone="Asia/Tokyo")
    html = client.get(event_url(event)).content.decode()
    assert "(Europe/London)" in html
    assert "Your time:" in html and "(Asia/Tokyo)" in html
    assert f'href="{reverse("seminars:room", args=[room.pk])}"' in html
    assert ">Boardroom</a>" in html


# --- Booking ---------------------------------------------------------------------------------


def test_book_requires_post(client, as_user, event):
    as_user("learner")
    assert client.get(reverse("seminars:event_book", args=[event.pk])).status_code == 405


def test_learner_books_for_themselves(client, as_user, event):
    learner = as_user("learner")
    response = client.post(reverse("seminars:event_book", args=[event.pk]), follow=True)
    assert response.redirect_chain[-1][0] == event_url(event)
    assert Booking.objects.get(event=event).user == learner
    assert "You are booked. A confirmation email is on its way." in messages_of(response)


def test_outsider_cannot_book(client, as_user, event):
    as_user("outsider")
    assert client.post(reverse("seminars:event_book", args=[event.pk])).status_code == 404
    assert not Booking.objects.exists()


def test_anonymous_cannot_book(client, event):
    response = client.post(reverse("seminars:event_book", args=[event.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Booking.objects.exists()


@pytest.mark.parametrize("role", ["trainer", "editing_trainer", "site_admin"])
def test_non_learners_get_a_message_not_a_booking(client, as_user, event, role):
    as_user(role)
    response = client.post(reverse("seminars:event_book", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert "Only learners enrolled in this course can book this event." in messages_of(response)
    assert not Booking.objects.exists()


def test_full_event_shows_the_error_on_the_page(client, as_user, event, learner2, course):
    event.capacity = 1
    event.save()
    booking_create(event=event, user=learner2, actor=learner2)
    as_user("learner")
    response = client.post(reverse("seminars:event_book", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert "This event is full." in messages_of(response)
    assert "This event is full." in response.content.decode()


# --- Cancelling -------------------------------------------------------------------------------


@pytest.fixture
def lenas_booking(event, learner):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    return booking_create(event=event, user=learner, actor=learner)


@pytest.mark.parametrize(
    "role, status, cancelled",
    [
        ("learner", 302, True),  # their own
        ("learner2", 403, False),  # someone else's
        ("outsider", 404, False),
        ("trainer", 302, True),
        ("editing_trainer", 302, True),
        ("site_admin", 302, True),
    ],
)
def test_cancel_matrix(client, as_user, lenas_booking, role, status, cancelled):
    as_user(role)
    response = client.post(reverse("seminars:booking_cancel", args=[lenas_booking.pk]))
    assert response.status_code == status
    lenas_booking.refresh_from_db()
    assert (lenas_booking.state == State.USER_CANCELLED) is cancelled


@pytest.mark.parametrize("role, status", [("learner", 200), ("learner2", 403), ("outsider", 404), ("trainer", 200)])
def test_a_get_only_asks_and_never_cancels(client, as_user, lenas_booking, role, status):
    as_user(role)
    assert client.get(reverse("seminars:booking_cancel", args=[lenas_booking.pk])).status_code == status
    lenas_booking.refresh_from_db()
    assert lenas_booking.state == State.BOOKED


def test_refused_cancellation_is_a_message(client, as_user, lenas_booking, event):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.NEVER
    event.save()
    as_user("learner")
    response = client.post(reverse("seminars:booking_cancel", args=[lenas_booking.pk]), follow=True)
    assert response.status_code == 200
    assert "Cancellations are not allowed for this event." in messages_of(response)
    lenas_booking.refresh_from_db()
    assert lenas_booking.state == State.BOOKED


# --- Attendance -------------------------------------------------------------------------------


@pytest.fixture
def started(event, time_machine):
    time_machine.move_to(event.sessions.get().start + timedelta(minutes=10))


def attendance_post(client, event, booking, state):
    return client.post(reverse("seminars:attendance", args=[event.pk]), {f"booking_{booking.pk}": state})


@pytest.mark.parametrize(
    "role, status, recorded",
    [
        ("site_admin", 302, True),
        ("editing_trainer", 302, True),
        ("trainer", 302, True),
        ("learner", 403, False),
        ("learner2", 403, False),
        ("outsider", 404, False),
    ],
)
def test_attendance_matrix(client, as_user, event, lenas_booking, started, role, status, recorded):
    as_user(role)
    response = attendance_post(client, event, lenas_booking, State.FULLY_ATTENDED)
    assert response.status_code == status
    lenas_booking.refresh_from_db()
    assert (lenas_booking.state == State.FULLY_ATTENDED) is recorded


def test_attendance_before_the_start_is_a_message(client, as_user, event, lenas_booking):
    as_user("trainer")
    response = client.post(
        reverse("seminars:attendance", args=[event.pk]), {f"booking_{lenas_booking.pk}": "no_show"}, follow=True
    )
    assert "Attendance was not saved: Attendance can be taken once the event has started." in messages_of(response)
    lenas_booking.refresh_from_db()
    assert lenas_booking.state == State.BOOKED


def test_attendance_with_a_made_up_state_changes_nothing(client, as_user, event, lenas_booking, started):
    as_user("trainer")
    response = client.post(
        reverse("seminars:attendance", args=[event.pk]), {f"booking_{lenas_booking.pk}": "booked"}, follow=True
    )
    assert response.status_code == 200
    assert any("Attendance was not saved" in m for m in messages_of(response))
    lenas_booking.refresh_from_db()
    assert lenas_booking.state == State.BOOKED


def test_attendance_form_is_shown_after_the_start(client, as_user, event, lenas_booking, started):
    as_user("trainer")
    html = client.get(event_url(event)).content.decode()
    assert "Save attendance" in html
    assert 'aria-label="Attendance of Lena"' in html


def test_attendance_requires_post(client, as_user, event):
    as_user("trainer")
    assert client.get(reverse("seminars:attendance", args=[event.pk])).status_code == 405


# --- Constant queries ----------------------------------------------------------------------


def fill(event, course, *, sessions, learners, prefix):
    """Add sessions (each in its own room, on its own day) and booked learners."""
    event.capacity += learners
    event.waitlist_enabled = True
    event.save()
    day = event.sessions.count()
    for i in range(sessions):
        room = Room.objects.create(name=f"Room {prefix}{i}", capacity=50)
        make_session(event, datetime(2031, 5, 1 + day + i, 9, 0), zone="Europe/Berlin", room=room)
    for i in range(learners):
        user = make_user(f"{prefix}{i}")
        enrol(user, course)
        Booking.objects.create(event=event, user=user, state=State.BOOKED)


@pytest.mark.parametrize("role", ["site_admin", "trainer", "learner"])
def test_event_page_queries_do_not_grow_with_sessions_and_bookings(
    client, as_user, event, course, django_assert_max_num_queries, role, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    as_user(role)
    fill(event, course, sessions=1, learners=1, prefix="small")
    with django_assert_max_num_queries(100) as small:
        assert client.get(event_url(event)).status_code == 200

    fill(event, course, sessions=8, learners=15, prefix="bulk")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(event_url(event))
    assert response.status_code == 200
    assert response.content.decode().count("bulk14@example.com") == (0 if role == "learner" else 1)
