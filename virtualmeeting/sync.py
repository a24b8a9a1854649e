"""Make the provider match the database, one meeting at a time.

`meeting_sync(meeting_id)` claims the row with a conditional UPDATE (no two
workers act on one meeting), then repeats: read the row, decide the one call
needed (create, update, delete, or nothing), make it with no transaction or
lock held, record the result in a short transaction. Idempotent: a duplicate
task finds nothing to do; a create whose answer was lost is found by its
marker (`maybe_created`) instead of being sent twice. A meeting handed to
another owner or host is made there first and deleted where it was only
afterwards ("moving a meeting" below), so people always have one to join.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from virtualmeeting import signals, state
from virtualmeeting.conf import vm_settings
from virtualmeeting.errors import AuthRevoked, MeetingNotFound, ProviderError, RateLimited
from virtualmeeting.models import (
    CHECK_STATUSES,
    WORK_STATUSES,
    OAuthState,
    ProviderConnection,
    VirtualMeeting,
    new_marker,
)
from virtualmeeting.providers.base import AccountHost, MeetingSpec, Provider, RemoteMeeting
from virtualmeeting.registry import get_provider, provider_ids
from virtualmeeting.selectors import meetings_check_due, meetings_due, registrants_due, waiting_text
from virtualmeeting.services import (
    connection_revoke,
    meeting_checks_schedule,
    meeting_gone,
    meeting_schedule,
    meetings_hold,
    provider_enabled_changed,
    reconnect_message,
    registrants_forget,
    registrants_schedule,
    registrants_wake,
)

log = logging.getLogger(__name__)
Status = VirtualMeeting.Status

MAX_STEPS = 4  # calls per claim: e.g. find + update, or find + delete (old) + create + delete (old) in a move


# --- the spec (MeetingSpec declares how it is built, stored and compared) -------------------
def registration_wanted(meeting: VirtualMeeting, provider: Provider, connection) -> bool:
    """The meeting should require registration: personal links are asked for and this host can give them."""
    return bool(
        meeting.personal_links and provider.supports_registrants and not provider.registrants_unavailable(connection)
    )


# --- backoff --------------------------------------------------------------------------
def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """Seconds before attempt number `attempts + 1`: exponential, capped, with jitter in [d/2, d]."""
    base = vm_settings.BACKOFF_BASE_SECONDS
    ceiling = vm_settings.BACKOFF_MAX_SECONDS
    delay = min(base * 2 ** max(attempts - 1, 0), ceiling)
    return (rng or random).uniform(delay / 2, delay)


# --- claiming ---------------------------------------------------------------------------
def claim_where(meeting_id: int, condition: Q) -> str | None:
    """Take the meeting for this worker if it meets `condition` and nobody holds it. Returns the claim token.

    One lease per meeting for all of its provider work (sync, pre-start check, participants poll).
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = (
        VirtualMeeting.objects.filter(condition, pk=meeting_id)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=vm_settings.CLAIM_SECONDS), claim_token=token)
    )
    return token if taken == 1 else None


def claim(meeting_id: int) -> str | None:
    """Take the meeting for this worker if it is due and nobody holds it. Returns the claim token."""
    return claim_where(meeting_id, Q(status__in=WORK_STATUSES, next_attempt_at__lte=timezone.now()))


def release(meeting_id: int, token: str) -> None:
    VirtualMeeting.objects.filter(pk=meeting_id, claim_token=token).update(claimed_until=None, claim_token="")


def renew(meeting_id: int, token: str) -> bool:
    """Extend our claim by CLAIM_SECONDS from now. False when the claim is no longer ours."""
    until = timezone.now() + timedelta(seconds=vm_settings.CLAIM_SECONDS)
    return VirtualMeeting.objects.filter(pk=meeting_id, claim_token=token).update(claimed_until=until) == 1


class ClaimHeartbeat:
    """Renew a claim every CLAIM_RENEW_SECONDS from a thread while the worker holds it.

    The claim is a short lease, so a killed worker's meeting is free again within
    CLAIM_SECONDS; a live worker in a long provider call (a slow answer, a wait for a
    per-second token) keeps its meeting. The thread uses its own database connection
    and closes it when it stops. `renew_claim(meeting_id, token)` renews another
    kind of claim (a meeting's registrants); False when it is no longer ours.
    """

    def __init__(self, meeting_id: int, token: str, *, renew_claim: Callable[[int, str], bool] | None = None):
        self.meeting_id, self.token = meeting_id, token
        self._renew = renew_claim or renew
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"vm-claim-{meeting_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(vm_settings.CLAIM_RENEW_SECONDS):
                try:
                    if not self._renew(self.meeting_id, self.token):
                        return
                except Exception:  # the database is briefly unreachable: try again at the next beat
                    log.warning("Meeting %s: could not renew the claim.", self.meeting_id, exc_info=True)
        finally:
            db_connection.close()


