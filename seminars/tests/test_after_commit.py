"""A saved change is saved, whatever happens next: email goes through a retried, send-once task.

The tests really commit (on_commit callbacks run as in production) and run
Celery tasks eagerly. A mail server that fails is a test email backend that
raises as smtplib does; a retry that Celery would deliver later is delivered by
the test (the task again, with the row's id) once the clock has moved on.
"""

import smtplib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from celery import signals as celery_signals
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse
from django.utils import timezone

from seminars import outbox
from seminars.email_messages import NoticeEmail
from seminars.models import Booking, Notification, OutboundEmail
from seminars.notifications import notify
from seminars.services.bookings import booking_create
from seminars.tasks import email_send_task, emails_requeue_task
from seminars.tests.conftest import connect, event_post_data
from virtualmeeting.models import VirtualMeeting

pytestmark = pytest.mark.django_db(transaction=True)

State = OutboundEmail.State


class FlakyEmailBackend(EmailBackend):
    """The locmem backend behind a mail server that refuses some recipients, or everything N more times."""

    refused: set[str] = set()
    outages = 0  # refuse every message this many more times

    def send_messages(self, messages):
        for message in messages:
            if FlakyEmailBackend.outages > 0:
                FlakyEmailBackend.outages -= 1
                raise ConnectionRefusedError(111, "Connection refused")
            if set(message.to) & FlakyEmailBackend.refused:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = "seminars.tests.test_after_commit.FlakyEmailBackend"
    FlakyEmailBackend.refused, FlakyEmailBackend.outages = set(), 0
    mail.outbox = []
    yield FlakyEmailBackend
    FlakyEmailBackend.refused, FlakyEmailBackend.outages = set(), 0


@pytest.fixture
def retries():
    """The countdowns of the retries Celery was asked for (its own task_retry signal)."""
    asked = []

    def record(sender=None, reason=None, **kwargs):
        asked.append(reason.when)

    celery_signals.task_retry.connect(record, weak=False)
    yield asked
    celery_signals.task_retry.disconnect(record)


def deliver(email_id):
    """Run the task as a worker runs a message: a retry it asks for is recorded, not raised.

    (Eagerly, Celery runs that retry at once; the row is not due yet, so it claims nothing.)
    """
    return email_send_task.apply(args=[email_id], throw=False)


def local(moment, zone):
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def to(address):
    return [m for m in mail.outbox if m.to == [address]]


def row_for(address, **filters):
    return OutboundEmail.objects.get(to=address, **filters)


def save_times(client, event, session, *, start, room):
    data = event_post_data(
        sessions=[
            {
                "id": session.pk,
                "start": local(start, session.time_zone),
                "finish": local(start + timedelta(hours=1), session.time_zone),
                "zone": session.time_zone,
                "room": room,
            }
        ],
        initial_forms=1,
        capacity=event.capacity,
    )
    return client.post(reverse("seminars:event_edit", args=[event.pk]), data)


@pytest.fixture
def virtual_event(client, event, editing_trainer, test_provider):
    """The event's session in a provider-backed room with its meeting made, and two booked learners."""
    connect(editing_trainer)
    client.force_login(editing_trainer)
    session = event.sessions.get()
    room = {"mode": "new", "name": "Online", "capacity": 20, "description": "", "virtual_kind": "test"}
    assert save_times(client, event, session, start=session.start, room=room).status_code == 302
    assert test_provider.calls("create") == 1
    return event


def test_moving_a_session_while_mail_fails_for_one_learner_saves_syncs_and_mails_the_others(
    client, virtual_event, learner, learner2, flaky_mail, test_provider, time_machine
):
    Booking.objects.create(event=virtual_event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=virtual_event, user=learner2, state=Booking.State.BOOKED)
    flaky_mail.refused = {learner.email}
    session = virtual_event.sessions.select_related("room").get()
    room = {"mode": "adhoc", "id": session.room.pk, "name": "Online", "capacity": 20, "description": ""}
    room["virtual_kind"], room["virtual_url"] = "test", ""
    later = session.start + timedelta(hours=2)

    response = save_times(client, virtual_event, session, start=later, room=room)

    assert response.status_code == 302
    assert virtual_event.sessions.get().start == later
    # The meeting's update was queued (and, eagerly, done).
    assert test_provider.calls("update") == 1
    assert VirtualMeeting.objects.get(present=True).status == "available"
    # The other learner has the new times; the refused one waits for a retry.
    assert [m.subject for m in to(learner2.email)] == ["New times: Fire wardens, Spring intake"]
    assert to(learner.email) == []
    failed = row_for(learner.email)
    assert (failed.state, failed.attempts) == (State.PENDING, 1)
    assert "SMTPServerDisconnected" in failed.last_error
    # Both learners have the in-app notice.
    assert Notification.objects.filter(subject__startswith="New times").count() == 2

    # The mail server is back; Celery delivers the retry a minute later.
    flaky_mail.refused = set()
    time_machine.move_to(timezone.now() + timedelta(seconds=61))
    deliver(failed.pk)
    [retried] = to(learner.email)
    assert retried.subject == "New times: Fire wardens, Spring intake"
    assert row_for(learner.email).state == State.SENT

    # Delivered again (a redelivered message, the sweep): nothing more is sent.
    time_machine.move_to(timezone.now() + timedelta(hours=1))
    deliver(failed.pk)
    assert emails_requeue_task() == 0
    assert len(to(learner.email)) == 1 and len(to(learner2.email)) == 1


