"""Minimum bookings: the editor takes an optional minimum (1 to the capacity); a periodic task warns the
course's trainers once, in the app and by email, when an event is short of it near its start."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from seminars.models import Booking, Notification, OutboundEmail, SeminarEvent
from seminars.services.bookings import booking_create
from seminars.services.events import event_cancel
from seminars.tasks import minimum_warnings_task
from seminars.tests.conftest import event_post_data, field_error, make_session

START = datetime(2030, 3, 20, 9, 0, tzinfo=UTC)
HOURS = 48


@pytest.fixture(autouse=True)
def _warning_hours(settings):
    settings.SEMINARS_MINIMUM_WARNING_HOURS = HOURS


@pytest.fixture
def short_event(event):
    """Starts at START, needs 2 learners; nobody booked yet."""
    event.sessions.all().delete()
    make_session(event, START)
    event.minimum_bookings = 2
    event.save()
    return event


def warnings_for(event):
    return OutboundEmail.objects.filter(key__startswith=f"minimum_warning:{event.pk}:")


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return minimum_warnings_task()


@pytest.mark.django_db(transaction=True)
def test_the_trainers_are_warned_once_in_the_app_and_by_email(short_event, trainer, editing_trainer, learner):
    booking_create(event=short_event, user=learner, actor=learner)
    mail.outbox.clear()

    assert run_at(START - timedelta(hours=HOURS)) == 2
    assert run_at(START - timedelta(hours=HOURS - 1)) == 0

    assert sorted(e.to for e in warnings_for(short_event)) == sorted([trainer.email, editing_trainer.email])
    notes = Notification.objects.filter(subject__startswith="Few bookings")
    assert sorted(n.user_id for n in notes) == sorted([trainer.pk, editing_trainer.pk])
    assert "1 learner is booked; this event needs at least 2." in notes[0].body
    assert sorted(m.to[0] for m in mail.outbox) == sorted([trainer.email, editing_trainer.email])
    assert mail.outbox[0].subject == "Few bookings: Fire wardens, Spring intake"


def test_not_warned_before_the_warning_time(short_event, trainer):
    assert run_at(START - timedelta(hours=HOURS) - timedelta(seconds=1)) == 0
    assert not warnings_for(short_event).exists()


def test_not_warned_when_the_minimum_is_reached(short_event, trainer, learner, learner2):
    booking_create(event=short_event, user=learner, actor=learner)
    booking_create(event=short_event, user=learner2, actor=learner2)
    assert run_at(START - timedelta(hours=1)) == 0
    assert not Notification.objects.filter(subject__startswith="Few bookings").exists()


def test_not_warned_for_a_cancelled_event(short_event, trainer, editing_trainer):
    event_cancel(event=short_event, actor=editing_trainer)
    assert run_at(START - timedelta(hours=1)) == 0
    assert not warnings_for(short_event).exists()


def test_not_warned_once_started_nor_without_a_minimum(short_event, event, trainer):
    assert run_at(START) == 0
    SeminarEvent.objects.filter(pk=short_event.pk).update(minimum_bookings=None)
    assert run_at(START - timedelta(hours=1)) == 0


def test_waitlisted_learners_do_not_count(short_event, trainer, learner, learner2):
    short_event.capacity = 2
    short_event.save()
    booking_create(event=short_event, user=learner, actor=learner)
    Booking.objects.create(event=short_event, user=learner2, state=Booking.State.WAITLISTED)
    run_at(START - timedelta(hours=1))
    assert warnings_for(short_event).exists()


# --- The editor ------------------------------------------------------------------------------

SESSION = {"start": "2030-03-20T09:00", "finish": "2030-03-20T10:00", "zone": "UTC"}


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "Enter a whole number of bookings from 1 to the capacity."),
        ("11", "The minimum number of bookings cannot be more than the capacity."),
        ("two", "Enter a whole number of bookings from 1 to the capacity."),
    ],
)
def test_a_bad_minimum_is_refused_at_the_field(client, editing_trainer, seminar, value, message):
    client.force_login(editing_trainer)
    data = event_post_data(sessions=[SESSION], minimum_bookings=value)  # capacity 10
    response = client.post(reverse("seminars:event_add", args=[seminar.pk]), data)
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), "minimum_bookings")
    assert not SeminarEvent.objects.filter(seminar=seminar).exists()


def test_the_minimum_is_saved_and_shown_to_trainers_only(client, editing_trainer, learner, seminar):
    client.force_login(editing_trainer)
    data = event_post_data(sessions=[SESSION], minimum_bookings="10")
    assert client.post(reverse("seminars:event_add", args=[seminar.pk]), data).status_code == 302
    event = SeminarEvent.objects.get(seminar=seminar)
    assert event.minimum_bookings == 10
    assert "Minimum bookings" in client.get(event.get_absolute_url()).content.decode()
    client.force_login(learner)
    assert "Minimum bookings" not in client.get(event.get_absolute_url()).content.decode()


def test_the_form_says_when_trainers_are_warned(client, editing_trainer, seminar):
    client.force_login(editing_trainer)
    page = client.get(reverse("seminars:event_add", args=[seminar.pk])).content.decode()
    assert "the trainers are warned 48 hours before the start when fewer learners are booked" in page


# --- A moved start -----------------------------------------------------------------------------


def move_first_session(client, editor, event, *, start, finish):
    session = event.sessions.get()
    client.force_login(editor)
    data = event_post_data(
        sessions=[{"id": session.pk, "start": start, "finish": finish, "zone": "UTC"}],
        initial_forms=1,
        minimum_bookings="2",
        capacity=str(event.capacity),
    )
    response = client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.django_db(transaction=True)
def test_a_moved_start_warns_again_before_the_new_start(client, short_event, trainer, editing_trainer):
    assert run_at(START - timedelta(hours=HOURS)) == 2
    with time_machine.travel(START - timedelta(hours=HOURS - 1), tick=False):
        move_first_session(client, editing_trainer, short_event, start="2030-03-27T09:00", finish="2030-03-27T10:00")
    new_start = START + timedelta(days=7)

    assert run_at(START - timedelta(hours=1)) == 0  # the old warning time is not the new one
    assert run_at(new_start - timedelta(hours=HOURS) - timedelta(seconds=1)) == 0
    assert run_at(new_start - timedelta(hours=HOURS)) == 2
    assert run_at(new_start - timedelta(hours=1)) == 0
    assert warnings_for(short_event).count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_longer_session_with_the_same_start_does_not_warn_again(client, short_event, trainer, editing_trainer):
    assert run_at(START - timedelta(hours=HOURS)) == 2
    with time_machine.travel(START - timedelta(hours=HOURS - 1), tick=False):
        move_first_session(client, editing_trainer, short_event, start="2030-03-20T09:00", finish="2030-03-20T11:00")

    assert run_at(START - timedelta(hours=1)) == 0
    assert warnings_for(short_event).count() == 2