# --- one run --------------------------------------------------------------------------------
@dataclass
class _Stop:
    """A step ended the run: `countdown` asks for a short retry through Celery."""

    outcome: str
    countdown: float | None = None


class _NoConnection(Exception):
    pass


def meeting_sync(meeting_id: int) -> list[str]:
    """Claim the meeting and make the provider match it. Returns the steps taken (for logs and tests)."""
    token = claim(meeting_id)
    if token is None:
        return ["skipped"]
    steps: list[str] = []
    countdown = None
    try:
        with ClaimHeartbeat(meeting_id, token):
            countdown = _run_steps(meeting_id, token, steps)
    finally:
        release(meeting_id, token)
    _requeue_if_needed(meeting_id, countdown)
    registrants_wake(meeting_id)
    return steps


def _run_steps(meeting_id: int, token: str, steps: list[str]) -> float | None:
    """Make the calls the row asks for (at most MAX_STEPS); returns a countdown for a short retry, if any."""
    for _ in range(MAX_STEPS):
        result = _step(meeting_id, token)
        if isinstance(result, _Stop):
            if result.outcome != "nothing to do" or not steps:
                steps.append(result.outcome)
            return result.countdown
        steps.append(result)
    return None


def _requeue_if_needed(meeting_id: int, countdown: float | None) -> None:
    """Run again now if the desired state moved during the call; short waits go to Celery as a countdown."""
    meeting = VirtualMeeting.objects.filter(pk=meeting_id).first()
    if meeting is None or meeting.status not in WORK_STATUSES:
        return
    wait = (meeting.next_attempt_at - timezone.now()).total_seconds()
    if wait <= 0:
        meeting_schedule(meeting_id)
    elif countdown is not None and wait <= vm_settings.MAX_COUNTDOWN_SECONDS:
        meeting_schedule(meeting_id, countdown=wait)
    # Longer waits stay in the database; the sweep queues the meeting when it is due.


def _step(meeting_id: int, token: str):
    """Decide and make one call. Returns its name, or _Stop when the run should end."""
    meeting = VirtualMeeting.objects.select_related("owner").filter(pk=meeting_id).first()
    if meeting is None or meeting.claim_token != token:
        return _Stop("claim lost")
    if meeting.status not in WORK_STATUSES:
        return _Stop("nothing to do")
    try:
        provider = get_provider(meeting.provider)
    except LookupError:
        message = gettext("The provider '%(provider)s' is no longer installed on this site.")
        meeting_fail_now(meeting, message % {"provider": meeting.provider})
        return _Stop("failed")
    if not provider.config.enabled:
        meetings_hold(provider=meeting.provider, ids=[meeting.pk])
        return _Stop("held")

    operation = "connect"
    connection = None
    try:
        if not meeting.present:
            operation = "delete"
            return _delete(meeting, provider, token)
        connection = acting_for(provider, meeting)
        if not meeting.remote_id and meeting.maybe_created:
            operation = "find"
            return _recover(meeting, provider, acting_inflight(provider, meeting))
        if meeting.remote_id and meeting.old_remote_id:
            operation = "delete"
            return _delete_old(meeting, provider)
        if meeting.remote_id and _lives_elsewhere(meeting):
            meeting = _set_aside(meeting, token)  # no call: the successor is created below, the old one kept
        elif not meeting.remote_id and _old_is_wanted(meeting):
            meeting = _take_back(meeting, token)  # handed back before the successor was made: no call
        if meeting is None:
            return "replan"
        spec = MeetingSpec.of(meeting, registration=registration_wanted(meeting, provider, connection))
        if not meeting.remote_id:
            operation = "create"
            return _create(meeting, provider, connection, token, spec)
        if meeting.check_remote:
            operation = "get"
            return _check(meeting, provider, connection, spec)
        if spec.changed_fields(MeetingSpec.from_json(meeting.synced_spec, marker=meeting.marker)):
            operation = "update"
            return _update(meeting, provider, connection, token, spec)
        _record_in_sync(meeting.pk, meeting.desired_version)
        return _Stop("in sync")
    except _NoConnection:
        meeting_fail_now(meeting, reconnect_message(connection=None, owner=meeting.owner, provider=meeting.provider))
        return _Stop("failed")
    except RateLimited as exc:
        return _wait(meeting, provider, exc, operation)
    except AuthRevoked as exc:
        return _revoked(meeting, provider, exc)
    except ProviderError as exc:
        if exc.permanent:
            if operation == "create" and not exc.ambiguous:
                VirtualMeeting.objects.filter(pk=meeting.pk).update(maybe_created=False)
            message = gettext(
                "%(reason)s. Check the session's details, then use Retry now or save the event again."
            ) % {"reason": exc.message.rstrip(".")}
            meeting_fail_now(meeting, message)
            return _Stop("failed")
        return _backoff(meeting, provider, exc, operation)
    except Exception:
        # A provider bug or an unmapped network error: retry with backoff rather than spin, and
        # treat a create as possibly made. The details go to the log, not to people.
        log.exception("Meeting %s: unexpected error during %s.", meeting_id, operation)
        message = gettext("Unexpected error while talking to %(service)s.") % {"service": provider.service}
        unexpected = ProviderError(message, ambiguous=True)
        return _backoff(meeting, provider, unexpected, operation)


