"""Make the provider's registrants match the database, a meeting's rows at a time.

`registrants_sync(meeting_id)` claims the meeting's due registrant rows with a
conditional UPDATE (a short lease, renewed by the meetings' `ClaimHeartbeat`),
then, with no transaction or lock held while a call is made:

1. if an earlier register call may have been applied without an answer
   (`maybe_sent`), lists the meeting's registrants once and adopts each row's
   registrant by its address, so nobody is registered twice;
2. cancels the rows no longer wanted, `registrant_batch_size` a call;
3. registers the rows wanted, `registrant_batch_size` a call, each batch marked
   `maybe_sent` before it is sent;

recording each result at once in a short transaction. Rows wait (pending)
until the meeting exists at the provider and requires registration; when the
provider or the owner's account gives no personal links, they become
"unsupported" with the reason. Errors mean what they mean for meetings: a
transient one backs off, a rate limit waits for the provider's time, a revoked
connection asks the owner to reconnect, a meeting gone is re-created (and its
registrants registered again in the new one).

Every write here locks the meeting row first, as the services do, so the
registrant rows of a meeting are always locked in one order (no deadlock).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from virtualmeeting.conf import vm_settings
from virtualmeeting.errors import (
    AuthRevoked,
    MeetingNotFound,
    MeetingUnavailable,
    ProviderError,
    RateLimited,
    RegistrationOff,
)
from virtualmeeting.models import REGISTRANT_WORK_STATUSES, MeetingRegistrant, ProviderConnection, VirtualMeeting
from virtualmeeting.providers.base import Provider, RegistrantSpec, RemoteRegistrant
from virtualmeeting.registry import get_provider
from virtualmeeting.selectors import held_text, waiting_text
from virtualmeeting.services import (
    connection_revoke,
    meeting_mark_remote_gone,
    meeting_schedule,
    reconnect_message,
    registrant_email,
    registrant_put,
    registrants_schedule,
)
from virtualmeeting.sync import ClaimHeartbeat, _NoConnection, acting_remote, backoff_delay, registration_wanted

log = logging.getLogger(__name__)
Status = MeetingRegistrant.Status


# --- claiming ----------------------------------------------------------------------------------
def _lock_meeting(meeting_id: int) -> VirtualMeeting | None:
    return VirtualMeeting.objects.select_for_update().filter(pk=meeting_id).first()


def claim(meeting_id: int) -> str | None:
    """Take the meeting's due registrant rows that nobody holds. Returns the claim token, or None if none."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        _lock_meeting(meeting_id)
        now = timezone.now()
        taken = (
            MeetingRegistrant.objects.filter(
                meeting_id=meeting_id, status__in=REGISTRANT_WORK_STATUSES, next_attempt_at__lte=now
            )
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_until=now + timedelta(seconds=vm_settings.CLAIM_SECONDS), claim_token=token)
        )
    return token if taken else None


def renew(meeting_id: int, token: str) -> bool:
    """Extend our claim on the rows by CLAIM_SECONDS from now. False when no row is ours any more."""
    with transaction.atomic():
        _lock_meeting(meeting_id)
        until = timezone.now() + timedelta(seconds=vm_settings.CLAIM_SECONDS)
        return (
            MeetingRegistrant.objects.filter(meeting_id=meeting_id, claim_token=token).update(claimed_until=until) > 0
        )


def release(meeting_id: int, token: str) -> None:
    with transaction.atomic():
        _lock_meeting(meeting_id)
        MeetingRegistrant.objects.filter(meeting_id=meeting_id, claim_token=token).update(
            claimed_until=None, claim_token=""
        )