def test_a_mail_server_down_for_an_hour_loses_nothing_and_sends_once(event, learner, flaky_mail, retries, time_machine):
    flaky_mail.outages = 5  # the first five attempts: 1 + 2 + 4 + 8 + 16 minutes, over half an hour
    time_machine.move_to(timezone.now(), tick=False)

    booking_create(event=event, user=learner, actor=learner)

    email = row_for(learner.email)
    assert (email.state, email.attempts) == (State.PENDING, 1)
    assert email.next_attempt_at == timezone.now() + timedelta(minutes=1)
    waited = timedelta()
    for attempt in range(2, 7):
        # Too early: the message claims nothing, sends nothing, and the row keeps its time.
        deliver(email.pk)
        assert OutboundEmail.objects.get(pk=email.pk).attempts == attempt - 1
        delay = timedelta(seconds=outbox.retry_delay(attempt - 1))
        waited += delay
        time_machine.move_to(timezone.now() + delay)
        deliver(email.pk)
        assert OutboundEmail.objects.get(pk=email.pk).attempts == attempt
    assert retries == [120, 240, 480, 960]  # Celery was asked for each retry, with the backoff
    assert waited > timedelta(minutes=30)
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == (State.SENT, 6, "")
    [message] = to(learner.email)
    assert message.subject.startswith("Booking confirmed")


def test_the_retry_schedule_covers_hours_then_gives_up(event, learner, flaky_mail, retries, time_machine):
    assert sum(outbox.RETRY_DELAYS) > 3 * 3600
    # Each countdown stays under Redis's visibility timeout (1 hour), or the message would be delivered twice.
    assert max(outbox.RETRY_DELAYS) < 3600
    assert outbox.retry_delay(outbox.MAX_ATTEMPTS) is None
    flaky_mail.outages = 1000
    time_machine.move_to(timezone.now(), tick=False)
    booking_create(event=event, user=learner, actor=learner)
    email = row_for(learner.email)
    for attempts in range(1, outbox.MAX_ATTEMPTS):
        time_machine.move_to(timezone.now() + timedelta(seconds=outbox.retry_delay(attempts)))
        deliver(email.pk)
    email.refresh_from_db()
    assert (email.state, email.attempts) == (State.FAILED, outbox.MAX_ATTEMPTS)
    assert "ConnectionRefusedError" in email.last_error
    assert len(retries) == outbox.MAX_ATTEMPTS - 2  # asked after each delivered attempt but the last
    assert to(learner.email) == []


def test_a_redelivered_task_does_not_send_twice(event, learner, flaky_mail):
    booking_create(event=event, user=learner, actor=learner)
    email = row_for(learner.email)
    assert email.state == State.SENT

    deliver(email.pk)
    deliver(email.pk)

    assert len(to(learner.email)) == 1


