"""Celery tasks: thin, pass ids, safe to run twice (acks_late is on)."""

from celery import shared_task

from virtualmeeting import sync


@shared_task(name="virtualmeeting.tasks.meeting_sync")
def meeting_sync(meeting_id: int) -> list[str]:
    """Make the provider match one meeting row."""
    return sync.meeting_sync(meeting_id)


@shared_task(name="virtualmeeting.tasks.meeting_check")
def meeting_check(meeting_id: int) -> list[str]:
    """Pre-start check of one meeting: read it at the provider, re-create it if gone."""
    return sync.meeting_check(meeting_id)


@shared_task(name="virtualmeeting.tasks.meeting_sweep")
def meeting_sweep() -> int:
    """Queue every meeting that is due or stuck, and the pre-start checks due (Celery beat runs this)."""
    return sync.meeting_sweep()