def _connection(provider: Provider, user_id: int | None, provider_id: str) -> ProviderConnection | None:
    if not provider.needs_connection:
        return None
    connection = ProviderConnection.objects.filter(user_id=user_id, provider=provider_id).first()
    if connection is None or not connection.is_usable:
        raise _NoConnection
    return connection


def _account_host(provider: Provider, host: str) -> AccountHost:
    if not provider.supports_account:
        message = gettext("%(service)s offers no site account to host meetings in.")
        raise ProviderError(message % {"service": provider.service}, permanent=True, code="unsupported")
    if not host:
        message = gettext("No host in the site's %(service)s account is chosen for this meeting.")
        raise ProviderError(message % {"service": provider.service}, permanent=True, code="no_host")
    return AccountHost(host)


def acting_for(provider: Provider, meeting: VirtualMeeting) -> ProviderConnection | AccountHost | None:
    """What the provider's hooks act with for the meeting as it should be: the site account for its host, else
    its owner's connection (None for a provider without connections). Raises _NoConnection or ProviderError."""
    if meeting.hosting == VirtualMeeting.Hosting.ACCOUNT:
        return _account_host(provider, meeting.host)
    return _connection(provider, meeting.owner_id, meeting.provider)


def acting_remote(provider: Provider, meeting: VirtualMeeting) -> ProviderConnection | AccountHost | None:
    """What the provider's hooks act with for the remote meeting where it lives now: the site account for the
    host it was made for, else the connection of the owner it was made by (its owner's before it exists)."""
    if not meeting.remote_id:
        return acting_for(provider, meeting)
    if meeting.remote_host:
        return _account_host(provider, meeting.remote_host)
    return _connection(provider, meeting.remote_owner_id or meeting.owner_id, meeting.provider)


def acting_inflight(provider: Provider, meeting: VirtualMeeting) -> ProviderConnection | AccountHost | None:
    """What a create in flight was sent with (where its meeting may now be): the row records the owner or host
    it was made for, which may no longer be the desired one (handed to someone else meanwhile). Rows whose
    create went out before that was recorded use the desired owner or host."""
    if meeting.inflight_host:
        return _account_host(provider, meeting.inflight_host)
    if meeting.inflight_owner_id:
        return _connection(provider, meeting.inflight_owner_id, meeting.provider)
    return acting_for(provider, meeting)


def _acting_old(provider: Provider, meeting: VirtualMeeting) -> ProviderConnection | AccountHost | None:
    """What the provider's hooks act with for the old meeting of a move, where it lives."""
    if meeting.old_remote_host:
        return _account_host(provider, meeting.old_remote_host)
    return _connection(provider, meeting.old_remote_owner_id, meeting.provider)


def _wanted_at(meeting: VirtualMeeting, owner_id: int | None, host: str) -> bool:
    """A remote meeting made by `owner_id`'s connection (host "") or for the site account's `host` is where the
    row wants it."""
    if meeting.hosting == VirtualMeeting.Hosting.ACCOUNT:
        return host == meeting.host
    return not host and (owner_id is None or owner_id == meeting.owner_id)


