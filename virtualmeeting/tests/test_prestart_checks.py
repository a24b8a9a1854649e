"""Pre-start checks: a meeting deleted at the provider with no webhook is back before the join window opens."""

from datetime import timedelta

import pytest
import time_machine

from virtualmeeting import tasks
from virtualmeeting.models import ProviderConfig, VirtualMeeting
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.selectors import meetings_check_due
from virtualmeeting.state import checks_plan
from virtualmeeting.sync import meeting_sweep
from virtualmeeting.tests.conftest import START
from virtualmeeting.tests.helpers import fresh, put, run

Status = VirtualMeeting.Status
DAY_BEFORE, TWO_HOURS_BEFORE, TWENTY_MINUTES_BEFORE = (
    START - timedelta(hours=24),
    START - timedelta(hours=2),
    START - timedelta(minutes=20),
)


@pytest.fixture(autouse=True)
def exact_checkpoints(settings):
    """Checks due exactly at their checkpoints here; the spread has a test of its own."""
    settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "PRESTART_CHECK_SPREAD": 0}


def sweep_at(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        meeting_sweep()


@pytest.fixture
def meeting(owner):
    """A meeting made three days ahead of its session, available since."""
    with time_machine.travel(START - timedelta(days=3), tick=False):
        made = put(owner)
        assert run(made) == ["create"]
    return fresh(made)


def test_a_meeting_is_planned_for_its_first_checkpoint(meeting):
    assert meeting.next_check_at == DAY_BEFORE
    assert meeting.checked_before is None


def test_a_meeting_deleted_without_a_webhook_is_recreated_at_the_next_checkpoint(
    meeting, received, django_capture_on_commit_callbacks
):
    TestProvider.remote_delete(meeting.remote_id)  # by hand in the provider's app; nobody tells us

    sweep_at(DAY_BEFORE - timedelta(seconds=1), django_capture_on_commit_callbacks)
    assert TestProvider.calls("get") == 0
    assert fresh(meeting).status == Status.AVAILABLE  # not known yet

    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)
    row = fresh(meeting)
    assert TestProvider.calls("get") == 1
    assert TestProvider.calls("create") == 2
    assert row.status == Status.AVAILABLE
    assert row.remote_id not in ("", meeting.remote_id)
    assert [m["remote_id"] for m in TestProvider.meetings()] == [row.remote_id]
    assert row.recreated_at is not None
    assert ("meeting_recreated", row.pk) in [(name, m.pk) for name, m in received]
    assert (row.checked_before, row.next_check_at) == (24 * 60, TWO_HOURS_BEFORE)


def test_each_checkpoint_is_checked_once(meeting, django_capture_on_commit_callbacks):
    for moment, gets, done, following in [
        (DAY_BEFORE, 1, 1440, TWO_HOURS_BEFORE),
        (DAY_BEFORE + timedelta(minutes=1), 1, 1440, TWO_HOURS_BEFORE),
        (TWO_HOURS_BEFORE - timedelta(seconds=1), 1, 1440, TWO_HOURS_BEFORE),
        (TWO_HOURS_BEFORE, 2, 120, TWENTY_MINUTES_BEFORE),
        (TWENTY_MINUTES_BEFORE + timedelta(seconds=30), 3, 20, None),
        (START - timedelta(minutes=10), 3, 20, None),
    ]:
        sweep_at(moment, django_capture_on_commit_callbacks)
        row = fresh(meeting)
        assert (TestProvider.calls("get"), row.checked_before, row.next_check_at) == (gets, done, following), moment
    assert TestProvider.calls("create") == 1
    assert TestProvider.calls("update") == 0


def test_a_late_check_counts_for_every_checkpoint_it_passed(meeting, django_capture_on_commit_callbacks):
    """A site that was down for a day checks once, not three times in a row."""
    sweep_at(TWENTY_MINUTES_BEFORE + timedelta(minutes=1), django_capture_on_commit_callbacks)
    row = fresh(meeting)
    assert TestProvider.calls("get") == 1
    assert (row.checked_before, row.next_check_at) == (20, None)


def test_a_meeting_moved_later_is_checked_again_before_its_new_start(
    owner, meeting, django_capture_on_commit_callbacks
):
    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)
    sweep_at(TWO_HOURS_BEFORE, django_capture_on_commit_callbacks)
    assert fresh(meeting).checked_before == 120

    later = START + timedelta(days=1)
    with time_machine.travel(TWO_HOURS_BEFORE + timedelta(minutes=5), tick=False):
        put(owner, start=later)
        row = fresh(meeting)
        assert (row.checked_before, row.next_check_at) == (None, later - timedelta(hours=24))
        assert run(meeting) == ["update"]
    row = fresh(meeting)
    assert (row.checked_before, row.next_check_at) == (None, later - timedelta(hours=24))
    sweep_at(TWENTY_MINUTES_BEFORE, django_capture_on_commit_callbacks)  # the old checkpoint is gone
    assert TestProvider.calls("get") == 2


