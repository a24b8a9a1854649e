"""The sync: lifecycle matrix, coalescing, idempotency, recovery, failures (through the test provider)."""

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from virtualmeeting import signals
from virtualmeeting.errors import MeetingUnavailable
from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.providers.base import MeetingSpec
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.selectors import meeting_status_text, meetings_by_reference
from virtualmeeting.services import (
    meeting_host_url,
    meeting_mark_remote_changed,
    meeting_mark_remote_gone,
    meeting_remove,
    meeting_retry_now,
    meetings_requeue,
)
from virtualmeeting.sync import backoff_delay, claim, meeting_sweep
from virtualmeeting.tests.conftest import START, connect, make_user
from virtualmeeting.tests.helpers import fresh, put, run

Status = VirtualMeeting.Status


def calls():
    return {
        op: TestProvider.calls(op) for op in ("create", "update", "delete", "find", "get") if TestProvider.calls(op)
    }


# --- the lifecycle matrix ----------------------------------------------------------------------------
def test_put_creates_exactly_one_meeting(owner):
    meeting = put(owner, topic="Safety: Monday")
    assert meeting.status == Status.PENDING

    assert run(meeting) == ["create"]

    meeting = fresh(meeting)
    assert calls() == {"create": 1}
    [remote] = TestProvider.meetings()
    assert meeting.status == Status.AVAILABLE
    assert meeting.remote_id == remote["remote_id"]
    assert meeting.join_url == remote["join_url"]
    assert meeting.synced_version == meeting.desired_version == 1
    assert remote["topic"] == "Safety: Monday"
    assert remote["timezone"] == "Europe/London"
    assert remote["duration_minutes"] == 60
    assert remote["marker"] == meeting.marker


def test_changed_put_sends_one_update_with_only_the_change(owner):
    meeting = put(owner)
    run(meeting)

    meeting = put(owner, topic="Renamed event: Session 1")
    assert meeting.status == Status.UPDATING
    assert meeting.desired_version == 2
    assert run(meeting) == ["update"]

    assert calls() == {"create": 1, "update": 1}
    assert TestProvider.last_update_fields() == ["topic"]
    assert TestProvider.meetings()[0]["topic"] == "Renamed event: Session 1"
    assert fresh(meeting).status == Status.AVAILABLE


def test_unchanged_put_makes_no_call(owner):
    meeting = put(owner)
    run(meeting)

    meeting = put(owner)

    assert meeting.desired_version == 1
    assert meeting.status == Status.AVAILABLE
    assert run(meeting) == ["skipped"]
    assert calls() == {"create": 1}


def test_remove_deletes_once(owner):
    meeting = put(owner)
    run(meeting)

    meeting = meeting_remove(reference="ref:1")
    assert meeting.status == Status.DELETING
    assert run(meeting) == ["delete"]

    meeting = fresh(meeting)
    assert calls() == {"create": 1, "delete": 1}
    assert TestProvider.meetings() == []
    assert meeting.status == Status.DELETED
    assert meeting.remote_id == ""
    assert run(meeting) == ["skipped"]