def _old_is_wanted(meeting: VirtualMeeting) -> bool:
    """The old meeting of a move lives where the row wants the meeting now (handed back before the move ended)."""
    if not meeting.old_remote_id or (meeting.old_remote_owner_id is None and not meeting.old_remote_host):
        return False
    return _wanted_at(meeting, meeting.old_remote_owner_id, meeting.old_remote_host)


def _lives_elsewhere(meeting: VirtualMeeting) -> bool:
    """The remote meeting is not where the row wants it (another owner's account, or another host)."""
    return not _wanted_at(meeting, meeting.remote_owner_id, meeting.remote_host)


def _locked(meeting_id: int) -> VirtualMeeting:
    return VirtualMeeting.objects.select_for_update().get(pk=meeting_id)


def _mark_calling(meeting_id: int, token: str, version: int, **changes) -> bool:
    """Before a call: check the desired state has not moved and our claim holds, and record intent."""
    with transaction.atomic():
        row = _locked(meeting_id)
        if row.claim_token != token or row.desired_version != version:
            return False
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
    return True


# --- the calls ---------------------------------------------------------------------------------
def _create(meeting: VirtualMeeting, provider: Provider, connection, token: str, spec: MeetingSpec):
    version = meeting.desired_version
    spec_json = spec.to_json()
    # maybe_created is stored before the request: if the answer is lost (or this
    # worker dies), the next attempt looks for the meeting instead of making another.
    if not _mark_calling(
        meeting.pk,
        token,
        version,
        maybe_created=True,
        inflight_version=version,
        inflight_spec=spec_json,
        inflight_owner_id=meeting.owner_id,
        inflight_host=connection.host if isinstance(connection, AccountHost) else "",
        status=Status.CREATING,
    ):
        return "replan"
    remote = provider.create_meeting(connection=connection, spec=spec)
    _record_remote(meeting.pk, provider, connection, remote, version, spec_json, meeting.owner_id)
    return "create"


def _recover(meeting: VirtualMeeting, provider: Provider, connection):
    """A create may have happened: adopt the meeting carrying our marker, or clear the doubt.

    `connection` is what the create was sent with (`acting_inflight`). The marker is new for every meeting
    made after a move began (`_set_aside`), so the old meeting of a move is never taken for the new one.
    """
    found = provider.find_meeting(connection=connection, marker=meeting.marker)
    if found is not None and found.remote_id == meeting.old_remote_id:
        # The provider should never offer it (its marker is the previous one): never adopt it as the new meeting.
        log.warning("Meeting %s: the provider offered the old meeting of a move as the lost create.", meeting.pk)
        found = None
    if found is not None:
        owner_id = meeting.inflight_owner_id or meeting.owner_id
        _record_remote(
            meeting.pk, provider, connection, found, meeting.inflight_version, meeting.inflight_spec, owner_id
        )
        return "find (adopted)"
    with transaction.atomic():
        row = _locked(meeting.pk)
        row.maybe_created = False
        row.save()
    return "find (none)"


def _record_remote(meeting_id, provider, connection, remote: RemoteMeeting, version, spec_json, owner_id) -> None:
    """Record a meeting that now exists remotely, at once and in its own transaction."""
    duplicate = False
    with transaction.atomic():
        row = _locked(meeting_id)
        if row.remote_id and row.remote_id != remote.remote_id:
            duplicate = True
        else:
            row.remote_id = remote.remote_id
            row.remote_owner_id = owner_id
            row.remote_host = connection.host if isinstance(connection, AccountHost) else ""
            if row.old_remote_id:
                # The successor of a moved meeting: people join it from now on (the old one is deleted next),
                # and those still wanted are registered in it.
                row.join_url = row.password = row.host_email = ""
                registrants_forget(row)
            _copy_remote(row, remote)
            row.maybe_created = False
            row.inflight_version, row.inflight_spec = 0, {}
            row.inflight_owner_id, row.inflight_host = None, ""
            row.synced_version, row.synced_spec = version, spec_json
            row.registration = bool(spec_json.get("registration"))
            if row.remote_gone_at is not None:
                row.remote_gone_at = None
                row.recreated_at = timezone.now()
                signals.send_meeting_signal_on_commit(signals.meeting_recreated, row)
            state.settle(row, version)
            if row.old_remote_id:
                state.mark_working(row, due=True)  # not done yet: the old meeting is deleted next
            row.save()
    if duplicate:
        # Another run recorded a different meeting meanwhile: ours is surplus.
        log.warning("Meeting %s: deleting surplus remote meeting made by a concurrent run.", meeting_id)
        try:
            provider.delete_meeting(connection=connection, remote_id=remote.remote_id)
        except ProviderError as exc:
            log.warning("Meeting %s: could not delete the surplus remote meeting: %s", meeting_id, exc.message)


