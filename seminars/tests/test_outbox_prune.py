"""Old sent emails are deleted from the outbox; recent ones, pending ones and failed ones stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lms.celery import app
from seminars.models import OutboundEmail
from seminars.outbox import emails_prune

State = OutboundEmail.State
KEEP_DAYS = 90


@pytest.fixture(autouse=True)
def _keep(settings):
    settings.SEMINARS_OUTBOX_KEEP_DAYS = KEEP_DAYS


def email(key, state, age):
    row = OutboundEmail.objects.create(key=key, kind="notification", to="a@example.com", state=state)
    OutboundEmail.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


@pytest.mark.django_db
def test_sent_and_skipped_emails_older_than_the_keep_time_go_the_rest_stay():
    old = timedelta(days=KEEP_DAYS, seconds=1)
    young = timedelta(days=KEEP_DAYS, seconds=-60)
    email("sent-old", State.SENT, old)
    email("skipped-old", State.SKIPPED, old)
    kept = {
        email("sent-young", State.SENT, young).key,
        email("failed-old", State.FAILED, old).key,
        email("pending-old", State.PENDING, old).key,
        email("sending-old", State.SENDING, old).key,
    }

    assert emails_prune() == 2
    assert set(OutboundEmail.objects.values_list("key", flat=True)) == kept


@pytest.mark.django_db
def test_pruning_goes_in_batches_until_nothing_old_is_left():
    for number in range(7):
        email(f"sent-{number}", State.SENT, timedelta(days=KEEP_DAYS + 1))

    assert emails_prune(batch=3) == 7
    assert not OutboundEmail.objects.exists()


def test_beat_prunes_once_a_day():
    entry = app.conf.beat_schedule["seminars-emails-prune"]
    assert entry["task"] == "seminars.tasks.emails_prune"
    assert entry["schedule"] == 24 * 3600
    assert "seminars.tasks.emails_prune" in app.tasks