def test_a_meeting_edited_at_the_provider_without_a_webhook_is_restored(meeting, django_capture_on_commit_callbacks):
    with time_machine.travel(START - timedelta(days=2), tick=False):  # the simulated remote keeps keys a week
        TestProvider.remote_edit(meeting.remote_id, topic="Renamed by hand")

    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)

    assert TestProvider.meetings()[0]["topic"] == "Safety training: Session 1"
    assert TestProvider.calls("update") == 1
    row = fresh(meeting)
    assert row.status == Status.AVAILABLE
    assert (row.checked_before, row.next_check_at) == (1440, TWO_HOURS_BEFORE)


def test_a_rate_limited_check_is_tried_at_the_given_time(meeting, django_capture_on_commit_callbacks):
    with time_machine.travel(START - timedelta(days=2), tick=False):
        TestProvider.fail_next("get", "rate_limited", seconds=3)
    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)
    row = fresh(meeting)
    assert row.status == Status.AVAILABLE  # a check never changes what people see
    assert row.next_check_at == DAY_BEFORE + timedelta(seconds=3)
    assert row.checked_before is None

    sweep_at(DAY_BEFORE + timedelta(seconds=3), django_capture_on_commit_callbacks)
    assert fresh(meeting).checked_before == 1440


def test_a_failing_provider_leaves_the_meeting_alone_and_checks_again_later(
    meeting, django_capture_on_commit_callbacks
):
    with time_machine.travel(START - timedelta(days=2), tick=False):
        TestProvider.fail_next("get", "transient")
    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)
    row = fresh(meeting)
    assert row.status == Status.AVAILABLE
    assert row.next_check_at == DAY_BEFORE + timedelta(seconds=60)


def test_no_checks_for_a_disabled_provider(meeting, django_capture_on_commit_callbacks):
    ProviderConfig.objects.filter(provider="test").update(enabled=False)
    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)
    assert TestProvider.calls("get") == 0
    assert fresh(meeting).next_check_at == DAY_BEFORE


def test_checks_are_capped_per_sweep_and_spread_per_second(
    owner, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "PRESTART_CHECK_BATCH": 10, "PRESTART_CHECKS_PER_SECOND": 4}
    with time_machine.travel(START - timedelta(days=3), tick=False):
        for n in range(25):
            run(put(owner, f"ref:{n}"))
    queued = []
    monkeypatch.setattr(
        tasks.meeting_check,
        "apply_async",
        lambda args, kwargs=None, countdown=None, **options: queued.append((list(args), countdown)),
    )

    with time_machine.travel(DAY_BEFORE, tick=False):
        assert len(meetings_check_due()) == 25
        with django_capture_on_commit_callbacks(execute=True):
            meeting_sweep()
        # The broker gets the batch only after commit, each check 1/4 s after the one before.
        assert [countdown for _, countdown in queued] == [None] + [n / 4 for n in range(1, 10)]
        on_their_way = {args[0] for args, _ in queued}
        waiting = meetings_check_due()
        assert len(waiting) == 15  # the next sweep's, not the 10 on their way
        assert on_their_way.isdisjoint(waiting)
    with time_machine.travel(DAY_BEFORE + timedelta(minutes=3), tick=False):
        assert len(meetings_check_due()) == 25  # the 10 never ran (their messages were lost): queued again


def test_checks_of_sessions_starting_together_are_spread_before_each_checkpoint(settings):
    settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "PRESTART_CHECK_SPREAD": 0.5}
    made = START - timedelta(days=3)
    first_checks = [checks_plan(start=START, now=made, key=pk)[1] for pk in range(1, 301)]
    assert all(START - timedelta(hours=36) < at <= DAY_BEFORE for at in first_checks)
    assert len({at.replace(second=0) for at in first_checks}) > 300 * 0.8  # hardly two in the same minute
    assert checks_plan(start=START, now=made, key=7) == checks_plan(start=START, now=made, key=7)  # stable

    last_checks = [checks_plan(start=START, now=TWO_HOURS_BEFORE, key=pk) for pk in range(1, 301)]
    assert all(done == 120 for done, _ in last_checks)
    assert all(START - timedelta(minutes=30) < at <= TWENTY_MINUTES_BEFORE for _, at in last_checks)


def test_a_meeting_gone_while_its_update_waits_for_the_daily_limit_is_recreated_when_the_wait_ends(
    owner, meeting, django_capture_on_commit_callbacks
):
    midnight = DAY_BEFORE + timedelta(hours=15)
    with time_machine.travel(START - timedelta(days=2), tick=False):
        put(owner, topic="Renamed")
        TestProvider.fail_next("update", "rate_limited_daily", retry_at=midnight)
        assert run(meeting) == ["waiting"]
        TestProvider.remote_delete(meeting.remote_id)

    sweep_at(DAY_BEFORE, django_capture_on_commit_callbacks)
    row = fresh(meeting)
    assert TestProvider.calls("get") == 1
    assert TestProvider.calls("create") == 1  # no create while the daily limit holds
    assert (row.status, row.remote_id, row.next_attempt_at) == (Status.WAITING, "", midnight)
    assert row.has_remote is False

    sweep_at(midnight, django_capture_on_commit_callbacks)
    row = fresh(meeting)
    assert row.status == Status.AVAILABLE
    assert [m["topic"] for m in TestProvider.meetings()] == ["Renamed"]
