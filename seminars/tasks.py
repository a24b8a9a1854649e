"""Seminar background work: sending email (seminars.outbox), reminders and periodic repairs."""

import logging

from celery import shared_task
from celery.exceptions import Retry
from django.db import transaction

from seminars import minimum_warnings, outbox, reminders
from seminars.meetings import meetings_reconcile

log = logging.getLogger(__name__)


@shared_task(name="seminars.tasks.meetings_reconcile")
def meetings_reconcile_task(finished_too: bool = False) -> int:
    """Delete meetings whose session, room or event went away outside the services (e.g. the Django admin),
    and give personal links to upcoming meetings made before they existed. Beat runs it often for the
    meetings not yet finished, and daily with `finished_too` for every meeting."""
    with transaction.atomic():
        return meetings_reconcile(finished_too=finished_too)


@shared_task(name="seminars.tasks.email_send", bind=True, acks_late=True, max_retries=None)
def email_send_task(self, email_id: int) -> str:
    """Send one recorded email; on failure retry when the row says (the row counts the attempts)."""
    result = outbox.email_send(email_id=email_id)
    if result.retry_in is not None:
        # The row holds the schedule: a retry delivered early (Celery runs an eager
        # task's retry at once) claims nothing, and one lost is requeued by the sweep.
        raise self.retry(countdown=result.retry_in)
    return result.state


@shared_task(name="seminars.tasks.emails_requeue")
def emails_requeue_task() -> int:
    """Queue the emails whose attempt is overdue (a lost message or a dead worker only delays them)."""
    ids = outbox.emails_overdue()
    for email_id in ids:
        email_send_queue(email_id)
    return len(ids)


@shared_task(name="seminars.tasks.emails_prune")
def emails_prune_task() -> int:
    """Delete old sent and skipped emails (seminars.outbox.emails_prune); return how many."""
    return outbox.emails_prune()


@shared_task(name="seminars.tasks.reminders_queue")
def reminders_queue_task() -> int:
    """Record the reminders due now (seminars.reminders) and queue their sending; return how many were new."""
    with transaction.atomic():
        ids = reminders.reminders_record()
    for email_id in ids:
        email_send_queue(email_id)
    return len(ids)


@shared_task(name="seminars.tasks.minimum_warnings")
def minimum_warnings_task() -> int:
    """Warn the trainers of events short of their minimum bookings (seminars.minimum_warnings); return
    how many emails were recorded."""
    with transaction.atomic():
        ids = minimum_warnings.minimum_warnings_record()
    for email_id in ids:
        email_send_queue(email_id)
    return len(ids)


def emails_send_again(*, email_ids) -> int:
    """Send the given failed or waiting emails now (see outbox.emails_send_again); return how many."""
    ids = outbox.emails_send_again(email_ids=email_ids)
    for email_id in ids:
        email_send_queue(email_id)
    return len(ids)


def email_queue(*, key: str, kind: str, to: str, params: dict) -> int | None:
    """Record an email in the current transaction (see outbox.email_record); send it once that commits."""
    email_id = outbox.email_record(key=key, kind=kind, to=to, params=params)
    if email_id is not None:
        transaction.on_commit(lambda: email_send_queue(email_id), robust=True)
    return email_id


def email_send_queue(email_id: int) -> None:
    """Queue the sending of one recorded email; if the broker is down, the requeue sweep sends it later."""
    try:
        email_send_task.delay(email_id)
    except Retry:
        # Only when tasks run in this process (CELERY_TASK_ALWAYS_EAGER, the tests): the
        # send failed and the row waits for its retry, as a worker would leave it.
        pass
    except Exception:
        log.warning("Could not queue email %s; the requeue sweep will send it.", email_id, exc_info=True)
