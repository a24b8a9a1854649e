"""The LMS's settings with the meeting sync's timers shortened, for the convergence run.

The code paths are the product's; only the waits are compressed so that a run
with injected faults settles in minutes instead of hours: backoff from 1 s
doubling to 8 s (product: 30 s to an hour), a claim held 60 s (product: 300 s;
still longer than four Zoom calls with their 15 s read timeout), and the sweep
re-queues a meeting whose task is 10 s overdue (product: 120 s).
"""

from lms.settings import *  # noqa: F403
from lms.settings import VIRTUALMEETING

VIRTUALMEETING = {
    **VIRTUALMEETING,
    "BACKOFF_BASE_SECONDS": 1,
    "BACKOFF_MAX_SECONDS": 8,
    "CLAIM_SECONDS": 60,
    "REQUEUE_AFTER_SECONDS": 10,
}