def _copy_remote(row: VirtualMeeting, remote: RemoteMeeting | None) -> None:
    if remote is None:
        return
    row.join_url = remote.join_url or row.join_url
    row.password = remote.password or row.password
    row.host_email = remote.host_email or row.host_email


def _record_in_sync(meeting_id: int, version: int) -> None:
    with transaction.atomic():
        row = _locked(meeting_id)
        if row.desired_version == version and row.status != Status.AVAILABLE:
            state.mark_done(row)
            row.synced_version = version
            if row.next_check_at is None:
                state.plan_checks(row)
            row.save()


def _update(meeting: VirtualMeeting, provider: Provider, connection, token: str, spec: MeetingSpec):
    version = meeting.desired_version
    previous = MeetingSpec.from_json(meeting.synced_spec, marker=meeting.marker)
    if not _mark_calling(meeting.pk, token, version, status=Status.UPDATING):
        return "replan"
    try:
        remote = provider.update_meeting(
            connection=connection, remote_id=meeting.remote_id, spec=spec, previous=previous
        )
    except MeetingNotFound:
        return _gone(meeting)
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.remote_id == meeting.remote_id:
            _copy_remote(row, remote)
            row.synced_version, row.synced_spec = version, spec.to_json()
            row.registration = spec.registration
            state.settle(row, version)
            row.save()
    return "update"


def _check(meeting: VirtualMeeting, provider: Provider, connection, spec: MeetingSpec):
    """The meeting was edited remotely: restore our state only if it differs."""
    try:
        remote = provider.get_meeting(connection=connection, remote_id=meeting.remote_id)
    except MeetingNotFound:
        return _gone(meeting)
    with transaction.atomic():
        row = _locked(meeting.pk)
        row.check_remote = False
        if not provider.remote_matches(remote, spec):
            row.synced_spec = {}  # unknown remote state: the update sends everything
        row.save()
    return "get"


def _gone(meeting: VirtualMeeting):
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.remote_id == meeting.remote_id:
            meeting_gone(meeting=row)
    return "gone"


def _delete(meeting: VirtualMeeting, provider: Provider, token: str):
    version = meeting.desired_version
    if meeting.old_remote_id:
        return _delete_old(meeting, provider)  # removed during a move: both meetings go, the old one first
    if not meeting.remote_id and not meeting.maybe_created:
        _record_in_sync(meeting.pk, version)
        return _Stop("in sync")
    if not meeting.remote_id:
        return _recover(meeting, provider, acting_inflight(provider, meeting))
    connection = acting_remote(provider, meeting)
    if not _mark_calling(meeting.pk, token, version, status=Status.DELETING):
        return "replan"
    provider.delete_meeting(connection=connection, remote_id=meeting.remote_id)
    _record_deleted(meeting)
    return "delete"


def _record_deleted(meeting: VirtualMeeting) -> None:
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.remote_id != meeting.remote_id:
            return
        row.remote_id = row.join_url = row.password = row.host_email = ""
        row.remote_owner_id, row.remote_host = None, ""
        row.synced_spec, row.check_remote, row.registration = {}, False, False
        registrants_forget(row)
        row.checked_before = row.next_check_at = None
        if row.present:
            state.mark_working(row, due=True)  # pending: made again
        else:
            row.synced_version = row.desired_version
            state.settle(row, row.desired_version)
        row.save()


