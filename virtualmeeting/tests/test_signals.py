"""Signals sent after commit: a receiver that raises never breaks the sender nor the other receivers."""

import pytest
from django.db import transaction

from virtualmeeting import signals
from virtualmeeting.models import ProviderConnection, VirtualMeeting

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receivers():
    """A receiver that raises, connected before one that records what it heard."""
    heard = []

    def broken(sender, **kwargs):
        raise RuntimeError("a receiver with a bug")

    def listening(sender, **kwargs):
        heard.append(kwargs)

    connected = [signals.meeting_failed, signals.connection_revoked]
    for signal in connected:
        signal.connect(broken, weak=False, dispatch_uid="test-broken")
        signal.connect(listening, weak=False, dispatch_uid="test-listening")
    yield heard
    for signal in connected:
        signal.disconnect(dispatch_uid="test-broken")
        signal.disconnect(dispatch_uid="test-listening")


def test_a_raising_receiver_of_a_meeting_signal_breaks_neither_the_commit_nor_the_others(receivers, owner):
    meeting = VirtualMeeting(reference="test:1", provider="test", owner=owner)
    after = []

    with transaction.atomic():
        signals.send_meeting_signal_on_commit(signals.meeting_failed, meeting, operation="create")
        transaction.on_commit(lambda: after.append("next callback"))

    assert [heard["meeting"] for heard in receivers] == [meeting]
    assert receivers[0]["operation"] == "create"
    assert after == ["next callback"]


def test_a_raising_receiver_of_connection_revoked_breaks_neither_the_commit_nor_the_others(receivers, owner):
    connection = ProviderConnection.objects.get(user=owner)
    after = []

    with transaction.atomic():
        signals.send_connection_revoked_on_commit(connection)
        transaction.on_commit(lambda: after.append("next callback"))

    assert [heard["connection"] for heard in receivers] == [connection]
    assert after == ["next callback"]


class BrokenBroker(RuntimeError):
    pass


@pytest.fixture
def broken_broker(monkeypatch):
    """Sending any task raises something other than kombu's OperationalError."""
    from virtualmeeting import tasks

    sent = []

    def refuse(*args, **kwargs):
        sent.append(args)
        raise BrokenBroker("the broker answered with something unexpected")

    monkeypatch.setattr(tasks.meeting_sync, "apply_async", refuse)
    monkeypatch.setattr(tasks.meeting_check, "apply_async", refuse)
    return sent


def test_a_sync_that_cannot_be_queued_leaves_the_row_for_the_sweep_and_the_next_callbacks_run(broken_broker, owner):
    from virtualmeeting.services import meeting_checks_schedule, meeting_schedule

    meeting = VirtualMeeting.objects.create(reference="test:2", provider="test", owner=owner)
    after = []

    with transaction.atomic():
        meeting_schedule(meeting.pk)
        meeting_checks_schedule(ids=[meeting.pk])
        transaction.on_commit(lambda: after.append("next callback"))

    assert len(broken_broker) == 2  # both sends were tried, and both failed
    assert after == ["next callback"]
    assert VirtualMeeting.objects.get(pk=meeting.pk).queued_for is not None  # what the sweep looks at


def test_the_framework_tasks_are_registered_in_every_process():
    """Work is queued by name (virtualmeeting.queue): Celery knows each name without anyone importing tasks.py."""
    from celery import current_app

    from virtualmeeting import queue

    names = [queue.MEETING_SYNC, queue.MEETING_CHECK, queue.PARTICIPANTS_RECONCILE, queue.REGISTRANTS_SYNC]
    assert all(name in current_app.tasks for name in [*names, queue.MEETING_SWEEP])