def test_a_worker_that_died_holding_the_claim_is_replaced_after_its_lease(event, learner, flaky_mail, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    flaky_mail.outages = 1
    booking_create(event=event, user=learner, actor=learner)
    email = row_for(learner.email)
    # A worker claims the due row, then dies before sending.
    time_machine.move_to(timezone.now() + timedelta(minutes=1))
    OutboundEmail.objects.filter(pk=email.pk).update(
        state=State.SENDING, next_attempt_at=timezone.now() + outbox.SEND_LEASE, attempts=2
    )

    # The message is redelivered while the lease runs: it is the other worker's.
    deliver(email.pk)
    assert to(learner.email) == []
    # The sweep leaves it alone until the lease has run out (and a grace period).
    time_machine.move_to(timezone.now() + outbox.SEND_LEASE)
    assert emails_requeue_task() == 0
    time_machine.move_to(timezone.now() + outbox.REQUEUE_GRACE)
    assert emails_requeue_task() == 1

    assert len(to(learner.email)) == 1
    assert OutboundEmail.objects.get(pk=email.pk).state == State.SENT
    assert emails_requeue_task() == 0


def test_an_email_not_queued_because_the_broker_was_down_is_sent_by_the_sweep(trainer, flaky_mail, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    # What the row looks like when queueing failed: recorded, never attempted.
    email_id = outbox.email_record(key="test:broker-down", kind="notification", to=trainer.email, params={})
    [note] = notify(users=[trainer], subject="Hello", body="Body")
    OutboundEmail.objects.filter(pk=email_id).update(params={"notification_id": note.pk})

    time_machine.move_to(timezone.now() + outbox.REQUEUE_GRACE)
    assert emails_requeue_task() == 1
    assert [m.subject for m in to(trainer.email)] == ["Hello"]


def test_each_notification_email_is_independent(trainer, editing_trainer, flaky_mail):
    flaky_mail.refused = {trainer.email}
    notify(
        users=[trainer, editing_trainer],
        subject="Virtual meeting creation failure",
        body="Body",
        url="/rooms/7/",
        email=NoticeEmail("meeting_failed", {"operation": "creation"}),
    )
    assert [m.subject for m in to(editing_trainer.email)] == ["Virtual meeting creation failure"]
    assert row_for(trainer.email).state == State.PENDING
    assert Notification.objects.count() == 2


@pytest.mark.parametrize("name", ["Spring\r\nBcc: victim@example.com", "Spring\nintake", "Spring\rintake\x1b"])
def test_a_line_break_in_a_name_gives_a_one_line_subject_not_a_lost_email(event, learner, flaky_mail, name):
    # Rows written before names were validated, or through the admin.
    event.seminar.name = name
    event.seminar.save()

    booking_create(event=event, user=learner, actor=learner)

    [message] = to(learner.email)
    subject = message.message()["Subject"]
    assert "\n" not in subject and "\r" not in subject and "\x1b" not in subject
    assert subject.startswith("Booking confirmed: Spring")
    assert message.message()["Bcc"] is None
    assert row_for(learner.email).state == State.SENT


def test_header_text_keeps_words_and_drops_control_characters():
    assert outbox.header_text("New times:\r\n Fire\twardens,\x85\u2028 Spring") == "New times: Fire wardens, Spring"
    assert outbox.header_text("Café 🎓 — ok") == "Café 🎓 — ok"


def test_every_email_carries_a_message_id_derived_from_its_key(event, learner, flaky_mail):
    booking_create(event=event, user=learner, actor=learner)
    [message] = to(learner.email)
    email = row_for(learner.email)
    assert email.key.startswith(f"booking:{email.params['booking_id']}:booked:")
    assert message.message()["Message-ID"] == outbox._build(email).extra_headers["Message-ID"]


def test_the_task_is_discovered_and_acknowledged_late():
    from lms.celery import app

    app.loader.import_default_modules()
    assert app.tasks["seminars.tasks.email_send"].acks_late
    assert "seminars.tasks.emails_requeue" in app.tasks
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "seminars.tasks.emails_requeue" in schedule


def test_a_site_admin_sends_failed_emails_again_once_the_server_is_fixed(
    client, event, learner, learner2, flaky_mail, time_machine
):
    from seminars.tests.conftest import make_user

    time_machine.move_to(timezone.now(), tick=False)
    flaky_mail.refused = {learner.email}
    booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=learner2)
    failed, sent = row_for(learner.email), row_for(learner2.email)
    OutboundEmail.objects.filter(pk=failed.pk).update(state=State.FAILED, attempts=outbox.MAX_ATTEMPTS)
    flaky_mail.refused = set()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:seminars_outboundemail_changelist"),
        {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert "1 email queued to be sent again." in response.content.decode()
    assert OutboundEmail.objects.get(pk=failed.pk).state == State.SENT
    assert len(to(learner.email)) == 1 and len(to(learner2.email)) == 1  # the sent one is not sent again


@pytest.mark.postgres
def test_workers_racing_for_one_email_send_it_once(trainer, flaky_mail):
    import threading

    from django.db import connection

    email_id = outbox.email_record(key="test:race", kind="notification", to=trainer.email, params={})
    [note] = notify(users=[trainer], subject="Hello", body="Body")
    OutboundEmail.objects.filter(pk=email_id).update(params={"notification_id": note.pk})
    barrier = threading.Barrier(6)
    results = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(outbox.email_send(email_id=email_id).state)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["not claimed"] * 5 + [State.SENT]
    assert len(to(trainer.email)) == 1