# --- moving a meeting to another owner or host -----------------------------------------------------
# A provider cannot move a meeting between users, so a meeting handed to another owner or host is made again
# there. The new one is made FIRST and the old one deleted only once the new one is recorded, so people always
# have a meeting to join: `_set_aside` keeps the old meeting's identity in old_* (the join redirect uses
# `old_join_url` meanwhile), the create then runs as for any meeting (a wait for the new host's limit leaves the
# old meeting in use), `_record_remote` records the successor (its registrants registered again there), and
# `_delete_old` deletes the old meeting where it lives. A second handover before that waits for the old meeting
# to go first (one old meeting at a time); a handover back to where the old meeting lives before its successor
# exists takes the old meeting back (`_take_back`); a row removed meanwhile deletes both.
def _set_aside(meeting: VirtualMeeting, token: str) -> VirtualMeeting | None:
    """Keep the meeting that lives elsewhere as the old one of a move; the successor is created next.

    No call is made. A new marker for the row: the lost answer of the successor's create is then never
    confused with the old meeting (made for the previous marker), even in the same provider account.
    Returns the row as it now is, or None when our claim or the row moved meanwhile.
    """
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.claim_token != token or row.remote_id != meeting.remote_id or row.old_remote_id:
            return None
        if not _lives_elsewhere(row):
            return None
        row.old_remote_id, row.old_join_url = row.remote_id, row.join_url
        row.old_remote_owner_id = row.remote_owner_id
        row.old_remote_host = row.remote_host
        row.remote_id = row.join_url = ""
        row.remote_owner_id, row.remote_host = None, ""
        # synced_spec, registration, password and host_email still describe the old meeting, should it be taken
        # back; the registrants keep their links to it until the successor is recorded.
        row.marker = new_marker()
        state.mark_pending(row)  # the successor is created next
        row.save()
    log.info(
        "Meeting %s: moving; the new meeting is made before the old one (%s) is deleted.", row.pk, row.old_remote_id
    )
    return VirtualMeeting.objects.select_related("owner").get(pk=row.pk)


def _take_back(meeting: VirtualMeeting, token: str) -> VirtualMeeting | None:
    """The old meeting of a move lives where the row wants the meeting again: it is the meeting once more (no
    call). Its registrants kept their links to it. Returns the row as it now is, or None if it moved meanwhile."""
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.claim_token != token or row.remote_id or row.maybe_created or not _old_is_wanted(row):
            return None
        row.remote_id, row.join_url = row.old_remote_id, row.old_join_url
        row.remote_owner_id, row.remote_host = row.old_remote_owner_id, row.old_remote_host
        _forget_old(row)
        state.mark_working(row)
        row.save()
    return VirtualMeeting.objects.select_related("owner").get(pk=row.pk)


def _forget_old(row: VirtualMeeting) -> None:
    row.old_remote_id = row.old_join_url = row.old_remote_host = ""
    row.old_remote_owner_id = None


def _delete_old(meeting: VirtualMeeting, provider: Provider):
    """Delete the old meeting of a move where it lives (a delete spends no daily create/update budget).

    When the connection it was made with is no longer usable (revoked, removed: a trainer who left), the site's
    account deletes it if the provider has one set up (it reaches every meeting of the account); otherwise, or
    when the provider refuses for good, it is left behind: the move is not failed, and `meeting_left_behind`
    names it for a person to delete by hand. A transient error or a rate limit retries as for any call.
    """
    remote_id = meeting.old_remote_id
    try:
        provider.delete_meeting(connection=_acting_old(provider, meeting), remote_id=remote_id)
        outcome = "delete (owner changed)"
    except MeetingNotFound:
        outcome = "delete (owner changed)"  # gone already
    except (_NoConnection, AuthRevoked) as exc:
        if isinstance(exc, AuthRevoked):
            _revoke_old_connection(meeting, exc)
        outcome = _delete_old_with_account(meeting, provider)
    except RateLimited:
        raise
    except ProviderError as exc:
        if not exc.permanent:
            raise
        log.warning(
            "Meeting %s: %s refused to delete the old meeting %s: %s", meeting.pk, provider.service, remote_id, exc
        )
        outcome = "left behind"
    _record_old_gone(meeting, left_behind=outcome == "left behind")
    return outcome if outcome != "left behind" else "delete (old meeting left behind)"


def _revoke_old_connection(meeting: VirtualMeeting, exc: AuthRevoked) -> None:
    if meeting.old_remote_host or meeting.old_remote_owner_id is None:
        return
    connection = ProviderConnection.objects.filter(
        user_id=meeting.old_remote_owner_id, provider=meeting.provider
    ).first()
    if connection is not None:
        connection_revoke(connection=connection, message=exc.message)