def test_put_then_remove_before_the_worker_makes_no_call(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        put(owner)
        meeting = meeting_remove(reference="ref:1")

    assert fresh(meeting).status == Status.DELETED
    assert calls() == {}
    assert TestProvider.meetings() == []


def test_several_puts_coalesce_into_one_call(owner):
    put(owner, topic="First")
    put(owner, topic="Second", minutes=90)
    meeting = put(owner, topic="Third", minutes=90, zone="Asia/Tokyo")

    assert run(meeting) == ["create"]

    assert calls() == {"create": 1}
    [remote] = TestProvider.meetings()
    assert (remote["topic"], remote["duration_minutes"], remote["timezone"]) == ("Third", 90, "Asia/Tokyo")


def test_several_edits_of_an_existing_meeting_make_one_update(owner):
    meeting = put(owner)
    run(meeting)
    put(owner, topic="A")
    put(owner, topic="B", start=START + timedelta(hours=1))

    assert run(meeting) == ["update"]

    assert calls() == {"create": 1, "update": 1}
    assert sorted(TestProvider.last_update_fields()) == ["start", "topic"]


def test_remove_then_put_again_keeps_the_meeting(owner):
    meeting = put(owner)
    run(meeting)
    meeting_remove(reference="ref:1")
    put(owner, topic="Back again")

    assert run(meeting) == ["update"]
    assert calls() == {"create": 1, "update": 1}
    assert len(TestProvider.meetings()) == 1


def test_put_after_a_delete_creates_a_new_meeting(owner):
    meeting = put(owner)
    run(meeting)
    meeting_remove(reference="ref:1")
    run(meeting)

    meeting = put(owner)
    assert meeting.status == Status.PENDING
    assert run(meeting) == ["create"]
    assert calls() == {"create": 2, "delete": 1}
    assert len(TestProvider.meetings()) == 1


def test_put_on_commit_queues_the_task(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        meeting = put(owner)
    assert fresh(meeting).status == Status.AVAILABLE
    assert calls() == {"create": 1}


def test_put_validates_its_input(owner):
    with pytest.raises(ValueError, match="finish after"):
        put(owner, minutes=0)
    with pytest.raises(ValueError, match="time zone"):
        put(owner, zone="Mars/Olympus")
    with pytest.raises(ValueError, match="provider"):
        from virtualmeeting.services import meeting_put

        meeting_put(
            reference="x",
            provider="nope",
            owner=owner,
            topic="t",
            start=START,
            finish=START + timedelta(hours=1),
            time_zone="UTC",
        )
    assert VirtualMeeting.objects.count() == 0


# --- idempotency ---------------------------------------------------------------------------------------------
def test_duplicate_delivery_makes_one_create(owner):
    meeting = put(owner)
    run(meeting)
    run(meeting)
    run(meeting)
    assert calls() == {"create": 1}


def test_a_claimed_meeting_is_left_to_its_worker(owner):
    meeting = put(owner)
    token = claim(meeting.pk)
    assert token

    assert run(meeting) == ["skipped"]  # a second, concurrent delivery
    assert claim(meeting.pk) is None
    assert calls() == {}


def test_ambiguous_create_is_found_by_its_marker_not_sent_again(owner):
    TestProvider.fail_next("create", "ambiguous")
    meeting = put(owner)

    assert run(meeting) == ["retry"]
    meeting = fresh(meeting)
    assert meeting.maybe_created is True
    assert meeting.remote_id == ""
    assert meeting.status == Status.PENDING
    assert "lost" in meeting.last_error

    with time_machine.travel(meeting.next_attempt_at + timedelta(seconds=1)):
        assert run(meeting) == ["find (adopted)"]

    meeting = fresh(meeting)
    [remote] = TestProvider.meetings()
    assert calls() == {"create": 1, "find": 1}
    assert meeting.remote_id == remote["remote_id"]
    assert meeting.status == Status.AVAILABLE
    assert meeting.maybe_created is False


def test_killed_worker_meeting_is_adopted_by_the_next_run(owner, django_capture_on_commit_callbacks):
    """The worker claimed the row, sent the create (applied remotely) and died before the answer."""
    meeting = put(owner, topic="Before the crash")
    token = claim(meeting.pk)
    VirtualMeeting.objects.filter(pk=meeting.pk).update(
        maybe_created=True,
        inflight_version=1,
        inflight_spec={
            "topic": "Before the crash",
            "start": START.isoformat(),
            "finish": (START + timedelta(hours=1)).isoformat(),
            "timezone": "Europe/London",
            "agenda": "",
        },
        status=Status.CREATING,
    )
    from virtualmeeting.registry import get_provider

    get_provider("test").create_meeting(connection=owner.meeting_connections.get(), spec=MeetingSpec.of(fresh(meeting)))
    assert token
    # Meanwhile the trainer renamed the session.
    put(owner, topic="After the crash")

    with django_capture_on_commit_callbacks(execute=True):
        assert meeting_sweep() == 0  # the dead worker's claim still holds
    assert calls() == {"create": 1}

    with time_machine.travel(timezone.now() + timedelta(minutes=6)), django_capture_on_commit_callbacks(execute=True):
        assert meeting_sweep() == 1

    meeting = fresh(meeting)
    [remote] = TestProvider.meetings()
    assert calls() == {"create": 1, "find": 1, "update": 1}
    assert meeting.remote_id == remote["remote_id"]
    assert remote["topic"] == "After the crash"
    assert TestProvider.last_update_fields() == ["topic"]
    assert meeting.status == Status.AVAILABLE


def test_a_lost_create_that_never_happened_is_created_once(owner):
    meeting = put(owner)
    VirtualMeeting.objects.filter(pk=meeting.pk).update(maybe_created=True, inflight_version=1)

    assert run(meeting) == ["find (none)", "create"]
    assert calls() == {"find": 1, "create": 1}
    assert len(TestProvider.meetings()) == 1


def test_remove_during_an_uncertain_create_deletes_what_was_made(owner):
    TestProvider.fail_next("create", "ambiguous")
    meeting = put(owner)
    run(meeting)
    meeting = meeting_remove(reference="ref:1")
    assert meeting.status == Status.DELETING

    assert run(meeting) == ["find (adopted)", "delete"]
    assert TestProvider.meetings() == []
    assert fresh(meeting).status == Status.DELETED


# --- the sweep -------------------------------------------------------------------------------------------------
def test_sweep_recovers_a_lost_message(owner, django_capture_on_commit_callbacks):
    meeting = put(owner)  # its on_commit task is never delivered (not captured)
    assert calls() == {}
    with django_capture_on_commit_callbacks(execute=False):
        assert meeting_sweep() == 0  # the task may still be on its way

    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=False):
            assert meeting_sweep() == 1
            assert meeting_sweep() == 0  # no duplicate while the re-queued task is on its way
        with django_capture_on_commit_callbacks(execute=True):
            assert meeting_sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=6)), django_capture_on_commit_callbacks(execute=True):
        assert meeting_sweep() == 1

    assert fresh(meeting).status == Status.AVAILABLE
    assert calls() == {"create": 1}