# --- one run -------------------------------------------------------------------------------------
@dataclass
class _Run:
    meeting: VirtualMeeting
    provider: Provider
    token: str
    connection: ProviderConnection | None = None
    steps: list[str] = field(default_factory=list)
    claimed: list[int] = field(default_factory=list)
    calls: int = 0  # provider calls made (a run that made none does not re-queue itself)

    @property
    def remote_id(self) -> str:
        return self.meeting.remote_id

    def rows(self, **filters):
        """Our claimed rows (a query, read fresh)."""
        claimed = MeetingRegistrant.objects.filter(meeting_id=self.meeting.pk, claim_token=self.token)
        return claimed.filter(pk__in=self.claimed).filter(**filters).order_by("pk")

    def update(self, changes: dict, **filters) -> int:
        """Change our claimed rows (those matching `filters`), the meeting locked first."""
        with transaction.atomic():
            _lock_meeting(self.meeting.pk)
            return self.rows(**filters).update(**changes)


class _Stopped(Exception):
    """The run ends: `countdown` asks for a short retry through Celery."""

    def __init__(self, outcome: str, countdown: float | None = None):
        super().__init__(outcome)
        self.outcome, self.countdown = outcome, countdown


def registrants_sync(meeting_id: int) -> list[str]:
    """Claim the meeting's due registrant rows and make the provider match them. Returns the steps (logs, tests)."""
    token = claim(meeting_id)
    if token is None:
        return ["skipped"]
    claimed = list(
        MeetingRegistrant.objects.filter(meeting_id=meeting_id, claim_token=token).values_list("pk", flat=True)
    )
    steps: list[str] = []
    countdown, calls = None, 0
    try:
        with ClaimHeartbeat(meeting_id, token, renew_claim=renew):
            countdown, calls = _run(meeting_id, token, claimed, steps)
    finally:
        release(meeting_id, token)
    _requeue_if_needed(meeting_id, claimed, countdown, calls=calls)
    return steps


def _run(meeting_id: int, token: str, claimed: list[int], steps: list[str]) -> tuple[float | None, int]:
    """Do the claimed rows' work; returns a countdown for a short retry (if any) and the calls made."""
    meeting = VirtualMeeting.objects.select_related("owner").filter(pk=meeting_id).first()
    if meeting is None:
        return None, 0
    try:
        provider = get_provider(meeting.provider)
    except LookupError:
        provider = None
    run = _Run(meeting=meeting, provider=provider, token=token, steps=steps, claimed=claimed)
    if provider is None:
        message = gettext("The provider '%(provider)s' is no longer installed on this site.")
        run.update({"status": Status.FAILED, "last_error": message % {"provider": meeting.provider}})
        steps.append("failed")
        return None, 0
    try:
        _steps(run)
    except _Stopped as stop:
        steps.append(stop.outcome)
        return stop.countdown, run.calls
    return None, run.calls


def _steps(run: _Run) -> None:
    meeting, provider = run.meeting, run.provider
    if not provider.config.enabled:
        run.update({"last_error": held_text(provider.id)})
        raise _Stopped("held")
    if not meeting.present:
        raise _Stopped("waiting (meeting removed)")  # its registrants go with it, no call made
    try:
        run.connection = acting_remote(provider, meeting)
    except _NoConnection:
        message = reconnect_message(connection=None, owner=meeting.owner, provider=meeting.provider)
        raise _Stopped(*_backoff(run, [], ProviderError(message), "connect")) from None
    except ProviderError as exc:  # a site-account meeting with no host to act for
        raise _Stopped(*_backoff(run, [], exc, "connect")) from None
    if meeting.remote_id:
        doubtful = list(run.rows(maybe_sent=True).values_list("pk", flat=True))
        if doubtful:
            _guarded(run, doubtful, "list", lambda: _recover(run))
        for batch in _batches(run, run.rows(present=False, status=Status.CANCELLING).exclude(remote_id="")):
            _guarded(run, [row.pk for row in batch], "cancel", lambda batch=batch: _cancel(run, batch))
    wanted = registration_wanted(meeting, provider, run.connection)
    if meeting.personal_links and not wanted:
        _unsupported(run, provider.registrants_unavailable(run.connection))
        raise _Stopped("unsupported")
    if not (wanted and meeting.takes_registrants):
        raise _Stopped("waiting (meeting)")  # the meeting's own sync queues us when it is ready
    to_register = run.rows(present=True, status=Status.PENDING, remote_id="", maybe_sent=False)
    for batch in _batches(run, to_register):
        _guarded(run, [row.pk for row in batch], "register", lambda batch=batch: _register(run, batch))


