"""In-app notifications that are also emailed, and the "event times changed" notice."""

import pytest
from django.core import mail
from django.db import transaction

from seminars.email_messages import NoticeEmail
from seminars.models import Notification, SeminarEvent
from seminars.notifications import notify, notify_event_times_changed
from seminars.tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


# The email of a notice comes from its type's template (seminars.email_types), filled in with these values.
FAILURE = NoticeEmail(
    "meeting_failed",
    {
        "operation": "creation",
        "session": "Tue 3 Mar 2026, 09:00",
        "room_name": "Room 7",
        "room_url": "http://testserver/rooms/7/",
        "meeting_status": "Not created.",
    },
)


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


def test_notify_creates_a_notification_and_emails_each_user(trainer, editing_trainer, outbox):
    rows = notify(
        users=[trainer, editing_trainer],
        subject="Virtual meeting creation failure",
        body="Sessions:\n- Tue 3 Mar 2026, 09:00",
        url="/rooms/7/",
        email=FAILURE,
    )

    assert len(rows) == 2
    stored = Notification.objects.order_by("user__username")
    assert [(n.user.username, n.subject, n.url, n.read_at) for n in stored] == [
        ("edna", "Virtual meeting creation failure", "/rooms/7/", None),
        ("tom", "Virtual meeting creation failure", "/rooms/7/", None),
    ]
    assert sorted(m.to[0] for m in outbox) == [editing_trainer.email, trainer.email]
    assert all(len(m.to) == 1 for m in outbox)  # nobody sees the other recipients
    assert outbox[0].subject == "Virtual meeting creation failure"
    assert "Session: Tue 3 Mar 2026, 09:00\nRoom: Room 7" in outbox[0].body
    assert "http://testserver/rooms/7/" in outbox[0].body


def test_notify_emails_only_after_the_transaction_commits(trainer, outbox):
    with transaction.atomic():
        notify(users=[trainer], subject="Hello", body="Body", url="", email=FAILURE)
        assert outbox == []
    assert [m.to for m in outbox] == [[trainer.email]]


def test_notify_sends_nothing_when_the_transaction_rolls_back(trainer, outbox):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        notify(users=[trainer], subject="Hello", body="Body", url="", email=FAILURE)
        raise Abort
    assert outbox == []
    assert not Notification.objects.exists()


def test_notify_without_email(trainer, outbox):
    notify(users=[trainer], subject="Only in the app", body="", url="/x/")
    assert Notification.objects.filter(user=trainer, subject="Only in the app").exists()
    assert outbox == []


def test_users_without_an_address_get_only_the_notification(db, outbox):
    nobody = make_user("nobody")
    nobody.email = ""
    nobody.save()
    notify(users=[nobody], subject="Hi", body="Body", url="")
    assert Notification.objects.filter(user=nobody).count() == 1
    assert outbox == []


def test_times_changed_moves_the_event_forward_and_notifies_booked_learners(event, learner, outbox):
    from seminars.services.bookings import booking_create

    booking_create(event=event, user=learner, actor=learner)
    before = SeminarEvent.objects.get(pk=event.pk).updated_at
    outbox.clear()

    notify_event_times_changed(event=event)

    assert SeminarEvent.objects.get(pk=event.pk).updated_at > before
    assert [m.to for m in outbox] == [[learner.email]]
    assert Notification.objects.filter(user=learner, subject__startswith="New times").count() == 1
