"""Every change of a meeting row's work state, in one place.

A VirtualMeeting's status and what goes with it (attempts, last_error, next_attempt_at, the limit-wait flags,
the pre-start check plan) change only here. `services` (what the owning app and people ask) and `sync` (what the
provider answered) both call these functions. Each sets attributes of a row the caller has locked and saves
afterwards, except `meeting_fail` and `hold`, which write at once. None queues a task or calls a
provider; signals are sent after commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from virtualmeeting import signals
from virtualmeeting.conf import vm_settings
from virtualmeeting.models import VirtualMeeting

Status = VirtualMeeting.Status


# --- pre-start check plan ----------------------------------------------------------------------
def checkpoint_time(*, start: datetime, minutes: int, key: int) -> datetime:
    """When the check `minutes` before `start` is due for the meeting `key` (its id).

    Spread over the PRESTART_CHECK_SPREAD share of the checkpoint before it (20 min: between 30 and
    20 min before the start), the same for a meeting every time, so that many sessions starting at
    once are not all checked in the same second.
    """
    window = minutes * 60 * vm_settings.PRESTART_CHECK_SPREAD
    share = (key * 2654435761 % 2**32) / 2**32  # Knuth's multiplicative hash: consecutive ids far apart
    return start - timedelta(minutes=minutes, seconds=int(window * share))


def checks_plan(*, start: datetime, now: datetime, key: int = 0) -> tuple[int | None, datetime | None]:
    """For the meeting `key` starting at `start`: the last checkpoint already passed (minutes before), and when the next is due."""
    due = [
        (m, checkpoint_time(start=start, minutes=m, key=key))
        for m in sorted(vm_settings.PRESTART_CHECKS_MINUTES, reverse=True)
    ]
    passed = [m for m, at in due if at <= now]
    upcoming = [at for _, at in due if at > now]
    return (passed[-1] if passed else None, upcoming[0] if upcoming else None)


def plan_checks(meeting: VirtualMeeting, *, now: datetime | None = None) -> None:
    """The meeting was just made, moved or read at the provider: checkpoints already passed count as done.

    Sets (does not save) `checked_before` and `next_check_at`; a meeting that should not exist has no checks.
    """
    if not meeting.present or meeting.start is None:
        meeting.checked_before = meeting.next_check_at = None
        return
    meeting.checked_before, meeting.next_check_at = checks_plan(
        start=meeting.start, now=now or timezone.now(), key=meeting.pk or 0
    )


# --- work to do ----------------------------------------------------------------------------------
def work_status(meeting: VirtualMeeting) -> str:
    """The status of a meeting with work to do: deleting, updating (it exists remotely) or pending."""
    if not meeting.present:
        return Status.DELETING
    return Status.UPDATING if meeting.remote_id else Status.PENDING


def mark_working(meeting: VirtualMeeting, *, due: bool = False) -> None:
    """The row has work to do (its status says which); `due`: now."""
    meeting.status = work_status(meeting)
    if due:
        meeting.next_attempt_at = timezone.now()


def mark_pending(meeting: VirtualMeeting) -> None:
    """The meeting is to be created (again)."""
    meeting.status = Status.PENDING


def mark_due(meeting: VirtualMeeting, *, keep_limit_wait: bool) -> None:
    """Make the row due now, forgetting past failures (but not a limit that is still in force)."""
    now = timezone.now()
    meeting.attempts = 0
    if keep_limit_wait and meeting.status == Status.WAITING and meeting.next_attempt_at > now:
        return
    in_daily_wait = meeting.status == Status.WAITING and meeting.waiting_daily_limit and meeting.next_attempt_at > now
    meeting.last_error = ""
    # "Retry now" during a daily-limit wait: if the provider refuses again it is the same wait, already announced.
    meeting.wait_announced = meeting.wait_announced and in_daily_wait
    meeting.waiting_daily_limit = False
    meeting.next_attempt_at = now
    mark_working(meeting)


def mark_restore(meeting: VirtualMeeting) -> None:
    """The provider holds something else than we synced: the next update sends everything, now."""
    meeting.synced_spec = {}
    meeting.status, meeting.next_attempt_at = Status.UPDATING, timezone.now()


def mark_remote_gone(meeting: VirtualMeeting) -> bool:
    """The remote meeting was deleted behind our back: forget it; re-create it (or finish a pending delete).

    Its registrants are the caller's (services.registrants_forget). True when the row has work to queue.
    """
    meeting.remote_id = meeting.join_url = meeting.password = meeting.host_email = ""
    meeting.maybe_created = False
    meeting.synced_spec = {}
    meeting.check_remote = False
    meeting.checked_before = meeting.next_check_at = None  # planned again once it is re-created
    meeting.registration = False
    if not meeting.present and not meeting.old_remote_id:
        meeting.status = Status.DELETED
        meeting.synced_version = meeting.desired_version
        return False
    if not meeting.present:  # removed during a move: the old meeting is still to delete
        mark_due(meeting, keep_limit_wait=False)
        return True
    meeting.remote_gone_at = timezone.now()
    # Re-creating spends the daily quota too: a daily-limit wait still in force is kept.
    mark_due(meeting, keep_limit_wait=True)
    return True


# --- done --------------------------------------------------------------------------------------------
def mark_done(meeting: VirtualMeeting) -> None:
    """Nothing left to do: available (or deleted, for a meeting that should not exist), past failures forgotten."""
    meeting.status = Status.AVAILABLE if meeting.present else Status.DELETED
    meeting.attempts, meeting.last_error = 0, ""
    meeting.waiting_daily_limit = meeting.wait_announced = False


def settle(row: VirtualMeeting, version: int) -> None:
    """After a call for `version`: done if nothing moved meanwhile, else leave it due for the next step."""
    if row.desired_version == version:
        mark_done(row)
        plan_checks(row)  # it was just made or changed at the provider: checked until the next checkpoint
        if row.present:
            signals.send_meeting_signal_on_commit(signals.meeting_available, row)
        return
    mark_working(row, due=True)


# --- problems ----------------------------------------------------------------------------------------
def meeting_fail(*, meeting: VirtualMeeting, message: str) -> None:
    """Mark the meeting failed with a message for people (written at once); sends meeting_failed after commit."""
    VirtualMeeting.objects.filter(pk=meeting.pk).update(
        status=Status.FAILED,
        last_error=message,
        waiting_daily_limit=False,
        wait_announced=False,
        next_attempt_at=timezone.now(),
    )
    meeting.status, meeting.last_error = Status.FAILED, message
    meeting.waiting_daily_limit = meeting.wait_announced = False
    stored = VirtualMeeting.objects.get(pk=meeting.pk)
    signals.send_meeting_signal_on_commit(signals.meeting_failed, stored, operation=stored.operation)


def wait_for_limit(row: VirtualMeeting, *, until: datetime, daily: bool, message: str, nothing_made: bool) -> None:
    """Wait for the provider's limit until exactly `until`; `message` says so to people.

    The owner is told once per daily-limit wait: a retry refused again stays in the same wait, already
    announced. `wait_announced` is cleared when the meeting leaves the wait (done, failed, backing off, or
    reset by a person). `nothing_made`: a create was refused cleanly, so no meeting can exist from it.
    """
    row.status = Status.WAITING
    row.waiting_daily_limit = daily
    row.next_attempt_at = until
    row.last_error = message
    if nothing_made:
        row.maybe_created = False
    announce = daily and not row.wait_announced
    row.wait_announced = row.wait_announced or announce
    if announce:
        signals.send_meeting_signal_on_commit(signals.meeting_waiting, row)


def back_off(row: VirtualMeeting, *, attempts: int, message: str, delay: float, nothing_made: bool) -> None:
    """A transient failure: try again in `delay` seconds; a wait for a limit or a create in flight is over."""
    row.attempts = attempts
    row.last_error = message
    row.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    if row.status == Status.CREATING:
        row.status = Status.PENDING
    if row.status == Status.WAITING:
        mark_working(row)
    row.waiting_daily_limit = row.wait_announced = False
    if nothing_made:
        row.maybe_created = False  # the provider refused cleanly: nothing was made


# --- a provider disabled and enabled again -------------------------------------------------------
def hold(meetings) -> int:
    """Hold these meetings' work (a queryset of meetings with work to do): written at once. Returns how many."""
    return meetings.update(status=Status.HELD)


def resume(meeting: VirtualMeeting, *, now: datetime) -> None:
    """A held meeting carries on where it stopped; a daily-limit wait still in force is kept."""
    waiting = meeting.waiting_daily_limit and meeting.next_attempt_at > now
    meeting.status = Status.WAITING if waiting else work_status(meeting)
