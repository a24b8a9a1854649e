"""The periodic task of requests for a place (seminars.services.approvals).

Apart from seminars.tasks because the service queues emails through seminars.tasks; the worker
finds it by autodiscovery (lms.celery).
"""

from celery import shared_task

from seminars.services.approvals import booking_requests_expire


@shared_task(name="seminars.approval_tasks.requests_expire")
def approval_requests_expire_task() -> int:
    """Expire the requests still pending on events that have started; return how many."""
    return booking_requests_expire()
