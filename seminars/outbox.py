"""Outbound email: recorded with the change it reports, sent by a Celery task, retried, sent once.

- `email_record` writes an OutboundEmail row in the caller's transaction (so a
  committed change always has its email on record); `seminars.tasks.email_queue`
  records and queues it when the transaction commits.
- `email_send` (run by the `seminars.tasks.email_send` task, with the row's id)
  claims the row with a conditional UPDATE, builds the message from current data
  through the renderer of its kind, sends it and marks the row sent. A failure
  leaves the row pending until its next attempt (RETRY_DELAYS: about three and a
  half hours in all, so a mail server down for an hour loses nothing); after the
  last attempt the row is marked failed, for a site admin to see.
- `emails_prune` (a daily task) deletes sent and skipped rows older than
  SEMINARS_OUTBOX_KEEP_DAYS; failed rows stay for a site admin.
- `emails_overdue` lists rows whose attempt is overdue (the broker was down, a
  retry message was lost, a worker died holding a claim); a periodic task queues
  them again. Queueing a row twice is harmless: only one task claims it.

A worker that dies after the mail server accepted a message but before the row
is marked sent leaves the row claimed; when its lease (SEND_LEASE) ends, the
email is sent again. We accept a duplicate in that window (one UPDATE long) over
the alternative, an email that may never go out. Every message carries a
Message-ID derived from its key, so such a duplicate is recognisably the same
message to the mail clients and servers that de-duplicate on it.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from seminars.ical import site_host
from seminars.models import OutboundEmail

log = logging.getLogger(__name__)

State = OutboundEmail.State

# kind -> renderer(params) returning the EmailMessage to send, or None when there is
# nothing to send any more (the booking or the notification is gone). Dotted paths,
# imported when a message is built: the renderers' modules queue emails themselves.
RENDERERS = {
    "booking": "seminars.emails.booking_email_render",
    "notification": "seminars.notifications.notification_email_render",
    "reminder": "seminars.reminders.reminder_email_render",
}

# Seconds to wait after the 1st, 2nd, ... failed attempt; no retry after the last.
# Capped at 30 minutes: a Celery countdown must stay under Redis's visibility timeout (1 hour).
RETRY_DELAYS = (60, 120, 240, 480, 960, 1800, 1800, 1800, 1800, 1800, 1800)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# How long a claim lasts: far longer than one send (EMAIL_TIMEOUT is seconds).
SEND_LEASE = timedelta(minutes=10)
# A row this far past its attempt time was missed by its own retry: queue it again.
REQUEUE_GRACE = timedelta(minutes=2)

CLAIMABLE = (State.PENDING, State.SENDING)


@dataclass(frozen=True)
class SendResult:
    state: str
    retry_in: int | None = None  # seconds until the next attempt, when one is due


def absolute_url(url: str) -> str:
    """A site path made absolute with SITE_URL; absolute URLs pass through."""
    if url.startswith("/"):
        return settings.SITE_URL + url
    return url


def header_text(value) -> str:
    """`value` on one line: line breaks and other control characters become single spaces.

    Mail headers may not contain CR or LF (Django refuses to build such a message);
    names typed by people end up in subjects, so every subject passes through here.
    """
    text = "".join(" " if ord(char) < 32 or 127 <= ord(char) < 160 else char for char in str(value))
    return " ".join(text.split())


def retry_delay(attempts: int) -> int | None:
    """Seconds to wait after `attempts` failed attempts, or None once they are exhausted."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1]


def email_record(*, key: str, kind: str, to: str, params: dict) -> int | None:
    """Record one email to `to` (in the current transaction) and return its id.

    `key` says which message this is (e.g. "notification:42"): recording the same
    key twice records one email. `params` (JSON) is what the kind's renderer needs.
    Returns None when there is no address to send to.
    """
    if kind not in RENDERERS:
        raise ValueError(f"Unknown email kind {kind!r}")
    if not to:
        return None
    email, _ = OutboundEmail.objects.get_or_create(key=key, defaults={"kind": kind, "to": to, "params": params})
    return email.pk