def _batches(run: _Run, rows) -> list[list[MeetingRegistrant]]:
    size = max(1, run.provider.registrant_batch_size)
    found = list(rows)
    return [found[start : start + size] for start in range(0, len(found), size)]


def _guarded(run: _Run, ids: list[int], operation: str, call) -> None:
    """Make one provider call; what an error means decides whether the run goes on."""
    run.calls += 1
    try:
        call()
    except RateLimited as exc:
        raise _Stopped("waiting", _wait(run, ids, exc, operation)) from None
    except AuthRevoked as exc:
        if isinstance(run.connection, ProviderConnection):
            connection_revoke(connection=run.connection, message=exc.message)
        message = reconnect_message(connection=run.connection, owner=run.meeting.owner, provider=run.meeting.provider)
        raise _Stopped(*_backoff(run, ids, ProviderError(message), operation)) from None
    except MeetingNotFound:
        # The meeting was deleted at the provider: it is made again, and its registrants with it.
        meeting_mark_remote_gone(provider=run.meeting.provider, remote_id=run.remote_id)
        raise _Stopped("meeting gone") from None
    except RegistrationOff as exc:
        _registration_off(run, ids, exc, operation)
        raise _Stopped("waiting (registration off)") from None
    except ProviderError as exc:
        if not exc.permanent:
            raise _Stopped(*_backoff(run, ids, exc, operation)) from None
        reason = run.provider.registrants_unavailable(run.connection)
        if reason:
            # The refusal taught the provider that this host gives no personal links (Zoom: a Basic host).
            _unsupported(run, reason)
            raise _Stopped("unsupported") from None
        _fail(run, ids, exc.message, sent=exc.ambiguous or operation != "register")
        run.steps.append(f"{operation} failed")
    except Exception:
        # A provider bug or an unmapped network error: back off, and count a register as possibly made.
        log.exception("Registrants of meeting %s: unexpected error during %s.", run.meeting.pk, operation)
        message = gettext("Unexpected error while talking to %(service)s.") % {"service": run.provider.service}
        raise _Stopped(*_backoff(run, ids, ProviderError(message, ambiguous=True), operation)) from None


# --- the calls -------------------------------------------------------------------------------------
def _register(run: _Run, batch: list[MeetingRegistrant]) -> None:
    rows = _mark_sending(run, [row.pk for row in batch])
    if not rows:
        return
    people = [
        RegistrantSpec(key=str(r.pk), email=r.email, first_name=r.first_name, last_name=r.last_name) for r in rows
    ]
    found = run.provider.register(connection=run.connection, remote_id=run.remote_id, people=people)
    missing = _record_registered(run, [row.pk for row in rows], found)
    run.steps.append(f"register {len(rows)}")
    if missing:
        # The provider answered without some of them: count them as possibly made (listed next time).
        message = gettext("%(service)s did not confirm this registration.") % {"service": run.provider.service}
        raise _Stopped(*_backoff(run, missing, ProviderError(message, ambiguous=True), "register"))


def _mark_sending(run: _Run, ids: list[int]) -> list[MeetingRegistrant]:
    """Before a register call: the rows still to send, marked `maybe_sent` (a lost answer is listed, not resent)."""
    with transaction.atomic():
        meeting = _lock_meeting(run.meeting.pk)
        if meeting is None or meeting.remote_id != run.remote_id:
            return []
        rows = list(
            run.rows(
                pk__in=ids, present=True, status=Status.PENDING, remote_id="", maybe_sent=False
            ).select_for_update()
        )
        MeetingRegistrant.objects.filter(pk__in=[row.pk for row in rows]).update(maybe_sent=True)
    return rows


