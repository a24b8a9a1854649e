"""The app's settings: settings.VIRTUALMEETING merged over the defaults below.

Every key has its default here and only here; an unknown key is a
configuration error (a typo would otherwise be ignored silently).
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    # Dotted paths of the provider classes, in the order they are offered.
    "PROVIDERS": [],
    # A worker's hold on a meeting (a lease), renewed every CLAIM_RENEW_SECONDS while the worker
    # lives, however long its provider call takes. A killed worker stops renewing: its meeting is
    # free again after at most CLAIM_SECONDS, and the next sweep hands it to another worker.
    "CLAIM_SECONDS": 20,
    "CLAIM_RENEW_SECONDS": 5,
    # Transient errors: exponential backoff from BASE doubling up to MAX, with jitter.
    "BACKOFF_BASE_SECONDS": 30,
    "BACKOFF_MAX_SECONDS": 3600,
    # After this many transient failures in a row the meeting fails (a person has to look).
    "MAX_ATTEMPTS": 12,
    # Waits up to this long are given to Celery as a countdown; longer ones wait in the
    # database for the sweep (a countdown beyond Redis' visibility timeout is redelivered).
    "MAX_COUNTDOWN_SECONDS": 300,
    # How many due meetings one sweep re-queues.
    "SWEEP_BATCH": 500,
    # The sweep re-queues a due meeting only when its last queued task should have run this long ago
    # (the message was lost), so a busy queue does not fill with duplicates.
    "REQUEUE_AFTER_SECONDS": 120,
    # Pre-start checks: each meeting is read at the provider (a GET) this many minutes before it
    # starts, and re-created if it is gone, so a meeting deleted behind our back (no webhook) is back
    # before the 15-minute join window opens.
    "PRESTART_CHECKS_MINUTES": [1440, 120, 20],
    # Each check is due at a time of its own within this share of its checkpoint before it (0.5:
    # the 20-minute check between 30 and 20 minutes before), so sessions starting together are
    # checked over minutes, not in one burst.
    "PRESTART_CHECK_SPREAD": 0.5,
    # At most this many checks per sweep, queued this many per second (spread over the sweep's 30 s),
    # well within a provider's per-second limits (Zoom: Light, 30/s on Pro) on a busy site.
    "PRESTART_CHECK_BATCH": 300,
    "PRESTART_CHECKS_PER_SECOND": 10,
    # A check that could not be made (the provider failed) is tried again this much later.
    "PRESTART_CHECK_RETRY_SECONDS": 60,
    # The reconcile poll of a meeting's participants (and recordings): minutes after its end (the
    # occurrence's end when a webhook told it, else the scheduled finish) at which the provider is
    # asked, until it has the data; after the last one the poll gives up, saying why.
    "PARTICIPANTS_POLL_DELAYS": [5, 15, 30, 60, 120, 240],
    # A connect flow's state is valid this long.
    "OAUTH_STATE_SECONDS": 600,
    # The domain of the addresses registrants are given at the provider (never the person's own address,
    # and never mailed: the provider's registration emails are off). "" means the host of SITE_URL, or
    # "registrants.invalid" when that host is not a domain a strict email validator accepts
    # (localhost, testserver, an IP address).
    "REGISTRANT_EMAIL_DOMAIN": "",
}


def vm_setting(name: str):
    configured = getattr(settings, "VIRTUALMEETING", {}) or {}
    unknown = set(configured) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"Unknown VIRTUALMEETING setting(s): {', '.join(sorted(unknown))}.")
    return configured.get(name, DEFAULTS[name])


def registrant_email_domain() -> str:
    """REGISTRANT_EMAIL_DOMAIN, or the site's host when it is a dotted domain name, else "registrants.invalid"."""
    configured = vm_setting("REGISTRANT_EMAIL_DOMAIN")
    if configured:
        return configured
    host = urlsplit(settings.SITE_URL).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." in host.strip("."):
            return host.strip(".")
    return "registrants.invalid"
