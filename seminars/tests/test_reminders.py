"""Reminders before an event: who gets them, when, once, and what they say (seminars.reminders)."""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seminars.models import Booking, OutboundEmail, Profile, Room, SeminarEvent, Session
from seminars.outbox import email_send
from seminars.reminders import reminders_record
from seminars.services.bookings import booking_cancel, booking_create
from seminars.services.events import event_cancel
from seminars.tasks import reminders_queue_task
from seminars.tests.conftest import enrol, field_error, make_session, make_user
from seminars.tests.test_emails import everything_readable

pytestmark = pytest.mark.django_db(transaction=True)

MEETING_LINK = "https://meet.example.com/j/98765?pwd=very-secret"


def starting_in(event, delta, minutes=60):
    """Move the event's only session so that it starts `delta` from now."""
    start = timezone.now().replace(microsecond=0) + delta
    Session.objects.filter(event=event).update(start=start, finish=start + timedelta(minutes=minutes))
    return start


@pytest.fixture
def virtual_event(event):
    room = Room.objects.create(
        name="Online room", capacity=20, virtual_kind=Room.CUSTOM_LINK, virtual_url=MEETING_LINK, event=event
    )
    event.sessions.update(room=room)
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    return event


@pytest.fixture
def booked(virtual_event, learner):
    booking = booking_create(event=virtual_event, user=learner, actor=learner)
    mail.outbox.clear()
    return booking


def reminders_sent():
    return [m for m in mail.outbox if m.subject.startswith("Reminder:")]


def reminder_keys():
    return sorted(OutboundEmail.objects.filter(kind="reminder").values_list("key", flat=True))


def test_booked_learners_and_trainers_get_one_reminder_with_our_join_page_and_the_rule(
    booked, learner, editing_trainer, trainer
):
    starting_in(booked.event, timedelta(minutes=30))

    assert reminders_queue_task() == 3
    assert reminders_queue_task() == 0  # the next run finds them recorded

    sent = reminders_sent()
    assert sorted(m.to[0] for m in sent) == sorted([learner.email, editing_trainer.email, trainer.email])
    join = "http://testserver" + reverse("seminars:virtual_join", args=[booked.event.sessions.get().pk])
    for message in sent:
        readable = everything_readable(message)
        assert join in message.body
        assert "The virtual room opens 15 minutes before the start of each session" in message.body
        assert MEETING_LINK not in readable and "meet.example.com" not in readable
        assert "Online room" in message.body
    to_learner = next(m for m in sent if m.to == [learner.email])
    assert "the event you are booked on" in to_learner.body
    assert "an event you train on" in next(m for m in sent if m.to == [trainer.email]).body


def test_the_reminder_shows_times_in_the_recipients_zone(booked, learner):
    Profile.objects.create(user=learner, time_zone="Asia/Tokyo")
    start = starting_in(booked.event, timedelta(minutes=30))

    reminders_queue_task()

    message = next(m for m in reminders_sent() if m.to == [learner.email])
    tokyo = start.astimezone(ZoneInfo("Asia/Tokyo"))
    assert "Your time: " in message.body
    assert tokyo.strftime("%H:%M") in message.body and "(Asia/Tokyo)" in message.body


def test_only_the_nearest_due_reminder_is_recorded(booked, learner):
    # Booked ten minutes before the start: the hour reminder, never a late 24-hour one.
    starting_in(booked.event, timedelta(minutes=10))
    reminders_record()
    assert [key.split(":")[2] for key in reminder_keys() if f":booking{booked.pk}:" in key] == ["1h"]


def test_a_day_ahead_the_24_hour_reminder_then_the_hour_one(booked):
    start = starting_in(booked.event, timedelta(hours=20))
    assert reminders_record() != []
    assert reminders_record(now=start - timedelta(hours=2)) == []
    assert reminders_record(now=start - timedelta(minutes=50)) != []
    hours = sorted({key.split(":")[2] for key in reminder_keys()})
    assert hours == ["1h", "24h"]


def test_nothing_before_the_first_reminder_nor_after_the_start(booked):
    start = starting_in(booked.event, timedelta(hours=30))
    assert reminders_record() == []
    assert reminders_record(now=start + timedelta(minutes=1)) == []
    assert reminder_keys() == []


def test_a_session_moved_after_its_reminder_was_sent_gets_a_new_one(booked, learner):
    starting_in(booked.event, timedelta(minutes=30))
    reminders_queue_task()
    assert len([m for m in reminders_sent() if m.to == [learner.email]]) == 1

    starting_in(booked.event, timedelta(minutes=45))
    reminders_queue_task()
    reminders_queue_task()

    assert len([m for m in reminders_sent() if m.to == [learner.email]]) == 2


def test_a_reminder_recorded_before_its_session_moved_is_not_sent_with_the_old_schedule(booked, learner):
    starting_in(booked.event, timedelta(minutes=30))
    [old, *_] = reminders_record()
    starting_in(booked.event, timedelta(minutes=50))

    assert email_send(email_id=old).state == OutboundEmail.State.SKIPPED
    reminders_queue_task()
    assert len([m for m in reminders_sent() if m.to == [learner.email]]) == 1


def test_cancelled_bookings_get_no_reminder(booked, learner):
    booking_cancel(booking=booked, actor=learner)
    starting_in(booked.event, timedelta(minutes=30))
    reminders_queue_task()
    assert learner.email not in [m.to[0] for m in reminders_sent()]