def _record_registered(run: _Run, ids: list[int], found: list[RemoteRegistrant]) -> list[int]:
    """Record the registrants the provider holds for these rows, by address. Returns the rows not found."""
    by_email = {registrant.email.lower(): registrant for registrant in found}
    missing = []
    now = timezone.now()
    with transaction.atomic():
        meeting = _lock_meeting(run.meeting.pk)
        if meeting is None or meeting.remote_id != run.remote_id:
            return []  # the meeting was made again meanwhile: its rows were reset for the new one
        for row in MeetingRegistrant.objects.filter(pk__in=ids, remote_id=""):
            registrant = by_email.get(row.email.lower())
            if registrant is None:
                missing.append(row.pk)
                continue
            row.remote_id, row.join_url = registrant.registrant_id, registrant.join_url
            row.maybe_sent, row.registered_at, row.attempts, row.last_error = False, now, 0, ""
            # Removed while the call was made: cancelled next.
            row.status = Status.REGISTERED if row.present else Status.CANCELLING
            row.next_attempt_at = now
            row.save()
    return missing


def _recover(run: _Run) -> None:
    """Rows whose register answer may be lost: adopt the registrant with their address, or send again."""
    found = run.provider.list_registrants(connection=run.connection, remote_id=run.remote_id)
    ids = list(run.rows(maybe_sent=True, remote_id="").values_list("pk", flat=True))
    missing = set(_record_registered(run, ids, found))
    with transaction.atomic():
        _lock_meeting(run.meeting.pk)
        for row in MeetingRegistrant.objects.filter(pk__in=missing, maybe_sent=True):
            row.maybe_sent = False  # never made: a row still wanted is registered below
            if not row.present:
                row.status, row.cancelled_at = Status.CANCELLED, timezone.now()
            row.save()
    run.steps.append(f"list (adopted {len(ids) - len(missing)})")


def _cancel(run: _Run, batch: list[MeetingRegistrant]) -> None:
    sent = {row.pk: row.remote_id for row in batch}
    run.provider.cancel_registrants(
        connection=run.connection, remote_id=run.remote_id, registrant_ids=list(sent.values())
    )
    now = timezone.now()
    with transaction.atomic():
        _lock_meeting(run.meeting.pk)
        for row in MeetingRegistrant.objects.filter(pk__in=list(sent)):
            if row.remote_id != sent[row.pk]:
                continue
            row.remote_id = row.join_url = ""
            row.registered_at, row.attempts, row.last_error = None, 0, ""
            if row.present:
                # Wanted again while the cancel was made: registered again, under a new address.
                row.status, row.next_attempt_at, row.email = Status.PENDING, now, registrant_email(row)
            else:
                row.status, row.cancelled_at = Status.CANCELLED, now
            row.save()
    run.steps.append(f"cancel {len(sent)}")


def _unsupported(run: _Run, reason: str) -> None:
    """The provider or the owner's account gives no personal links: say why on the rows waiting for one.

    A meeting that still requires registration is changed not to: everyone uses its shared link now,
    and must not meet the provider's registration form there.
    """
    reason = reason or Provider.registrants_unavailable(run.provider, run.connection)  # an override forgot super()
    changes = {"status": Status.UNSUPPORTED, "last_error": reason, "maybe_sent": False}
    run.update(changes, present=True, status=Status.PENDING, remote_id="")
    if run.meeting.registration:
        _meeting_sync_again(run, restore=False)


def _registration_off(run: _Run, ids: list[int], exc: RegistrationOff, operation: str) -> None:
    """The provider's meeting no longer requires registration (changed there): put the meeting back first.

    The rows wait for it, with no attempt counted; the meeting's sync wakes them once it is restored.
    """
    with transaction.atomic():
        _lock_meeting(run.meeting.pk)
        run.rows(status__in=REGISTRANT_WORK_STATUSES).update(last_error=exc.message, next_attempt_at=timezone.now())
        if operation == "register" and not exc.ambiguous:
            run.rows(pk__in=ids, remote_id="").update(maybe_sent=False)  # refused cleanly: nothing was made
    _meeting_sync_again(run, restore=True)


