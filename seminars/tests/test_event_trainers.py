"""Trainers and facilitators of an event: who they are, how they are chosen on the event form, conflicts
between their sessions, and what they get (notices, reminders, My sessions, the calendar feed)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seminars.models import Enrolment, EventTrainer, Notification, OutboundEmail, Profile, SeminarEvent, Session
from seminars.receivers import notify_meeting_failed
from seminars.reminders import reminders_record
from seminars.selectors.courses import dashboard_trainer_sessions
from seminars.selectors.trainers import event_trainers, events_taught_by
from seminars.services.events import event_cancel, event_save
from seminars.tasks import minimum_warnings_task
from seminars.tests.conftest import enrol, event_post_data, field_error, make_session, make_user
from virtualmeeting.models import VirtualMeeting

START = datetime(2030, 3, 2, 10, 0, tzinfo=UTC)  # a Saturday
TRAINER, FACILITATOR = EventTrainer.Role.TRAINER, EventTrainer.Role.FACILITATOR


@pytest.fixture
def fay(course):
    """A second trainer of the course, who facilitates."""
    user = make_user("fay")
    enrol(user, course, Enrolment.Role.TRAINER)
    return user


@pytest.fixture
def timed_event(seminar, editing_trainer):
    """An event with one session at START (10:00-11:00 UTC)."""
    event = SeminarEvent.objects.create(seminar=seminar, name="Spring intake", created_by=editing_trainer)
    make_session(event, START)
    return event


@pytest.fixture
def other_event(seminar, trainer):
    """Another event of the seminar, 10:00-11:00 UTC on the same day, that Tom runs."""
    event = SeminarEvent.objects.create(seminar=seminar, name="Autumn intake")
    make_session(event, START)
    EventTrainer.objects.create(event=event, user=trainer, role=TRAINER)
    return event


def assign(event, user, role=TRAINER):
    return EventTrainer.objects.create(event=event, user=user, role=role)


def names(users):
    return sorted(user.username for user in users)


# ---- Who the trainers of an event are ------------------------------------------------------------


def test_without_assignments_the_course_staff_are_the_trainers(timed_event, editing_trainer, trainer, learner):
    trainers = event_trainers(timed_event)
    assert names(trainers) == ["edna", "tom"]
    assert {user.username: user.trainer_role for user in trainers} == {"edna": "Editing trainer", "tom": "Trainer"}


def test_assigned_trainers_replace_the_course_staff(timed_event, editing_trainer, trainer, fay, learner):
    assign(timed_event, trainer, TRAINER)
    assign(timed_event, fay, FACILITATOR)
    trainers = event_trainers(timed_event)
    assert {user.username: user.trainer_role for user in trainers} == {"fay": "Facilitator", "tom": "Trainer"}
    assert list(events_taught_by(fay)) == [timed_event]
    assert list(events_taught_by(editing_trainer)) == []


def test_someone_who_left_the_staff_stops_counting_and_nobody_left_means_the_course_staff(
    timed_event, editing_trainer, trainer, fay
):
    assign(timed_event, trainer)
    assign(timed_event, fay, FACILITATOR)
    Enrolment.objects.filter(user=fay).update(role=Enrolment.Role.LEARNER)
    assert names(event_trainers(timed_event)) == ["tom"]
    assert list(events_taught_by(fay)) == []

    Enrolment.objects.filter(user=trainer).delete()
    assert names(event_trainers(timed_event)) == ["edna"]  # the course's staff again


def test_inactive_accounts_are_not_trainers(timed_event, trainer, fay):
    assign(timed_event, trainer)
    assign(timed_event, fay)
    fay.is_active = False
    fay.save()
    assert names(event_trainers(timed_event)) == ["tom"]


# ---- The event form ---------------------------------------------------------------------------------


def trainer_field(user):
    return f"trainer_{user.pk}"


def edit_data(event, **extra):
    session = event.sessions.get()
    return event_post_data(
        name=event.name,
        sessions=[{"id": session.pk, "start": "2030-03-02T10:00", "finish": "2030-03-02T11:00"}],
        initial_forms=1,
        **extra,
    )


def test_the_form_offers_the_course_staff_only_and_says_so(client, timed_event, editing_trainer, trainer, learner):
    client.force_login(editing_trainer)
    html = client.get(reverse("seminars:event_edit", args=[timed_event.pk])).content.decode()
    assert f'name="{trainer_field(trainer)}"' in html and f'name="{trainer_field(editing_trainer)}"' in html
    assert f'name="{trainer_field(learner)}"' not in html
    assert "Only the course's trainers and editing trainers can be chosen" in html
    assert "Allow trainer conflicts" in html


def test_an_editor_assigns_a_trainer_and_a_facilitator_and_everyone_sees_them(
    client, timed_event, editing_trainer, trainer, fay, learner
):
    client.force_login(editing_trainer)
    data = edit_data(timed_event, **{trainer_field(trainer): TRAINER, trainer_field(fay): FACILITATOR})
    response = client.post(reverse("seminars:event_edit", args=[timed_event.pk]), data)
    assert response.status_code == 302
    assert dict(timed_event.trainers.values_list("user__username", "role")) == {"tom": TRAINER, "fay": FACILITATOR}

    client.force_login(learner)
    html = client.get(reverse("seminars:event", args=[timed_event.pk])).content.decode()
    assert "Tom (Trainer)" in html and "Fay (Facilitator)" in html

    # Edited again: the form shows the choices, and unassigning one keeps the other.
    client.force_login(editing_trainer)
    html = client.get(reverse("seminars:event_edit", args=[timed_event.pk])).content.decode()
    assert '<option value="facilitator" selected>' in html
    client.post(
        reverse("seminars:event_edit", args=[timed_event.pk]),
        edit_data(timed_event, **{trainer_field(fay): FACILITATOR}),
    )
    assert dict(timed_event.trainers.values_list("user__username", "role")) == {"fay": FACILITATOR}


def test_a_posted_learner_is_never_assigned(client, timed_event, editing_trainer, learner):
    client.force_login(editing_trainer)
    client.post(
        reverse("seminars:event_edit", args=[timed_event.pk]),
        edit_data(timed_event, **{trainer_field(learner): TRAINER}),
    )
    assert not timed_event.trainers.exists()


def test_the_service_refuses_someone_off_the_staff_and_a_bad_role(
    timed_event, seminar, editing_trainer, trainer, learner
):
    rows = [
        {"id": timed_event.sessions.get().pk, "start": START, "finish": START + timedelta(hours=1), "time_zone": "UTC"}
    ]
    with pytest.raises(ValidationError) as refused:
        event_save(
            event_or_none=timed_event,
            seminar=seminar,
            data={"name": "x", "capacity": 5, "sessions": rows, "trainers": {learner.pk: TRAINER}},
            actor=editing_trainer,
        )
    assert "Only the course's trainers and editing trainers" in str(refused.value.message_dict["trainers"])
    with pytest.raises(ValidationError) as refused:
        event_save(
            event_or_none=timed_event,
            seminar=seminar,
            data={"name": "x", "capacity": 5, "sessions": rows, "trainers": {trainer.pk: "boss"}},
            actor=editing_trainer,
        )
    assert refused.value.message_dict == {f"trainers.{trainer.pk}": ["Choose a role from the list."]}
    assert not timed_event.trainers.exists()
    assert SeminarEvent.objects.get(pk=timed_event.pk).name == "Spring intake"


# ---- Conflicts between a trainer's sessions ---------------------------------------------------


def post_times(client, event, start, finish, **extra):
    data = event_post_data(
        name=event.name,
        sessions=[{"id": event.sessions.get().pk, "start": start, "finish": finish}],
        initial_forms=1,
        **extra,
    )
    return client.post(reverse("seminars:event_edit", args=[event.pk]), data)


def test_a_double_booked_trainer_is_refused_with_who_what_and_when_in_the_viewers_zone(
    client, timed_event, other_event, editing_trainer, trainer
):
    Profile.objects.create(user=editing_trainer, time_zone="America/New_York")
    client.force_login(editing_trainer)
    response = post_times(
        client, timed_event, "2030-03-02T10:30", "2030-03-02T11:30", **{trainer_field(trainer): TRAINER}
    )

    assert response.status_code == 200
    html = response.content.decode()
    message = field_error(html, trainer_field(trainer))
    assert "Tom already runs Fire wardens, Autumn intake at an overlapping time" in message
    assert "Sat 2 Mar 2030, 05:00–06:00 EST (America/New_York)" in message
    assert "Nothing was saved" in html
    # Nothing half-saved: no assignment, and the session kept its old times.
    assert not timed_event.trainers.exists()
    assert timed_event.sessions.get().start == START


def test_allowing_trainer_conflicts_saves_and_is_not_asked_again(
    client, timed_event, other_event, editing_trainer, trainer
):
    client.force_login(editing_trainer)
    response = post_times(
        client,
        timed_event,
        "2030-03-02T10:30",
        "2030-03-02T11:30",
        **{trainer_field(trainer): TRAINER, "allow_trainer_conflicts": "on"},
    )
    assert response.status_code == 302
    assert list(timed_event.trainers.values_list("user", flat=True)) == [trainer.pk]

    # The conflict was accepted: a later edit (the details) does not ask about it again.
    response = post_times(
        client,
        timed_event,
        "2030-03-02T10:30",
        "2030-03-02T11:30",
        details="Bring a torch.",
        **{trainer_field(trainer): TRAINER},
    )
    assert response.status_code == 302
    assert SeminarEvent.objects.get(pk=timed_event.pk).details == "Bring a torch."


@pytest.mark.parametrize(
    ("start", "finish", "conflicts"),
    [
        ("2030-03-02T11:00", "2030-03-02T12:00", False),  # starts when the other ends
        ("2030-03-02T10:59", "2030-03-02T12:00", True),  # a minute before
        ("2030-03-02T09:00", "2030-03-02T10:00", False),  # ends when the other starts
        ("2030-03-02T09:00", "2030-03-02T10:01", True),  # a minute after
    ],
)
def test_sessions_that_touch_do_not_conflict(
    client, timed_event, other_event, editing_trainer, trainer, start, finish, conflicts
):
    client.force_login(editing_trainer)
    response = post_times(client, timed_event, start, finish, **{trainer_field(trainer): TRAINER})
    assert (response.status_code == 200) is conflicts
    assert timed_event.trainers.exists() is not conflicts


def test_moving_a_session_onto_a_trainers_other_session_is_refused(
    client, timed_event, other_event, editing_trainer, trainer
):
    client.force_login(editing_trainer)
    assert (
        post_times(
            client, timed_event, "2030-03-02T12:00", "2030-03-02T13:00", **{trainer_field(trainer): TRAINER}
        ).status_code
        == 302
    )
    response = post_times(
        client, timed_event, "2030-03-02T10:00", "2030-03-02T11:00", **{trainer_field(trainer): TRAINER}
    )
    assert "Tom already runs" in field_error(response.content.decode(), trainer_field(trainer))
    assert timed_event.sessions.get().start == START + timedelta(hours=2)


def test_no_conflict_with_a_cancelled_event_or_a_course_trainer_standing_in(
    client, timed_event, other_event, editing_trainer, trainer, seminar
):
    standing_in = SeminarEvent.objects.create(seminar=seminar, name="No trainers assigned")
    make_session(standing_in, START)  # Tom is one of its trainers only as course staff: no conflict
    event_cancel(event=other_event, actor=editing_trainer)
    client.force_login(editing_trainer)
    assert (
        post_times(
            client, timed_event, "2030-03-02T10:00", "2030-03-02T11:00", **{trainer_field(trainer): TRAINER}
        ).status_code
        == 302
    )


# ---- What the trainers get ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reminders_go_to_the_assigned_trainers_else_to_the_course_staff(
    timed_event, seminar, editing_trainer, trainer, fay
):
    unassigned = SeminarEvent.objects.create(seminar=seminar, name="Nobody assigned")
    make_session(unassigned, START)
    assign(timed_event, fay, FACILITATOR)

    with time_machine.travel(START - timedelta(minutes=30), tick=False):
        reminders_record()
    keys = sorted(OutboundEmail.objects.filter(kind="reminder").values_list("key", flat=True))
    mine = [key for key in keys if key.startswith(f"reminder:{timed_event.pk}:")]
    assert [key.split(":")[3:5] for key in mine] == [["trainer", str(fay.pk)]]
    theirs = [key.split(":")[4] for key in keys if key.startswith(f"reminder:{unassigned.pk}:")]
    assert sorted(theirs) == sorted([str(editing_trainer.pk), str(trainer.pk), str(fay.pk)])
    assert mine[0] == f"reminder:{timed_event.pk}:1h:trainer:{fay.pk}:{mine[0].rsplit(':', 1)[1]}"


@pytest.mark.django_db(transaction=True)
def test_a_trainer_unassigned_after_the_reminder_was_recorded_gets_nothing(timed_event, trainer, fay):
    from seminars.outbox import email_send

    assign(timed_event, fay, FACILITATOR)
    assign(timed_event, trainer)
    with time_machine.travel(START - timedelta(minutes=30), tick=False):
        ids = reminders_record()
        EventTrainer.objects.filter(user=fay).delete()
        mail.outbox.clear()
        for email_id in ids:
            email_send(email_id=email_id)
    assert [m.to for m in mail.outbox] == [[trainer.email]]


@pytest.mark.django_db(transaction=True)
def test_the_minimum_bookings_warning_goes_to_the_assigned_trainers(
    settings, timed_event, editing_trainer, trainer, fay
):
    settings.SEMINARS_MINIMUM_WARNING_HOURS = 48
    timed_event.minimum_bookings = 2
    timed_event.save()
    assign(timed_event, fay, FACILITATOR)
    with time_machine.travel(START - timedelta(hours=47), tick=False):
        minimum_warnings_task()
    assert list(Notification.objects.filter(subject__startswith="Few bookings").values_list("user", flat=True)) == [
        fay.pk
    ]
    assert [e.to for e in OutboundEmail.objects.filter(key__startswith="minimum_warning:")] == [fay.email]


def test_meeting_problems_go_to_the_assigned_trainers_and_the_meetings_owner(
    timed_event, editing_trainer, trainer, fay
):
    assign(timed_event, fay, FACILITATOR)
    session = timed_event.sessions.get()
    meeting = VirtualMeeting.objects.create(
        reference=f"seminars.event:{timed_event.pk}:session:{session.pk}:room:1", provider="test", owner=editing_trainer
    )
    from seminars.meetings import parse_reference

    assert parse_reference(meeting.reference) is not None, "the reference format changed"
    notify_meeting_failed(sender=None, meeting=meeting)
    told = Notification.objects.filter(subject="Virtual meeting creation failure").values_list("user", flat=True)
    assert sorted(told) == sorted([fay.pk, editing_trainer.pk])


def test_the_event_cancelled_notice_goes_to_the_assigned_trainers(timed_event, editing_trainer, trainer, fay):
    assign(timed_event, trainer)
    event_cancel(event=timed_event, actor=editing_trainer)
    told = Notification.objects.filter(subject__startswith="Event cancelled").values_list("user", flat=True)
    assert list(told) == [trainer.pk]


# ---- My sessions and the calendar feed ------------------------------------------------------------


def test_my_sessions_lists_the_sessions_a_facilitator_runs_with_the_role(
    client, timed_event, seminar, editing_trainer, fay
):
    assign(timed_event, fay, FACILITATOR)
    with time_machine.travel(START - timedelta(days=1), tick=False):
        client.force_login(fay)
        html = client.get(reverse("seminars:dashboard")).content.decode()
        assert "Sessions I run" in html and "Spring intake" in html and "Facilitator" in html
        # Edna, course staff but not assigned, no longer runs it.
        page = dashboard_trainer_sessions(user=editing_trainer)
        assert list(page.object_list) == []


def test_my_sessions_shows_the_course_role_for_events_without_trainers(timed_event, editing_trainer):
    with time_machine.travel(START - timedelta(days=1), tick=False):
        (session,) = dashboard_trainer_sessions(user=editing_trainer).object_list
    assert session.my_role == "Editing trainer"


def _events_for(seminar, trainer, count):
    for number in range(count):
        event = SeminarEvent.objects.create(seminar=seminar, name=f"Event {number}")
        make_session(event, START + timedelta(days=number))
        assign(event, trainer, FACILITATOR if number % 2 else TRAINER)


def test_my_sessions_asks_a_constant_number_of_queries(client, seminar, fay, learner):
    counts = []
    with time_machine.travel(START - timedelta(days=1), tick=False):
        client.force_login(fay)
        for size in (2, 6):
            SeminarEvent.objects.all().delete()
            _events_for(seminar, fay, size)
            client.get(reverse("seminars:dashboard"))  # the steady state: header facts cached
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("seminars:dashboard"))
            assert response.content.decode().count("Facilitator") == size // 2
            counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_calendar_feed_lists_the_sessions_the_trainer_runs(client, timed_event, editing_trainer, fay):
    from seminars.selectors.calendar import feed_entries

    assign(timed_event, fay, FACILITATOR)
    with time_machine.travel(START - timedelta(days=1), tick=False):
        assert [entry.event for entry in feed_entries(user=fay, now=START - timedelta(days=1))] == [timed_event]
        assert feed_entries(user=editing_trainer, now=START - timedelta(days=1)) == []


def test_sessions_of_a_new_event_are_checked_too(client, seminar, other_event, editing_trainer, trainer):
    client.force_login(editing_trainer)
    data = event_post_data(
        name="New one",
        sessions=[{"start": "2030-03-02T10:15", "finish": "2030-03-02T10:45"}],
        **{trainer_field(trainer): TRAINER},
    )
    response = client.post(reverse("seminars:event_add", args=[seminar.pk]), data)
    assert "Tom already runs" in field_error(response.content.decode(), trainer_field(trainer))
    assert not SeminarEvent.objects.filter(name="New one").exists()
    assert Session.objects.count() == 1