def _delete_old_with_account(meeting: VirtualMeeting, provider: Provider) -> str:
    """The old meeting's own connection cannot act: delete it with the site's account, if there is one."""
    if not provider.account_is_configured():
        log.warning(
            "Meeting %s: the connection the old meeting %s lives in is not usable and %s has no site account set "
            "up: it is left behind.",
            meeting.pk,
            meeting.old_remote_id,
            provider.service,
        )
        return "left behind"
    connection = None
    if not meeting.old_remote_host and meeting.old_remote_owner_id is not None:
        connection = ProviderConnection.objects.filter(
            user_id=meeting.old_remote_owner_id, provider=meeting.provider
        ).first()
    try:
        provider.delete_meeting_as_account(remote_id=meeting.old_remote_id, connection=connection)
    except MeetingNotFound:
        pass  # gone already
    except RateLimited:
        raise
    except ProviderError as exc:
        if not exc.permanent:
            raise
        log.warning(
            "Meeting %s: the site account could not delete the old meeting %s: %s",
            meeting.pk,
            meeting.old_remote_id,
            exc,
        )
        return "left behind"
    return "delete (with the site account)"


def _record_old_gone(meeting: VirtualMeeting, *, left_behind: bool) -> None:
    """The old meeting of a move is deleted (or left behind, announced once): only the new one remains."""
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.old_remote_id != meeting.old_remote_id:
            return
        if left_behind:
            signals.send_meeting_left_behind_on_commit(
                row,
                remote_id=row.old_remote_id,
                owner=row.old_remote_owner,
                host=row.old_remote_host,
            )
        _forget_old(row)
        done = row.present and row.remote_id and row.synced_version == row.desired_version and not row.check_remote
        if done and row.status in WORK_STATUSES:
            # The move was all that was left to do (the successor is in sync): available, as settle would leave it.
            state.mark_done(row)
        row.save()


# --- pre-start checks --------------------------------------------------------------------------
def claim_check(meeting_id: int) -> str | None:
    """Take the meeting for a pre-start check if its check is due and no worker holds it."""
    return claim_where(meeting_id, Q(status__in=CHECK_STATUSES, next_check_at__lte=timezone.now()))


def meeting_check(meeting_id: int) -> list[str]:
    """Pre-start check: read the meeting at the provider before it is needed (a GET, no quota spent).

    A meeting deleted at the provider with no webhook to tell us is re-created at
    once, in this run (the owner is told through `meeting_recreated`); an available
    meeting edited there is restored. Each checkpoint is recorded on the row, so a
    check runs once per checkpoint, across restarts.
    """
    token = claim_check(meeting_id)
    if token is None:
        return ["skipped"]
    steps: list[str] = []
    countdown = None
    try:
        with ClaimHeartbeat(meeting_id, token):
            steps.append(_check_before_start(meeting_id, token))
            # Re-create or restore in this run, unless a daily-limit wait still holds the meeting.
            due = VirtualMeeting.objects.filter(pk=meeting_id, next_attempt_at__lte=timezone.now()).exists()
            if steps[-1] in ("gone", "changed") and due:
                countdown = _run_steps(meeting_id, token, steps)
    finally:
        release(meeting_id, token)
    _requeue_if_needed(meeting_id, countdown)
    registrants_wake(meeting_id)
    return steps


def _check_before_start(meeting_id: int, token: str) -> str:
    meeting = VirtualMeeting.objects.filter(pk=meeting_id).first()
    if meeting is None or meeting.claim_token != token:
        return "claim lost"
    if not meeting.present or not meeting.remote_id:
        _record_checked(meeting, matches=True)
        return "nothing to check"
    try:
        provider = get_provider(meeting.provider)
        if not provider.config.enabled:
            return "not checked (provider disabled)"  # still due: checked once the provider is enabled again
        connection = acting_remote(provider, meeting)
        remote = provider.get_meeting(connection=connection, remote_id=meeting.remote_id)
    except MeetingNotFound:
        return _gone(meeting)
    except (LookupError, _NoConnection):
        _record_checked(meeting, matches=True)  # nothing to read it with; the owner was told when it broke
        return "not checked"
    except RateLimited as exc:
        _check_again(meeting, at=exc.retry_at)
        return "check waiting"
    except AuthRevoked as exc:
        _revoked(meeting, provider, exc)
        _record_checked(meeting, matches=True)
        return "not checked (reconnect)"
    except Exception as exc:
        if not isinstance(exc, ProviderError):
            log.exception("Meeting %s: unexpected error during the pre-start check.", meeting_id)
        _check_again(meeting, at=timezone.now() + timedelta(seconds=vm_settings.PRESTART_CHECK_RETRY_SECONDS))
        return "check retry"
    matches = provider.remote_matches(
        remote, MeetingSpec.of(meeting, registration=registration_wanted(meeting, provider, connection))
    )
    return "found" if _record_checked(meeting, matches=matches) else "changed"