def _meeting_sync_again(run: _Run, *, restore: bool) -> None:
    """Have the meeting's own sync send it again: everything (`restore`: its remote state is unknown, as
    after a pre-start check found it changed), or what changed (registration no longer wanted)."""
    with transaction.atomic():
        meeting = _lock_meeting(run.meeting.pk)
        if meeting is None or not meeting.present or meeting.remote_id != run.remote_id:
            return
        if restore:
            meeting.synced_spec = {}
            meeting.registration = False  # not until the update has put it back: the rows wait for that
        if meeting.status == VirtualMeeting.Status.AVAILABLE:
            meeting.status, meeting.next_attempt_at = VirtualMeeting.Status.UPDATING, timezone.now()
        meeting.save()
        meeting_schedule(meeting.pk)


# --- failures -----------------------------------------------------------------------------------------
def _fail(run: _Run, ids: list[int], message: str, *, sent: bool) -> None:
    changes = {"status": Status.FAILED, "last_error": message}
    if not sent:
        changes["maybe_sent"] = False  # refused cleanly: nothing was made
    run.update(changes, pk__in=ids)


def _wait(run: _Run, ids: list[int], exc: RateLimited, operation: str) -> float:
    """Wait until exactly the provider's time; the rows not yet done wait with the batch refused."""
    now = timezone.now()
    retry_at = max(exc.retry_at, now)
    text = waiting_text(service=run.provider.service, daily=exc.daily, until=retry_at, now=now)
    with transaction.atomic():
        _lock_meeting(run.meeting.pk)
        waiting = run.rows(status__in=REGISTRANT_WORK_STATUSES)
        waiting.update(next_attempt_at=retry_at, last_error=text)
        if operation == "register" and not exc.ambiguous:
            waiting.filter(pk__in=ids, remote_id="").update(maybe_sent=False)
    return (retry_at - now).total_seconds()


def _backoff(run: _Run, ids: list[int], exc: ProviderError, operation: str) -> tuple[str, float]:
    """A transient failure of the rows `ids`: retry later with backoff; the rest of the run waits as long."""
    now = timezone.now()
    delay = 0.0
    with transaction.atomic():
        _lock_meeting(run.meeting.pk)
        rows = list(run.rows(status__in=REGISTRANT_WORK_STATUSES).select_for_update())
        failing = [row for row in rows if row.pk in ids] if ids else rows  # no ids: the whole run failed
        for row in failing:
            row.attempts += 1
            delay = max(delay, backoff_delay(row.attempts))
        for row in rows:
            if row in failing and row.attempts >= vm_settings.MAX_ATTEMPTS:
                message = gettext("%(service)s kept failing (%(reason)s).")
                row.status = Status.FAILED
                row.last_error = message % {"service": run.provider.service, "reason": exc.message.rstrip(".")}
            else:
                row.last_error = exc.message
                row.next_attempt_at = now + timedelta(seconds=delay)
            if row in failing and operation == "register" and not exc.ambiguous and not row.remote_id:
                row.maybe_sent = False  # refused cleanly: nothing was made
            row.save()
    return "retry", delay


# --- what next ---------------------------------------------------------------------------------------
def _requeue_if_needed(meeting_id: int, claimed: list[int], countdown: float | None, *, calls: int) -> None:
    """Run again now for work that became due during the run; short waits go to Celery as a countdown.

    A run that made no call (held, or waiting for the meeting) leaves its rows to the
    meeting's own sync or the sweep, so it cannot loop.
    """
    meeting = VirtualMeeting.objects.filter(pk=meeting_id).first()
    if meeting is None or not meeting.takes_registrants:
        return
    now = timezone.now()
    work = MeetingRegistrant.objects.filter(meeting_id=meeting_id, status__in=REGISTRANT_WORK_STATUSES)
    due = work.filter(next_attempt_at__lte=now)
    if due.exclude(pk__in=claimed).exists() or (calls and due.exists()):
        registrants_schedule(meeting_id)
        return
    if countdown is None:
        return
    first = work.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if first is not None and (first - now).total_seconds() <= vm_settings.MAX_COUNTDOWN_SECONDS:
        registrants_schedule(meeting_id, countdown=max((first - now).total_seconds(), 0))
    # Longer waits stay in the database; the sweep queues the meeting when they are due.