def test_sweep_leaves_synced_and_not_yet_due_meetings_alone(owner, django_capture_on_commit_callbacks):
    done = put(owner, "ref:done")
    run(done)
    TestProvider.fail_next("create", "transient")
    later = put(owner, "ref:later")
    run(later)

    with django_capture_on_commit_callbacks(execute=True):
        assert meeting_sweep() == 0
    assert calls() == {"create": 2}


# --- failures ------------------------------------------------------------------------------------------------
def test_backoff_delay_grows_exponentially_with_jitter():
    rng = random.Random(7)
    for attempts, full in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (20, 3600)]:
        delays = [backoff_delay(attempts, rng=rng) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jitter


def test_transient_errors_back_off_then_succeed(owner):
    TestProvider.fail_next("create", "transient", times=3)
    meeting = put(owner)
    waits = []
    for attempt in (1, 2, 3):
        before = timezone.now()
        with time_machine.travel(fresh(meeting).next_attempt_at + timedelta(seconds=1)):
            before = timezone.now()
            assert run(meeting) == ["retry"]
        meeting = fresh(meeting)
        assert meeting.attempts == attempt
        assert meeting.status == Status.PENDING
        assert meeting.last_error == "Test Meeting is temporarily unavailable."
        assert meeting.maybe_created is False
        waits.append((meeting.next_attempt_at - before).total_seconds())
        assert run(meeting) == ["skipped"]  # not due yet

    full = [30, 60, 120]
    assert all(f / 2 - 1 <= w <= f + 1 for w, f in zip(waits, full, strict=True))
    with time_machine.travel(meeting.next_attempt_at + timedelta(seconds=1)):
        assert run(meeting) == ["create"]
    meeting = fresh(meeting)
    assert meeting.status == Status.AVAILABLE
    assert meeting.attempts == 0
    assert meeting.last_error == ""
    assert calls() == {"create": 4}


def test_transient_errors_fail_after_the_last_attempt(owner, settings, received, django_capture_on_commit_callbacks):
    settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "MAX_ATTEMPTS": 2}
    TestProvider.fail_next("create", "transient", times=2)
    meeting = put(owner)
    run(meeting)
    with time_machine.travel(fresh(meeting).next_attempt_at + timedelta(seconds=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert run(meeting) == ["failed"]
    meeting = fresh(meeting)
    assert meeting.status == Status.FAILED
    assert "kept failing" in meeting.last_error
    assert [name for name, _ in received] == ["meeting_failed"]


@time_machine.travel(datetime(2030, 1, 10, 21, 0, tzinfo=UTC), tick=False)
def test_daily_limit_waits_until_midnight_utc(owner, received, django_capture_on_commit_callbacks):
    TestProvider.fail_next("create", "rate_limited_daily")
    meeting = put(owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["waiting"]

    meeting = fresh(meeting)
    assert meeting.status == Status.WAITING
    assert meeting.waiting_daily_limit is True
    assert meeting.next_attempt_at == datetime(2030, 1, 11, 0, 0, tzinfo=UTC)
    assert meeting.last_error == "Waiting for Test Meeting's daily limit, resumes at 00:00 UTC."
    assert meeting_status_text(meeting) == "Waiting for Test Meeting's daily limit, resumes at 00:00 UTC (in 3 h)"
    assert [name for name, _ in received] == ["meeting_waiting"]

    with time_machine.travel(datetime(2030, 1, 10, 23, 59, 30, tzinfo=UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert meeting_sweep() == 0
            assert run(meeting) == ["skipped"]
        put(owner, topic="Edited while waiting")  # a save does not jump the queue either
        assert meetings_requeue(references=["ref:1"]) == 0
        assert fresh(meeting).status == Status.WAITING
        assert run(meeting) == ["skipped"]
    assert calls() == {"create": 1}

    with time_machine.travel(datetime(2030, 1, 11, 0, 0, 1, tzinfo=UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert meeting_sweep() == 1
    meeting = fresh(meeting)
    assert meeting.status == Status.AVAILABLE
    assert meeting.waiting_daily_limit is False
    assert calls() == {"create": 2}
    assert TestProvider.meetings()[0]["topic"] == "Edited while waiting"


def test_short_rate_limit_waits_the_given_time(owner):
    TestProvider.fail_next("update", "rate_limited", seconds=2)
    meeting = put(owner)
    run(meeting)
    put(owner, topic="Changed")
    before = timezone.now()

    assert run(meeting) == ["waiting"]

    meeting = fresh(meeting)
    assert meeting.status == Status.WAITING
    assert meeting.waiting_daily_limit is False
    assert 1 <= (meeting.next_attempt_at - before).total_seconds() <= 3
    assert meeting_status_text(meeting).startswith("Waiting for Test Meeting's rate limit, resumes at ")
    with time_machine.travel(meeting.next_attempt_at + timedelta(seconds=1)):
        assert run(meeting) == ["update"]
    assert fresh(meeting).status == Status.AVAILABLE


def test_auth_revoked_stops_the_owners_meetings_and_asks_to_reconnect(
    owner, received, django_capture_on_commit_callbacks
):
    first = put(owner, "ref:1")
    second = put(owner, "ref:2")
    other_owner = make_user("ann")
    connect(other_owner)
    others = put(other_owner, "ref:3")
    TestProvider.fail_next("create", "auth_revoked")

    with django_capture_on_commit_callbacks(execute=True):
        assert run(first) == ["failed (reconnect)"]

    connection = ProviderConnection.objects.get(user=owner)
    assert connection.status == ProviderConnection.Status.REVOKED
    assert connection.access_token == connection.refresh_token == ""
    for meeting in (fresh(first), fresh(second)):
        assert meeting.status == Status.FAILED
        assert "Tom Trainer must connect their Test Meeting account again" in meeting.last_error
        assert meeting_status_text(meeting).startswith("Failed: Tom Trainer's Test Meeting connection no longer works")
    assert fresh(others).status == Status.PENDING
    names = sorted(name for name, _ in received)
    assert names == ["connection_revoked", "meeting_failed", "meeting_failed"]

    # A sync with no usable connection fails at once, with no call.
    assert run(second) == ["skipped"]
    assert calls() == {"create": 1}

    # Reconnecting resumes them.
    with django_capture_on_commit_callbacks(execute=True):
        connect(owner)
    assert fresh(first).status == Status.AVAILABLE
    assert fresh(second).status == Status.AVAILABLE


def test_meeting_of_an_owner_without_connection_fails_without_a_call(db, received, django_capture_on_commit_callbacks):
    nobody = make_user("nina")
    meeting = put(nobody)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["failed"]
    meeting = fresh(meeting)
    assert meeting.status == Status.FAILED
    assert "must connect their Test Meeting account" in meeting.last_error
    assert calls() == {}
    assert [name for name, _ in received] == ["meeting_failed"]


def test_permanent_error_fails_and_save_changes_requeues(owner, received, django_capture_on_commit_callbacks):
    TestProvider.fail_next("create", "permanent")
    meeting = put(owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["failed"]

    meeting = fresh(meeting)
    assert meeting.status == Status.FAILED
    assert meeting_status_text(meeting) == (
        "Failed: Test Meeting refused the meeting settings. "
        "Check the session's details, then use Retry now or save the event again."
    )
    assert [name for name, m in received] == ["meeting_failed"]
    assert received[0][1].pk == meeting.pk
    assert run(meeting) == ["skipped"]  # failed meetings wait for a person

    # "Save changes" with no edits re-queues it.
    meeting = put(owner)
    assert meeting.status == Status.PENDING
    assert meeting.desired_version == 1
    assert run(meeting) == ["create"]
    assert fresh(meeting).status == Status.AVAILABLE


def test_requeue_and_retry_now(owner):
    TestProvider.fail_next("create", "permanent")
    failed = put(owner, "ref:1")
    run(failed)
    TestProvider.fail_next("create", "transient")
    retrying = put(owner, "ref:2")
    run(retrying)
    assert fresh(retrying).next_attempt_at > timezone.now()

    assert meetings_requeue(references=["ref:1", "ref:2", "ref:unknown"]) == 2
    assert fresh(failed).status == Status.PENDING
    assert fresh(failed).attempts == 0
    assert run(retrying) == ["create"]
    TestProvider.fail_next("create", "permanent")
    run(failed)
    assert fresh(failed).status == Status.FAILED

    meeting_retry_now(meeting=failed)
    assert run(failed) == ["create"]
    assert fresh(failed).status == Status.AVAILABLE


def test_signals_wait_for_commit(owner, received):
    meeting = put(owner)
    run(meeting)  # inside the test's transaction: nothing committed, nothing sent
    assert received == []


def test_available_signal_after_create(owner, received, django_capture_on_commit_callbacks):
    meeting = put(owner)
    with django_capture_on_commit_callbacks(execute=True):
        run(meeting)
    assert [(name, m.pk, m.status) for name, m in received] == [("meeting_available", meeting.pk, Status.AVAILABLE)]


# --- remote changes ----------------------------------------------------------------------------------------------
def test_meeting_deleted_at_the_provider_is_recreated(owner, received, django_capture_on_commit_callbacks):
    meeting = put(owner)
    run(meeting)
    old_id = fresh(meeting).remote_id
    TestProvider.remote_delete(old_id)

    assert meeting_mark_remote_gone(provider="test", remote_id=old_id) == 1
    meeting = fresh(meeting)
    assert meeting.status == Status.PENDING
    assert meeting.remote_id == ""
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create"]

    meeting = fresh(meeting)
    assert meeting.remote_id not in ("", old_id)
    assert meeting.recreated_at is not None
    assert {name for name, _ in received} == {"meeting_recreated", "meeting_available"}


def test_update_of_a_meeting_gone_at_the_provider_recreates_it(owner):
    meeting = put(owner)
    run(meeting)
    TestProvider.remote_delete(fresh(meeting).remote_id)
    put(owner, topic="Moved")

    assert run(meeting) == ["gone", "create"]
    assert calls() == {"create": 2, "update": 1}
    [remote] = TestProvider.meetings()
    assert remote["topic"] == "Moved"
    assert fresh(meeting).recreated_at is not None


def test_meeting_edited_at_the_provider_is_restored(owner):
    meeting = put(owner, topic="Ours")
    run(meeting)
    remote_id = fresh(meeting).remote_id
    TestProvider.remote_edit(remote_id, topic="Edited by hand")

    assert meeting_mark_remote_changed(provider="test", remote_id=remote_id) == 1
    assert run(meeting) == ["get", "update"]

    assert TestProvider.meetings()[0]["topic"] == "Ours"
    everything = ["agenda", "duration_minutes", "registration", "start", "timezone", "topic"]
    assert sorted(TestProvider.last_update_fields()) == everything
    assert fresh(meeting).status == Status.AVAILABLE


def test_change_event_for_our_own_update_makes_no_update(owner):
    meeting = put(owner)
    run(meeting)
    meeting_mark_remote_changed(provider="test", remote_id=fresh(meeting).remote_id)

    assert run(meeting) == ["get", "in sync"]
    assert calls() == {"create": 1, "get": 1}


def test_meeting_handed_to_another_owner_moves_accounts(owner):
    meeting = put(owner)
    run(meeting)
    new_owner = make_user("ann")
    connect(new_owner)

    put(new_owner)
    # Made for the new owner first, then deleted where it was (test_moves.py: the guarantees of a move).
    assert run(meeting) == ["create", "delete (owner changed)"]

    [remote] = TestProvider.meetings()
    assert remote["account"] == "acct-ann"
    assert fresh(meeting).remote_owner == new_owner


# --- host URL ------------------------------------------------------------------------------------------------------
def test_host_url_is_fresh_and_only_for_the_owner(owner, outsider):
    meeting = put(owner)
    run(meeting)
    meeting = fresh(meeting)

    first = meeting_host_url(meeting=meeting, user=owner)
    second = meeting_host_url(meeting=meeting, user=owner)
    assert first.startswith(f"https://meet.test.invalid/s/{meeting.remote_id}")
    assert first != second
    assert TestProvider.calls("host_url") == 2
    with pytest.raises(PermissionDenied):
        meeting_host_url(meeting=meeting, user=outsider)


def test_host_url_of_a_meeting_deleted_at_the_provider_recreates_it(owner):
    meeting = put(owner)
    run(meeting)
    meeting = fresh(meeting)
    TestProvider.remote_delete(meeting.remote_id)

    with pytest.raises(MeetingUnavailable, match="deleted in Test Meeting"):
        meeting_host_url(meeting=meeting, user=owner)

    meeting = fresh(meeting)
    assert meeting.status == Status.PENDING
    assert meeting.remote_id == ""
    assert meeting_status_text(meeting) == "Updating virtual room. Please wait..."
    assert run(meeting) == ["create"]
    assert fresh(meeting).recreated_at is not None


def test_host_url_before_the_meeting_exists(owner):
    meeting = put(owner)
    with pytest.raises(MeetingUnavailable, match="not ready"):
        meeting_host_url(meeting=meeting, user=owner)


# --- selectors -------------------------------------------------------------------------------------------------------
def test_meetings_by_reference_is_one_query(owner, django_assert_num_queries):
    put(owner, "ref:a")
    put(owner, "ref:b")
    meetings_by_reference(["ref:x"])  # on PostgreSQL: prepared on this connection once
    with django_assert_num_queries(1):
        found = meetings_by_reference(["ref:a", "ref:b", "ref:c"])
    assert sorted(found) == ["ref:a", "ref:b"]


def test_meetings_by_reference_reads_every_field_as_the_orm_does(owner):
    """The hand-written statement (PostgreSQL) gives the same meetings, field by field, secrets decrypted."""
    from virtualmeeting.models import VirtualMeeting

    run(put(owner, "ref:a"))  # available: with its links and remote id
    put(owner, "ref:b")
    found = meetings_by_reference(["ref:a", "ref:b", "ref:none"])
    assert sorted(found) == ["ref:a", "ref:b"] and found["ref:a"].join_url
    for reference, meeting in found.items():
        expected = VirtualMeeting.objects.get(reference=reference)
        for field in VirtualMeeting._meta.concrete_fields:
            assert getattr(meeting, field.attname) == getattr(expected, field.attname), (reference, field.name)
    assert meetings_by_reference([]) == {}


def test_status_texts(owner):
    meeting = put(owner)
    assert meeting_status_text(meeting) == "Updating virtual room. Please wait..."
    run(meeting)
    assert meeting_status_text(fresh(meeting)) == "Virtual room is ready."
    meeting = meeting_remove(reference="ref:1")
    assert meeting_status_text(meeting) == "Removing virtual room. Please wait..."


@pytest.mark.parametrize(
    ("operation", "prepare"),
    [
        ("create", lambda owner: put(owner)),
        ("update", lambda owner: (run(put(owner)), put(owner, topic="Changed"))[1]),
        ("delete", lambda owner: (run(put(owner)), meeting_remove(reference="ref:1"))[1]),
    ],
)
def test_failed_signal_names_the_operation(owner, operation, prepare, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, meeting, operation, **kwargs):
        seen.append((meeting.pk, operation))

    signals.meeting_failed.connect(receiver)
    try:
        meeting = prepare(owner)
        TestProvider.fail_next(operation, "permanent")
        with django_capture_on_commit_callbacks(execute=True):
            assert run(meeting) == ["failed"]
    finally:
        signals.meeting_failed.disconnect(receiver)
    assert seen == [(meeting.pk, operation)]
    assert fresh(meeting).operation == operation


def test_unexpected_error_backs_off_and_keeps_the_create_in_doubt(owner, caplog):
    """A provider that breaks in an unplanned way after sending its request (a bug, an unmapped error)."""
    meeting = put(owner)
    provider_class = TestProvider
    original = provider_class.create_meeting

    def broken(self, **kwargs):
        original(self, **kwargs)
        raise KeyError("bug after the request")

    provider_class.create_meeting = broken
    try:
        assert run(meeting) == ["retry"]
    finally:
        provider_class.create_meeting = original

    meeting = fresh(meeting)
    assert meeting.status == Status.PENDING
    assert meeting.maybe_created is True
    assert meeting.last_error == "Unexpected error while talking to Test Meeting."
    assert "unexpected error during create" in caplog.text
    with time_machine.travel(meeting.next_attempt_at + timedelta(seconds=1)):
        assert run(meeting) == ["find (adopted)"]
    assert len(TestProvider.meetings()) == 1
    assert fresh(meeting).status == Status.AVAILABLE


def test_a_long_topic_is_shortened_not_refused(owner):
    meeting = put(owner, topic="Very long seminar name " * 40)
    assert len(meeting.topic) <= 300
    assert meeting.topic.endswith("…")
    assert run(meeting) == ["create"]


# --- waits the provider gives --------------------------------------------------------------------------------------
@time_machine.travel(datetime(2030, 1, 10, 6, 0, tzinfo=UTC), tick=False)
def test_daily_limit_waits_for_the_given_time_and_is_announced_once_per_wait(
    owner, received, django_capture_on_commit_callbacks
):
    retry_at = datetime(2030, 1, 10, 7, 2, tzinfo=UTC)  # the provider's Retry-After, not our midnight
    TestProvider.fail_next("create", "rate_limited_daily", retry_at=retry_at)
    meeting = put(owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["waiting"]
    meeting = fresh(meeting)
    assert meeting.next_attempt_at == retry_at
    assert meeting_status_text(meeting) == "Waiting for Test Meeting's daily limit, resumes at 07:02 UTC (in 1 h)"
    assert meeting.wait_announced is True

    # One second early nothing runs; at 07:02 the provider refuses again, now until midnight: the same wait.
    midnight = datetime(2030, 1, 11, 0, 0, tzinfo=UTC)
    with time_machine.travel(retry_at - timedelta(seconds=1), tick=False):
        assert run(meeting) == ["skipped"]
    TestProvider.fail_next("create", "rate_limited_daily", retry_at=midnight)
    with time_machine.travel(retry_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["waiting"]
    assert fresh(meeting).next_attempt_at == midnight
    assert [name for name, _ in received] == ["meeting_waiting"]

    with time_machine.travel(midnight, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create"]
    assert fresh(meeting).wait_announced is False
    assert [name for name, _ in received] == ["meeting_waiting", "meeting_available"]

    # A later, new wait is announced again.
    put(owner, topic="Renamed")
    TestProvider.fail_next("update", "rate_limited_daily", retry_at=midnight + timedelta(days=1))
    with (
        time_machine.travel(midnight + timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert run(meeting) == ["waiting"]
    assert [name for name, _ in received] == ["meeting_waiting", "meeting_available", "meeting_waiting"]


def test_a_meeting_waiting_for_the_daily_limit_keeps_its_wait_when_it_is_deleted_remotely(owner):
    meeting = put(owner)
    run(meeting)
    put(owner, topic="Renamed")
    retry_at = timezone.now() + timedelta(hours=3)
    TestProvider.fail_next("update", "rate_limited_daily", retry_at=retry_at)
    assert run(meeting) == ["waiting"]
    remote_id = fresh(meeting).remote_id

    meeting_mark_remote_gone(provider="test", remote_id=remote_id)

    meeting = fresh(meeting)
    assert meeting.remote_id == ""
    assert meeting.status == Status.WAITING
    assert meeting.next_attempt_at == retry_at  # asking before then would only be refused again
    assert run(meeting) == ["skipped"]


def test_has_remote_does_not_depend_on_the_status(owner):
    meeting = put(owner)
    assert fresh(meeting).has_remote is False
    run(meeting)
    assert fresh(meeting).has_remote is True

    put(owner, topic="Renamed")
    TestProvider.fail_next("update", "rate_limited_daily")
    run(meeting)
    assert fresh(meeting).status == Status.WAITING
    assert fresh(meeting).has_remote is True
    assert fresh(meeting).has_problem is True

    meeting_retry_now(meeting=meeting)
    TestProvider.fail_next("update", "permanent")
    run(meeting)
    assert fresh(meeting).status == Status.FAILED
    assert fresh(meeting).has_remote is True

    meeting_mark_remote_gone(provider="test", remote_id=fresh(meeting).remote_id)
    assert fresh(meeting).has_remote is False


# --- a provider disabled on the site --------------------------------------------------------------------------------
def set_enabled(enabled):
    from virtualmeeting.models import ProviderConfig

    ProviderConfig.objects.filter(provider="test").update(enabled=enabled)


def test_a_disabled_provider_holds_queued_work_and_resumes_it_when_enabled(owner, django_capture_on_commit_callbacks):
    queued = put(owner, "ref:queued")
    synced = put(owner, "ref:synced")
    run(synced)
    set_enabled(False)

    assert run(queued) == ["held"]
    queued = fresh(queued)
    assert queued.status == Status.HELD
    assert queued.has_problem is True
    assert meeting_status_text(queued) == (
        "Held: Test Meeting is disabled on this site. "
        "The meeting is created or updated when a site administrator enables Test Meeting again."
    )
    # A change saved while disabled is held too (by the sweep, before any worker runs it).
    put(owner, "ref:synced", topic="Renamed while disabled")
    with django_capture_on_commit_callbacks(execute=True):
        assert meeting_sweep() == 0
    assert fresh(synced).status == Status.HELD
    assert fresh(synced).has_remote is True  # the meeting still exists at the provider
    assert run(queued) == ["skipped"]
    assert calls() == {"create": 1}

    # Enabled again (the settings page only saves the flag): the next sweep resumes both.
    set_enabled(True)
    with django_capture_on_commit_callbacks(execute=True):
        meeting_sweep()
    assert fresh(queued).status == Status.AVAILABLE
    assert fresh(synced).status == Status.AVAILABLE
    assert calls() == {"create": 2, "update": 1}
    assert {m["topic"] for m in TestProvider.meetings()} == {"Safety training: Session 1", "Renamed while disabled"}


def test_a_held_daily_limit_wait_resumes_as_a_wait(owner):
    from virtualmeeting.services import provider_enabled_changed

    retry_at = timezone.now() + timedelta(hours=2)
    TestProvider.fail_next("create", "rate_limited_daily", retry_at=retry_at)
    meeting = put(owner)
    run(meeting)
    set_enabled(False)
    assert provider_enabled_changed(provider="test") == 1
    assert fresh(meeting).status == Status.HELD

    set_enabled(True)
    assert provider_enabled_changed(provider="test") == 1
    meeting = fresh(meeting)
    assert meeting.status == Status.WAITING
    assert meeting.next_attempt_at == retry_at
    assert run(meeting) == ["skipped"]


def test_retry_now_during_a_daily_limit_wait_does_not_announce_the_wait_again(
    owner, received, django_capture_on_commit_callbacks
):
    retry_at = timezone.now() + timedelta(hours=5)
    TestProvider.fail_next("create", "rate_limited_daily", retry_at=retry_at, times=2)
    meeting = put(owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["waiting"]

    with django_capture_on_commit_callbacks(execute=True):
        meeting_retry_now(meeting=meeting)  # the person asks; the provider refuses again

    assert fresh(meeting).status == Status.WAITING
    assert fresh(meeting).next_attempt_at == retry_at
    assert TestProvider.calls("create") == 2
    assert [name for name, _ in received] == ["meeting_waiting"]
