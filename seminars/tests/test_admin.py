"""Django admin: every seminars model is registered and its pages load."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from seminars.models import (
    Booking,
    BookingStateChange,
    CalendarFeed,
    EmailTemplate,
    EventTrainer,
    HandoverRoom,
    Notification,
    OutboundEmail,
    ParticipantMatch,
    Profile,
    Room,
    RoomHandover,
    SeminarEmailOff,
    SessionAttendance,
)
from seminars.tests.conftest import make_user

SEMINAR_MODELS = list(apps.get_app_config("seminars").get_models())


@pytest.fixture
def superuser_client(client, db):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def scenery(event, learner, site_admin):
    """One row of every model, so the changelists render real rows."""
    Room.objects.create(name="Room", capacity=3)
    booking = Booking.objects.create(event=event, user=learner)
    BookingStateChange.objects.create(booking=booking, state=booking.state, changed_by=learner)
    Notification.objects.create(user=learner, subject="Hello")
    Profile.objects.create(user=learner, time_zone="Europe/London")
    OutboundEmail.objects.create(key="test:1", kind="notification", to=learner.email)
    SessionAttendance.objects.create(booking=booking, session=event.sessions.get(), proposed_state="present")
    ParticipantMatch.objects.create(session=event.sessions.get(), participant_key="dial-in", booking=booking)
    CalendarFeed.objects.create(user=learner, token="feed-token-never-shown-in-the-admin")
    EmailTemplate.objects.create(email_type="booked", subject="Booked: {event_name}", body="Hello {learner_name}")
    SeminarEmailOff.objects.create(seminar=event.seminar, email_type="reminder")
    EventTrainer.objects.create(event=event, user=event.created_by, role=EventTrainer.Role.FACILITATOR)
    handover = RoomHandover.objects.create(created_by=site_admin, provider="zoom", to_hosting="account", to_host="h")
    HandoverRoom.objects.create(handover=handover, room_name="Room", from_hosting="user")
    return booking


def test_every_model_is_registered():
    assert [m.__name__ for m in SEMINAR_MODELS if not admin.site.is_registered(m)] == []


@pytest.mark.parametrize("model", SEMINAR_MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_load(superuser_client, scenery, model):
    meta = model._meta
    changelist = superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    add = superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    change = superuser_client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[model.objects.first().pk])
    )

    # Some models are only written by the services (their admin offers no "add").
    may_add = admin.site.get_model_admin(model).has_add_permission(add.wsgi_request)
    assert (changelist.status_code, add.status_code, change.status_code) == (200, 200 if may_add else 403, 200)


def test_changelist_search_works(superuser_client, scenery):
    response = superuser_client.get(reverse("admin:seminars_booking_changelist"), {"q": "lena"})

    assert response.status_code == 200
    assert "lena" in response.content.decode()


def test_booking_page_shows_its_history_read_only(superuser_client, scenery):
    response = superuser_client.get(reverse("admin:seminars_booking_change", args=[scenery.pk]))

    html = response.content.decode()
    assert "Booking state changes" in html
    assert 'name="history-0-state"' not in html  # read-only: not an editable field


def test_a_calendar_feed_token_never_appears_in_the_admin(superuser_client, scenery):
    feed = CalendarFeed.objects.get()
    pages = [
        superuser_client.get(reverse("admin:seminars_calendarfeed_changelist")),
        superuser_client.get(reverse("admin:seminars_calendarfeed_change", args=[feed.pk])),
    ]
    assert all(page.status_code == 200 for page in pages)
    assert all(feed.token not in page.content.decode() for page in pages)