def email_send(*, email_id: int) -> SendResult:
    """Send one recorded email unless it is sent, claimed by another worker, or not yet due."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(pk=email_id, state__in=CLAIMABLE, next_attempt_at__lte=now).update(
        state=State.SENDING, next_attempt_at=now + SEND_LEASE, attempts=F("attempts") + 1
    )
    if not claimed:
        return SendResult("not claimed")
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        message = _build(email)
        if message is None:
            _finish(email, state=State.SKIPPED)
            return SendResult(State.SKIPPED)
        message.send()
    except Exception as error:
        return _failed(email, error)
    _finish(email, state=State.SENT, sent_at=timezone.now())
    return SendResult(State.SENT)


def emails_overdue(*, limit: int = 500) -> list[int]:
    """Ids of emails whose attempt is overdue (missed by their own retry), oldest first."""
    late = timezone.now() - REQUEUE_GRACE
    return list(
        OutboundEmail.objects.filter(state__in=CLAIMABLE, next_attempt_at__lte=late)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def emails_prune(*, now=None, batch: int = 1000) -> int:
    """Delete sent and skipped emails older than SEMINARS_OUTBOX_KEEP_DAYS; return how many went.

    A row's key only guards against recording the same email twice while the change it
    reports can still be recorded again (the commit of a booking change, a reminder or a
    warning before a session that has not yet started), all of which is long past after
    the keep time. Failed rows are kept: they are for a site admin to look at.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SEMINARS_OUTBOX_KEEP_DAYS)
    old = OutboundEmail.objects.filter(state__in=(State.SENT, State.SKIPPED), created_at__lt=cutoff)
    deleted = 0
    while True:
        # In batches: one DELETE of a year of email would hold its locks for long.
        ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += OutboundEmail.objects.filter(pk__in=ids).delete()[0]


def emails_send_again(*, email_ids) -> list[int]:
    """Make the given failed or waiting emails due now, with a fresh set of attempts; return their ids.

    For a site admin once the mail server is fixed. Sent emails are never sent again,
    and one being sent is left to its worker.
    """
    again = OutboundEmail.objects.filter(pk__in=list(email_ids), state__in=(State.PENDING, State.FAILED))
    ids = list(again.values_list("pk", flat=True))
    OutboundEmail.objects.filter(pk__in=ids, state__in=(State.PENDING, State.FAILED)).update(
        state=State.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    return ids


def _build(email: OutboundEmail):
    message = import_string(RENDERERS[email.kind])(email.params)
    if message is None:
        return None
    message.subject = header_text(message.subject)
    message.to = [email.to]  # the address recorded with the change: the row says where it went
    digest = hashlib.sha256(email.key.encode()).hexdigest()[:32]
    message.extra_headers["Message-ID"] = f"<{digest}@{site_host()}>"
    return message


def _finish(email: OutboundEmail, *, state: str, sent_at=None) -> None:
    # Only our own claim: if the lease ran out and another worker took the row, it reports.
    OutboundEmail.objects.filter(pk=email.pk, state=State.SENDING, attempts=email.attempts).update(
        state=state, sent_at=sent_at, last_error=""
    )


def _failed(email: OutboundEmail, error: Exception) -> SendResult:
    delay = retry_delay(email.attempts)
    reason = f"{type(error).__name__}: {error}"[:1000]
    if delay is None:
        log.error("Email %s (%s) failed after %s attempts: %s", email.pk, email.kind, email.attempts, reason)
        changes = {"state": State.FAILED}
    else:
        log.warning("Email %s (%s) failed, retrying in %ss: %s", email.pk, email.kind, delay, reason)
        changes = {"state": State.PENDING, "next_attempt_at": timezone.now() + timedelta(seconds=delay)}
    OutboundEmail.objects.filter(pk=email.pk, state=State.SENDING, attempts=email.attempts).update(
        last_error=reason, **changes
    )
    return SendResult(changes["state"], retry_in=delay)
