"""`manage.py seed_demo`: the demo cast and scenery, idempotent."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.core.management import call_command

from seminars.management.commands.seed_demo import PASSWORD
from seminars.models import Booking, Course, Enrolment, Room, Seminar, SeminarEvent
from seminars.permissions import is_site_admin


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    models = [get_user_model(), *apps.get_app_config("seminars").get_models()]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_running_twice_changes_nothing():
    seed()
    first = counts()
    first_times = list(
        SeminarEvent.objects.values_list("sessions__start", "sessions__finish").order_by("pk", "sessions__start")
    )

    seed()

    assert counts() == first
    assert (
        list(SeminarEvent.objects.values_list("sessions__start", "sessions__finish").order_by("pk", "sessions__start"))
        == first_times
    )
    assert first["Course"] == 1 and first["Seminar"] == 1


@pytest.mark.django_db
def test_the_cast_and_their_roles(rf):
    output = seed()

    assert mail.outbox == []  # the demo's sign-ups email nobody

    User = get_user_model()
    assert PASSWORD == "demo-password-123"
    assert PASSWORD in output
    for username in ["admin", "trainer1", "trainer2", "learner1", "learner5"]:
        assert username in output
        # A login always comes with its request (the lockout counts failures per address).
        assert authenticate(rf.post("/accounts/login/"), username=username, password=PASSWORD) is not None
    assert is_site_admin(User.objects.get(username="admin"))
    course = Course.objects.get(name="Workplace Safety")
    assert course.allow_self_enrolment
    roles = dict(Enrolment.objects.filter(course=course).values_list("user__username", "role"))
    assert roles == {
        "trainer1": "editingtrainer",
        "trainer2": "trainer",
        **{f"learner{i}": "learner" for i in range(1, 6)},
    }


@pytest.mark.django_db
def test_events_rooms_and_bookings():
    seed()

    seminar = Seminar.objects.get(name="Fire warden training")
    zones = set(seminar.events.values_list("sessions__time_zone", flat=True))
    assert zones == {"Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"}
    for event in seminar.events.all():
        assert 1 <= event.sessions.count() <= 2
    assert set(Room.objects.filter(event__isnull=True).values_list("name", flat=True)) == {
        "Training Room A",
        "Boardroom",
    }
    full = [e for e in seminar.events.all() if e.bookings.filter(state=Booking.State.BOOKED).count() >= e.capacity]
    assert len(full) == 1
    assert full[0].bookings.filter(state=Booking.State.WAITLISTED).exists()
    for booking in Booking.objects.all():
        assert list(booking.history.values_list("state", flat=True)) == [booking.state]
    london = seminar.events.get(name="London spring intake")
    assert dict(london.trainers.values_list("user__username", "role")) == {
        "trainer1": "trainer",
        "trainer2": "facilitator",
    }


@pytest.mark.django_db
def test_site_rooms_are_never_double_booked():
    seed()

    sessions = list(Room.objects.filter(event__isnull=True).values_list("pk", "sessions__start", "sessions__finish"))
    for room, start, finish in sessions:
        for other_room, other_start, other_finish in sessions:
            if room == other_room and (start, finish) != (other_start, other_finish):
                assert finish <= other_start or other_finish <= start
