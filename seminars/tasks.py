"""Periodic seminar work."""

from celery import shared_task
from django.db import transaction

from seminars.meetings import meetings_reconcile


@shared_task(name="seminars.tasks.meetings_reconcile")
def meetings_reconcile_task() -> int:
    """Delete meetings whose session, room or event went away outside the services (e.g. the Django admin)."""
    with transaction.atomic():
        return meetings_reconcile()
