"""Celery tasks: thin, pass ids, safe to run twice (acks_late is on)."""

from celery import shared_task

from virtualmeeting import queue, reconcile, registrants, sync


@shared_task(name=queue.MEETING_SYNC)
def meeting_sync(meeting_id: int) -> list[str]:
    """Make the provider match one meeting row."""
    return sync.meeting_sync(meeting_id)


@shared_task(name=queue.MEETING_CHECK)
def meeting_check(meeting_id: int) -> list[str]:
    """Pre-start check of one meeting: read it at the provider, re-create it if gone."""
    return sync.meeting_check(meeting_id)


@shared_task(name=queue.PARTICIPANTS_RECONCILE)
def participants_reconcile(meeting_id: int) -> list[str]:
    """Poll a finished meeting's participants (and recordings) at the provider, where a poll is due."""
    return reconcile.participants_reconcile(meeting_id)


@shared_task(name=queue.REGISTRANTS_SYNC)
def registrants_sync(meeting_id: int) -> list[str]:
    """Make the provider's registrants of one meeting match its rows (all of them due, in batches)."""
    return registrants.registrants_sync(meeting_id)


@shared_task(name=queue.MEETING_SWEEP)
def meeting_sweep() -> int:
    """Queue every meeting that is due or stuck, the pre-start checks and the participants polls due
    (Celery beat runs this). Returns the meetings queued for a sync."""
    queued = sync.meeting_sweep()
    reconcile.participants_sweep()
    return queued
