"""Celery tasks: thin, pass ids, safe to run twice (acks_late is on)."""

from celery import shared_task

from virtualmeeting import sync


@shared_task(name="virtualmeeting.tasks.meeting_sync")
def meeting_sync(meeting_id: int) -> list[str]:
    """Make the provider match one meeting row."""
    return sync.meeting_sync(meeting_id)


@shared_task(name="virtualmeeting.tasks.meeting_sweep")
def meeting_sweep() -> int:
    """Queue every meeting that is due or stuck (Celery beat runs this)."""
    return sync.meeting_sweep()