def test_a_booking_cancelled_after_its_reminder_was_recorded_gets_none(booked, learner):
    starting_in(booked.event, timedelta(minutes=30))
    ids = reminders_record()
    booking_cancel(booking=booked, actor=learner)
    mail.outbox.clear()

    for email_id in ids:
        email_send(email_id=email_id)
    assert learner.email not in [m.to[0] for m in reminders_sent()]


def test_cancelled_events_get_no_reminders(booked, editing_trainer):
    starting_in(booked.event, timedelta(minutes=30))
    event_cancel(event=booked.event, actor=editing_trainer)
    mail.outbox.clear()
    assert reminders_queue_task() == 0
    assert reminders_sent() == []


def test_waitlisted_learners_get_no_reminder(virtual_event, learner, learner2, outsider, course):
    virtual_event.capacity = 1
    virtual_event.waitlist_enabled = True
    virtual_event.save()
    booking_create(event=virtual_event, user=learner, actor=learner)
    enrol(outsider, course)
    waiting = booking_create(event=virtual_event, user=learner2, actor=learner2)
    assert waiting.state == Booking.State.WAITLISTED
    starting_in(virtual_event, timedelta(minutes=30))
    mail.outbox.clear()
    reminders_queue_task()
    assert learner2.email not in [m.to[0] for m in reminders_sent()]
    assert learner.email in [m.to[0] for m in reminders_sent()]


def test_a_seminar_sets_its_own_reminders(booked, learner):
    seminar = booked.event.seminar
    seminar.reminder_offsets = "3"
    seminar.save()
    starting_in(booked.event, timedelta(hours=2, minutes=30))
    reminders_queue_task()
    assert any(":3h:" in key for key in reminder_keys())
    assert [m.to[0] for m in reminders_sent()].count(learner.email) == 1


def test_a_seminar_with_a_nearer_reminder_sends_nothing_yet(booked):
    seminar = booked.event.seminar
    seminar.reminder_offsets = "1"
    seminar.save()
    starting_in(booked.event, timedelta(hours=5))
    assert reminders_queue_task() == 0


def test_a_bad_stored_value_counts_as_the_site_default(booked):
    # Written around the form (a shell, a data import): the other events' reminders go on.
    from seminars.models import Seminar

    Seminar.objects.filter(pk=booked.event.seminar_id).update(reminder_offsets="soon")
    starting_in(booked.event, timedelta(minutes=30))
    assert reminders_queue_task() >= 1
    assert any(":1h:" in key for key in reminder_keys())


def test_the_site_default_comes_from_settings(booked, settings):
    settings.SEMINARS_REMINDER_OFFSETS_HOURS = [6]
    starting_in(booked.event, timedelta(hours=5))
    reminders_record()
    assert {key.split(":")[2] for key in reminder_keys()} == {"6h"}


def test_a_run_asks_a_constant_number_of_queries(seminar, editing_trainer, course):
    def events_with_bookings(count):
        OutboundEmail.objects.all().delete()
        SeminarEvent.objects.all().delete()
        for number in range(count):
            ev = SeminarEvent.objects.create(seminar=seminar, name=f"Event {number}", capacity=5)
            make_session(ev, timezone.now() + timedelta(minutes=30))
            user = make_user(f"learner{count}x{number}")
            enrol(user, course)
            Booking.objects.create(event=ev, user=user)
        with CaptureQueriesContext(connection) as queries:
            ids = reminders_record()
        assert len(ids) == 2 * count  # each learner and the editing trainer
        return len(queries)

    assert events_with_bookings(3) == events_with_bookings(15)


@pytest.mark.postgres
def test_two_runs_at_once_record_each_reminder_once(booked, learner, editing_trainer):
    starting_in(booked.event, timedelta(minutes=30))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(reminders_record())
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert OutboundEmail.objects.filter(kind="reminder").count() == 2
    assert sorted(OutboundEmail.objects.filter(kind="reminder").values_list("to", flat=True)) == sorted(
        [learner.email, editing_trainer.email]
    )


def test_the_booking_confirmation_says_how_and_when_to_join(virtual_event, learner):
    mail.outbox.clear()
    booking_create(event=virtual_event, user=learner, actor=learner)
    [message] = mail.outbox
    join = "http://testserver" + reverse("seminars:virtual_join", args=[virtual_event.sessions.get().pk])
    assert join in message.body
    assert join in message.alternatives[0][0]
    assert "The virtual room opens 15 minutes before the start of each session" in message.body
    assert MEETING_LINK not in everything_readable(message)


def test_the_seminar_form_saves_reminders_tidy(client, seminar, editing_trainer):
    client.force_login(editing_trainer)
    url = reverse("seminars:seminar_edit", args=[seminar.pk])
    response = client.post(url, {"name": seminar.name, "description": "", "reminder_offsets": "1,24"})
    assert response.status_code == 302
    seminar.refresh_from_db()
    assert seminar.reminder_offsets == "24, 1"


@pytest.mark.parametrize("typed", ["0", "721", "abc", "24;1", "1,2,3,4,5,6", "-1", "١٢", "99999999999999"])
def test_the_seminar_form_refuses_bad_reminders_at_the_field(client, seminar, editing_trainer, typed):
    client.force_login(editing_trainer)
    url = reverse("seminars:seminar_edit", args=[seminar.pk])
    response = client.post(url, {"name": "Renamed", "description": "", "reminder_offsets": typed})
    assert response.status_code == 200
    assert "Enter up to 5 whole numbers of hours from 1 to 720" in field_error(
        response.content.decode(), "reminder_offsets"
    )
    seminar.refresh_from_db()
    assert seminar.name != "Renamed" and seminar.reminder_offsets == ""