def _record_checked(meeting: VirtualMeeting, *, matches: bool) -> bool:
    """Record the checkpoint done; an available meeting that differs at the provider is restored. True if left as is."""
    with transaction.atomic():
        row = _locked(meeting.pk)
        if row.remote_id != meeting.remote_id:
            return True
        state.plan_checks(row)
        row.queued_for = None
        restore = not matches and row.status == Status.AVAILABLE
        if restore:
            state.mark_restore(row)
        row.save()
    return not restore


def _check_again(meeting: VirtualMeeting, *, at: datetime) -> None:
    VirtualMeeting.objects.filter(pk=meeting.pk).update(next_check_at=max(at, timezone.now()), queued_for=None)


# --- failures -----------------------------------------------------------------------------
def meeting_fail_now(meeting: VirtualMeeting, message: str) -> None:
    with transaction.atomic():
        state.meeting_fail(meeting=meeting, message=message)


def _wait(meeting: VirtualMeeting, provider: Provider, exc: RateLimited, operation: str) -> _Stop:
    """Wait until exactly the time the provider gave (the framework never replaces it with a guess)."""
    now = timezone.now()
    retry_at = max(exc.retry_at, now)
    with transaction.atomic():
        row = _locked(meeting.pk)
        state.wait_for_limit(
            row,
            until=retry_at,
            daily=exc.daily,
            message=waiting_text(service=provider.service, daily=exc.daily, until=retry_at, now=now),
            nothing_made=operation == "create" and not exc.ambiguous,
        )
        row.save()
    return _Stop("waiting", countdown=(retry_at - now).total_seconds())


def _revoked(meeting: VirtualMeeting, provider: Provider, exc: AuthRevoked) -> _Stop:
    owner_id = meeting.owner_id if meeting.present else (meeting.remote_owner_id or meeting.owner_id)
    connection = ProviderConnection.objects.filter(user_id=owner_id, provider=meeting.provider).first()
    if connection is not None:
        connection_revoke(connection=connection, message=exc.message)
    else:
        meeting_fail_now(meeting, reconnect_message(connection=None, owner=meeting.owner, provider=meeting.provider))
    return _Stop("failed (reconnect)")


def _backoff(meeting: VirtualMeeting, provider: Provider, exc: ProviderError, operation: str) -> _Stop:
    attempts = meeting.attempts + 1
    if attempts >= vm_settings.MAX_ATTEMPTS:
        message = gettext("%(service)s kept failing (%(reason)s). Use Retry now or save the event again later.")
        meeting_fail_now(meeting, message % {"service": provider.service, "reason": exc.message.rstrip(".")})
        return _Stop("failed")
    delay = backoff_delay(attempts)
    with transaction.atomic():
        row = _locked(meeting.pk)
        state.back_off(
            row,
            attempts=attempts,
            message=exc.message,
            delay=delay,
            nothing_made=operation == "create" and not exc.ambiguous,
        )
        row.save()
    return _Stop("retry", countdown=delay)


# --- the sweep ------------------------------------------------------------------------------
def meeting_sweep() -> int:
    """Queue every meeting that is due and has no task coming, or whose claim expired.

    A lost message (broker outage, worker killed) only delays the work. First the
    work of a provider disabled on the site is held, and held work of a provider
    enabled again resumes (the settings page only saves ProviderConfig.enabled).
    """
    for provider_id in provider_ids():
        provider_enabled_changed(provider=provider_id)
    ids = meetings_due(limit=vm_settings.SWEEP_BATCH, requeue_after=vm_settings.REQUEUE_AFTER_SECONDS)
    for meeting_id in ids:
        meeting_schedule(meeting_id)
    checks = meetings_check_due(limit=vm_settings.PRESTART_CHECK_BATCH, requeue_after=vm_settings.REQUEUE_AFTER_SECONDS)
    meeting_checks_schedule(ids=checks)
    # Registrant work due or left by a dead worker, of meetings that take registrants now.
    for meeting_id in registrants_due(limit=vm_settings.SWEEP_BATCH, requeue_after=vm_settings.REQUEUE_AFTER_SECONDS):
        registrants_schedule(meeting_id)
    # Connect flows that were never finished leave their state behind.
    stale = timezone.now() - timedelta(days=1)
    OAuthState.objects.filter(created_at__lt=stale).delete()
    return len(ids)