# --- one person, now (a click) --------------------------------------------------------------------
def registrant_now(*, reference: str, key: str, user=None, first_name: str, last_name: str) -> str:
    """Register one person for the meeting `reference` now and return their personal join link.

    For a click (a trainer's first "Go to room" on a meeting that requires registration): the person
    is wanted as `registrant_put` would say, and a person already registered gets their link with no
    call. Otherwise their row is claimed (the registrants sync leaves it alone) and marked
    `maybe_sent` before one register call in the provider's per-second buckets; an earlier answer
    that may be lost is first looked for in the meeting's registrants, so nobody is registered twice.
    Raises MeetingUnavailable with a message for the person when no link can be had now (the meeting
    takes no registrants, another click holds the row, the provider refused or failed); what can be
    retried is left to the registrants sync.
    """
    meeting, row, token = _claim_one(
        reference=reference, key=key, user=user, first_name=first_name, last_name=last_name
    )
    if token is None:
        return row.join_url
    provider = get_provider(meeting.provider)
    run = _Run(meeting=meeting, provider=provider, token=token, claimed=[row.pk])
    countdown = None
    try:
        with ClaimHeartbeat(meeting.pk, token, renew_claim=renew):
            countdown = _register_one(run)
    finally:
        release(meeting.pk, token)
    _requeue_if_needed(meeting.pk, [row.pk], countdown, calls=run.calls)
    row.refresh_from_db()
    if row.status == Status.REGISTERED and row.join_url:
        return row.join_url
    service = provider.service
    if row.last_error:
        raise MeetingUnavailable(
            gettext("%(service)s could not give you a personal link: %(reason)s.")
            % {"service": service, "reason": row.last_error.rstrip(".")}
        )
    raise MeetingUnavailable(gettext("%(service)s could not give you a personal link now.") % {"service": service})


def _claim_one(*, reference, key, user, first_name, last_name) -> tuple[VirtualMeeting, MeetingRegistrant, str | None]:
    """Want the person, and claim their row for a register call: (meeting, row, token); token None: registered."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        meeting = (
            VirtualMeeting.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(reference=reference)
            .first()
        )
        if meeting is None or not meeting.takes_registrants:
            raise MeetingUnavailable(gettext("This meeting gives no personal links now."))
        try:
            provider = get_provider(meeting.provider)
        except LookupError:
            raise MeetingUnavailable(gettext("This meeting gives no personal links now.")) from None
        if not provider.config.enabled:
            raise MeetingUnavailable(held_text(provider.id))
        row = registrant_put(reference=reference, key=key, user=user, first_name=first_name, last_name=last_name)
        if row.status == Status.REGISTERED and row.join_url:
            return meeting, row, None
        now = timezone.now()
        if row.claimed_until and row.claimed_until > now:
            raise MeetingUnavailable(gettext("Your personal link is being made. Please try again in a moment."))
        row.claim_token, row.claimed_until = token, now + timedelta(seconds=vm_settings.CLAIM_SECONDS)
        row.save(update_fields=["claim_token", "claimed_until"])
    return meeting, row, token


def _register_one(run: _Run) -> float | None:
    """The claimed row's calls: adopt a registration whose answer may be lost, else register. A countdown to retry."""
    meeting, provider = run.meeting, run.provider
    try:
        run.connection = acting_remote(provider, meeting)
    except _NoConnection:
        message = reconnect_message(connection=None, owner=meeting.owner, provider=meeting.provider)
        return _backoff(run, [], ProviderError(message), "connect")[1]
    except ProviderError as exc:  # a site-account meeting with no host to act for
        return _backoff(run, [], exc, "connect")[1]
    if not registration_wanted(meeting, provider, run.connection):
        _unsupported(run, provider.registrants_unavailable(run.connection))
        return None
    try:
        if run.rows(maybe_sent=True).exists():
            _guarded(run, run.claimed, "list", lambda: _recover(run))
        to_register = list(run.rows(present=True, status=Status.PENDING, remote_id="", maybe_sent=False))
        if to_register:
            _guarded(run, run.claimed, "register", lambda: _register(run, to_register))
    except _Stopped as stop:
        return stop.countdown
    return None
