"""The framework's Celery tasks, named once, and sending them by name.

`tasks.py` sits on top: it imports the work modules (sync, registrants, reconcile). The modules
that queue work send a task by its name through the Celery app, so none of them imports
`tasks.py` back (Celery still runs an eager task in place in tests, and a worker routes by name).
"""

from celery import current_app

MEETING_SYNC = "virtualmeeting.tasks.meeting_sync"
MEETING_CHECK = "virtualmeeting.tasks.meeting_check"
PARTICIPANTS_RECONCILE = "virtualmeeting.tasks.participants_reconcile"
REGISTRANTS_SYNC = "virtualmeeting.tasks.registrants_sync"
MEETING_SWEEP = "virtualmeeting.tasks.meeting_sweep"


def send(name: str, *args, countdown: float | None = None) -> None:
    """Queue the task `name` with `args` (raises what the broker raises; callers decide what that means)."""
    current_app.signature(name, args=list(args)).apply_async(countdown=countdown)
