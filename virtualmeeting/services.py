"""Writing meetings and connections.

The owning app (seminars) calls the meeting services inside its own
transaction: they only record the desired state and, after commit, queue the
sync task. No service here calls a provider except those run from a click
(`meeting_host_url`, `connection_disconnect`), never inside a transaction.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from virtualmeeting import queue, signals, state, tokens
from virtualmeeting.conf import registrant_email_domain, vm_settings
from virtualmeeting.errors import AuthRevoked, MeetingNotFound, MeetingUnavailable, ProviderError
from virtualmeeting.models import (
    REGISTRANT_WORK_STATUSES,
    WORK_STATUSES,
    MeetingRegistrant,
    ProviderConfig,
    ProviderConnection,
    VirtualMeeting,
)
from virtualmeeting.providers.base import AccountHost, ConnectedAccount
from virtualmeeting.registry import get_provider, provider_ids
from virtualmeeting.selectors import connection_for, service_name

log = logging.getLogger(__name__)
Status = VirtualMeeting.Status
RStatus = MeetingRegistrant.Status


# --- scheduling ----------------------------------------------------------------------
def meeting_schedule(meeting_id: int, *, countdown: float | None = None) -> None:
    """Queue the sync of one meeting once the current transaction commits.

    If the broker is down the row still says what to do; the sweep queues it later.
    Call it after saving the row (it records when the task is due, for the sweep).
    """
    _schedule(queue.MEETING_SYNC, "queued_for", meeting_id, countdown=countdown)


def _schedule(task: str, due_field: str, meeting_id: int, *, countdown: float | None) -> None:
    """Record on the meeting's `due_field` when `task` is due, then send it once the transaction commits.

    If the broker is down the row still says what to do; the sweep queues it later.
    """
    due = timezone.now() + timedelta(seconds=countdown or 0)
    VirtualMeeting.objects.filter(pk=meeting_id).update(**{due_field: due})

    def send():
        try:
            queue.send(task, meeting_id, countdown=countdown)
        except Exception:  # the broker down or anything else: the row says what to do, the sweep queues it
            log.warning(
                "Could not queue %s for meeting %s; the sweep will pick it up.", task, meeting_id, exc_info=True
            )

    transaction.on_commit(send, robust=True)


def meeting_checks_schedule(*, ids: list[int]) -> None:
    """Queue pre-start checks once the current transaction commits, spread at PRESTART_CHECKS_PER_SECOND.

    Records on each row when its check is due to have run, so the sweep does not queue it twice.
    """
    if not ids:
        return
    spacing = 1 / vm_settings.PRESTART_CHECKS_PER_SECOND
    last = timezone.now() + timedelta(seconds=spacing * (len(ids) - 1))
    VirtualMeeting.objects.filter(pk__in=ids).update(queued_for=last)

    def send():
        try:
            for index, meeting_id in enumerate(ids):
                queue.send(queue.MEETING_CHECK, meeting_id, countdown=index * spacing or None)
        except Exception:  # the rows record when each check is due; a later sweep queues what was not sent
            log.warning("Could not queue pre-start checks; a later sweep will queue them.", exc_info=True)

    transaction.on_commit(send, robust=True)


# --- desired state ---------------------------------------------------------------------
def _validate(*, provider: str, start: datetime, finish: datetime, time_zone: str) -> None:
    if provider not in provider_ids():
        raise ValueError(f"Unknown virtual meeting provider {provider!r}.")
    if timezone.is_naive(start) or timezone.is_naive(finish):
        raise ValueError("Meeting start and finish must be aware datetimes.")
    if finish <= start:
        raise ValueError("A meeting must finish after it starts.")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown time zone {time_zone!r}.") from None


def _fit(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, marking the cut (providers shorten further to their own limits)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def meeting_put(
    *,
    reference: str,
    provider: str,
    owner,
    topic: str,
    start: datetime,
    finish: datetime,
    time_zone: str,
    agenda="",
    personal_links=False,
    hosting: str = VirtualMeeting.Hosting.USER,
    host: str = "",
    alternative_hosts=(),
) -> VirtualMeeting:
    """Say that the meeting `reference` should exist with this state (create or update it).

    Call inside the owning app's transaction. The version goes up only when
    something differs (or the meeting was removed); a failed meeting is
    re-queued even when nothing differs ("Save changes" retries). The sync is
    queued after commit, and several puts before the worker runs make one call.
    `personal_links`: the meeting requires registration, when the provider and
    the owner's account allow it, so each registrant gets their own join link.
    `hosting` "account": the meeting is made in the site's account for `host` (the provider's id of a user
    of that account) rather than in the owner's own connection (with no host, the sync fails it, saying so).
    A meeting handed to another owner or host is made again there first and then deleted where it was; its
    link keeps leading to the old meeting until then (`VirtualMeeting.joinable_url`). A limit wait of the
    previous owner or host does not hold the handed-over meeting.
    `alternative_hosts`: in the site's account, the emails of its users who may also start the meeting (a change
    is an update of the meeting, not a new one); ignored for a meeting in the owner's connection.
    """
    if hosting not in VirtualMeeting.Hosting.values:
        raise ValueError(f"Unknown hosting {hosting!r}.")
    _validate(provider=provider, start=start, finish=finish, time_zone=time_zone)
    topic = _fit(topic, VirtualMeeting._meta.get_field("topic").max_length)
    desired = {
        "topic": topic,
        "start": start,
        "finish": finish,
        "time_zone": time_zone,
        "agenda": agenda,
        "personal_links": personal_links,
        "hosting": hosting,
        "host": host if hosting == VirtualMeeting.Hosting.ACCOUNT else "",
        "alternative_hosts": list(alternative_hosts) if hosting == VirtualMeeting.Hosting.ACCOUNT else [],
    }
    with transaction.atomic():
        meeting = VirtualMeeting.objects.select_for_update().filter(reference=reference).first()
        if meeting is None:
            meeting = VirtualMeeting.objects.create(reference=reference, provider=provider, owner=owner, **desired)
            meeting_schedule(meeting.pk)
            return meeting
        if meeting.provider != provider and (meeting.remote_id or meeting.maybe_created or meeting.old_remote_id):
            raise ValueError("This meeting exists at another provider: remove it before choosing a new provider.")
        changed = (
            not meeting.present
            or meeting.provider != provider
            or meeting.owner_id != owner.pk
            or any(getattr(meeting, name) != value for name, value in desired.items())
        )
        # Handed to another owner or host: a limit that holds the meeting was the previous one's.
        if hosting == VirtualMeeting.Hosting.ACCOUNT:
            handed_over = meeting.hosting != hosting or meeting.host != desired["host"]
        else:
            handed_over = meeting.hosting != hosting or meeting.owner_id != owner.pk
        if changed:
            moved = meeting.start != start or not meeting.present
            for name, value in desired.items():
                setattr(meeting, name, value)
            meeting.provider, meeting.owner, meeting.present = provider, owner, True
            meeting.desired_version += 1
            if moved:
                # A moved meeting is checked again before its new start (the sync plans again once it is updated).
                state.plan_checks(meeting)
        elif meeting.status != Status.FAILED:
            return meeting
        state.mark_due(meeting, keep_limit_wait=not handed_over)
        meeting.save()
        if meeting.next_attempt_at <= timezone.now():
            meeting_schedule(meeting.pk)  # a meeting waiting for a limit is queued by the sweep when it resumes
        return meeting


def meeting_remove(*, reference: str) -> VirtualMeeting | None:
    """Say that the meeting `reference` should no longer exist.

    When nothing can exist remotely (never created, no create in flight) the
    meeting is marked deleted at once and no call is made.
    """
    with transaction.atomic():
        meeting = VirtualMeeting.objects.select_for_update().filter(reference=reference).first()
        if meeting is None or not meeting.present:
            return meeting
        meeting.present = False
        meeting.desired_version += 1
        state.plan_checks(meeting)
        if not meeting.remote_id and not meeting.maybe_created and not meeting.old_remote_id:
            meeting.synced_version = meeting.desired_version
            state.mark_done(meeting)
            meeting.save()
            return meeting
        # Deleting does not spend a daily create/update quota: try now.
        state.mark_due(meeting, keep_limit_wait=False)
        meeting.save()
        meeting_schedule(meeting.pk)
        return meeting


def meetings_requeue(*, references) -> int:
    """Re-queue every failed or retrying operation among these meetings ("Save changes" does this).

    Failed meetings and meetings waiting out a backoff or a short rate limit
    run now. A meeting waiting for a provider's daily limit keeps waiting:
    asking again before the limit resets would only be refused.
    """
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for meeting in VirtualMeeting.objects.select_for_update().filter(reference__in=list(references)):
            if meeting.status == Status.FAILED:
                pass
            elif meeting.status in WORK_STATUSES and meeting.next_attempt_at > now and not meeting.waiting_daily_limit:
                pass
            else:
                continue
            state.mark_due(meeting, keep_limit_wait=False)
            meeting.save()
            meeting_schedule(meeting.pk)
            count += 1
    return count


def meeting_retry_now(*, meeting: VirtualMeeting) -> VirtualMeeting:
    """Run the meeting's pending or failed operation now ("Retry now" on the room page)."""
    with transaction.atomic():
        meeting = VirtualMeeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.status in (Status.AVAILABLE, Status.DELETED):
            return meeting
        state.mark_due(meeting, keep_limit_wait=False)
        meeting.save()
        meeting_schedule(meeting.pk)
        return meeting


# --- a provider disabled and enabled again ------------------------------------------------
def meetings_hold(*, provider: str, ids=None) -> int:
    """Hold the queued work of a provider that is disabled on the site (all of it, or these meetings).

    A held meeting makes no call; `selectors.meeting_status_text` says why. Failed and finished
    meetings are left as they are. Returns how many were held.
    """
    meetings = VirtualMeeting.objects.filter(provider=provider, status__in=WORK_STATUSES)
    if ids is not None:
        meetings = meetings.filter(pk__in=list(ids))
    return state.hold(meetings)


def meetings_resume(*, provider: str) -> int:
    """Resume the held work of a provider enabled again: each meeting carries on where it stopped.

    A daily-limit wait still in force is kept; the rest is queued when due. Returns how many resumed.
    """
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for meeting in VirtualMeeting.objects.select_for_update().filter(provider=provider, status=Status.HELD):
            state.resume(meeting, now=now)
            meeting.save()
            if meeting.next_attempt_at <= now:
                meeting_schedule(meeting.pk)
            count += 1
    return count


def provider_enabled_changed(*, provider: str) -> int:
    """The provider was enabled or disabled on the site: resume or hold its queued work.

    The sweep calls this for every provider, so saving ProviderConfig.enabled is
    enough; a settings page may call it too, to act at once. Returns the meetings changed.
    """
    enabled = ProviderConfig.objects.filter(provider=provider, enabled=True).exists()
    if enabled:
        return meetings_resume(provider=provider)
    return meetings_hold(provider=provider)


# --- remote events (webhooks, clicks) ------------------------------------------------------
def meeting_gone(*, meeting: VirtualMeeting) -> None:
    """The remote meeting was deleted behind our back (`meeting` locked by the caller): re-create it, or finish
    a pending delete. Its registrants went with it."""
    registrants_forget(meeting)
    work = state.mark_remote_gone(meeting)
    meeting.save()
    if work:
        meeting_schedule(meeting.pk)


def meeting_mark_remote_gone(*, provider: str, remote_id: str) -> int:
    """The provider says the meeting was deleted (e.g. by hand in Zoom): re-create it. Returns rows touched."""
    if not remote_id:
        return 0
    with transaction.atomic():
        meetings = list(VirtualMeeting.objects.select_for_update().filter(provider=provider, remote_id=remote_id))
        for meeting in meetings:
            meeting_gone(meeting=meeting)
    return len(meetings)


def meeting_mark_remote_changed(*, provider: str, remote_id: str) -> int:
    """The provider says the meeting was edited: the worker reads it and restores our desired state if it differs.

    Our own updates cause such events too; reading first keeps them from looping.
    """
    if not remote_id:
        return 0
    with transaction.atomic():
        meetings = list(
            VirtualMeeting.objects.select_for_update().filter(provider=provider, remote_id=remote_id, present=True)
        )
        for meeting in meetings:
            meeting.check_remote = True
            state.mark_due(meeting, keep_limit_wait=True)
            meeting.save()
            meeting_schedule(meeting.pk)
    return len(meetings)


def meeting_host_url(*, meeting: VirtualMeeting, user) -> str:
    """A fresh URL that starts the meeting as host, fetched from the provider at click time.

    A meeting in its owner's connection: only the owner may host (PermissionDenied for anyone else). A meeting
    of the site's account is started for its host with the account's credentials: who may is the owning app's
    rule (seminars: the room's owner, the host's own user, site admins). While a meeting moves away from a host of
    the site's account, the old meeting is started until the new one is made. Raises MeetingUnavailable (with a
    message for the person) when the meeting cannot be hosted now; a meeting the provider no longer has is
    queued for re-creation.
    """
    remote_id, remote_host = meeting.remote_id, meeting.remote_host
    if not remote_id and meeting.old_remote_host:
        # Moving from a host of the site's account, the new meeting not made yet: the old one is in use until then.
        remote_id, remote_host = meeting.old_remote_id, meeting.old_remote_host
    in_account = bool(remote_host)
    if user is None or (not in_account and meeting.owner_id != user.pk):
        raise PermissionDenied(gettext("Only the meeting's owner can host it."))
    service = service_name(meeting.provider)
    if not meeting.present or not remote_id:
        raise MeetingUnavailable(gettext("The virtual room is not ready yet. Please try again in a minute."))
    provider = get_provider(meeting.provider)
    if in_account:
        connection = AccountHost(remote_host)
    else:
        connection = connection_for(user=user, provider=meeting.provider) if provider.needs_connection else None
    if not in_account and provider.needs_connection and (connection is None or not connection.is_usable):
        raise MeetingUnavailable(
            gettext("Connect your %(service)s account again to host this meeting.") % {"service": service}
        )
    try:
        return provider.host_url(connection=connection, remote_id=remote_id)
    except MeetingNotFound:
        with transaction.atomic():
            fresh = VirtualMeeting.objects.select_for_update().get(pk=meeting.pk)
            if fresh.remote_id and fresh.remote_id == remote_id:
                meeting_gone(meeting=fresh)
        raise MeetingUnavailable(
            gettext("This meeting was deleted in %(service)s. It is being created again; try again in a minute.")
            % {"service": service}
        ) from None
    except AuthRevoked as exc:
        if isinstance(connection, ProviderConnection):
            connection_revoke(connection=connection, message=exc.message)
        raise MeetingUnavailable(
            gettext("Your %(service)s connection no longer works. Connect your account again.") % {"service": service}
        ) from None
    except ProviderError as exc:
        raise MeetingUnavailable(
            gettext("%(service)s could not start the meeting: %(reason)s") % {"service": service, "reason": exc.message}
        ) from None


# --- connections ------------------------------------------------------------------------------
def reconnect_message(*, connection: ProviderConnection | None, owner, provider: str, reason: str = "") -> str:
    service = service_name(provider)
    values = {
        "who": (owner.get_full_name() or owner.get_username()) if owner else gettext("The meeting owner"),
        "service": service,
        "reason": reason.rstrip("."),
    }
    if reason:
        broken = gettext("%(who)s's %(service)s connection no longer works (%(reason)s).") % values
    else:
        broken = gettext("%(who)s's %(service)s connection no longer works.") % values
    fix = gettext(
        "%(who)s must connect their %(service)s account again (Connect in the room dialog); the meetings then resume."
    )
    return f"{broken} {fix % values}"


def connection_save(*, user, provider: str, account: ConnectedAccount) -> ProviderConnection:
    """Store the account a user just connected, replacing any earlier one, and resume their failed meetings."""
    with transaction.atomic():
        connection = ProviderConnection.objects.select_for_update().filter(user=user, provider=provider).first()
        connection = connection or ProviderConnection(user=user, provider=provider)
        connection.remote_account_id, connection.name, connection.email = (
            account.remote_account_id,
            account.name,
            account.email,
        )
        tokens.tokens_set(
            connection,
            access_token=account.access_token,
            refresh_token=account.refresh_token,
            expires_at=account.expires_at,
            scopes=account.scopes,
        )
        connection.extra = account.extra
        connection.status, connection.status_message = ProviderConnection.Status.CONNECTED, ""
        connection.connected_at = timezone.now()
        connection.save()
        failed = VirtualMeeting.objects.select_for_update().filter(owner=user, provider=provider, status=Status.FAILED)
        for meeting in failed:
            state.mark_due(meeting, keep_limit_wait=False)
            meeting.save()
            meeting_schedule(meeting.pk)
        owned = VirtualMeeting.objects.filter(owner=user, provider=provider, present=True)
        registrants_requeue(references=owned.values_list("reference", flat=True))
    return connection


def connection_revoke(*, connection: ProviderConnection, message: str) -> ProviderConnection:
    """The connection stopped working: forget its tokens, tell the owner, stop their meetings made with it."""
    text = reconnect_message(connection=connection, owner=connection.user, provider=connection.provider, reason=message)
    with transaction.atomic():
        locked = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
        locked.status = ProviderConnection.Status.REVOKED
        locked.status_message = message
        tokens.tokens_forget(locked)
        locked.save()
        signals.send_connection_revoked_on_commit(locked)
        # Meetings made in the site's account need no connection of their owner (one moving there from this
        # connection has its old meeting deleted with the account, or left behind, by the sync).
        meetings = VirtualMeeting.objects.select_for_update().filter(
            owner_id=connection.user_id,
            provider=connection.provider,
            status__in=WORK_STATUSES,
            hosting=VirtualMeeting.Hosting.USER,
        )
        for meeting in meetings:
            state.meeting_fail(meeting=meeting, message=text)
    return locked


def connection_disconnect(*, connection: ProviderConnection) -> None:
    """Disconnect at the user's request: revoke at the provider (best effort), then forget the connection."""
    try:
        get_provider(connection.provider).disconnect(connection)
    except (ProviderError, LookupError) as exc:
        log.warning("Disconnecting connection %s at the provider failed: %s", connection.pk, exc)
    connection.delete()


def connections_revoke_remote(*, provider: str, remote_account_id: str, message: str) -> int:
    """The provider says an account removed our app (e.g. Zoom's app_deauthorized): revoke its connections."""
    connections = list(ProviderConnection.objects.filter(provider=provider, remote_account_id=remote_account_id))
    for connection in connections:
        connection_revoke(connection=connection, message=message)
    return len(connections)


# --- registrants: personal join links -----------------------------------------------------------
@dataclass(frozen=True)
class RegistrantPerson:
    """One person the owning app wants registered for a meeting (see `registrants_set`)."""

    key: str  # the owning app's key, e.g. "booking:12"
    first_name: str
    last_name: str = ""
    user: object = None  # the user, if the person has an account


def registrants_schedule(meeting_id: int, *, countdown: float | None = None) -> None:
    """Queue the registrants sync of one meeting once the current transaction commits.

    Like `meeting_schedule`: if the broker is down, the rows still say what to do and the sweep queues them.
    """
    _schedule(queue.REGISTRANTS_SYNC, "registrants_queued_for", meeting_id, countdown=countdown)


def registrant_email(row: MeetingRegistrant) -> str:
    """A new address for the row: unique, not guessable, never the person's (the provider mails nobody)."""
    return f"vm-r{row.pk}-{secrets.token_hex(4)}@{registrant_email_domain()}"


def _names(first_name: str, last_name: str) -> tuple[str, str]:
    first = _fit(first_name or "", MeetingRegistrant._meta.get_field("first_name").max_length)
    last = _fit(last_name or "", MeetingRegistrant._meta.get_field("last_name").max_length)
    if not first:
        raise ValueError("A registrant needs a first name (give the username when the person has no name).")
    return first, last


def _want(row: MeetingRegistrant, *, present: bool) -> bool:
    """Set what should be true of the row (not saved). True when it now has work to do (queue the sync).

    A failed row, or one with no personal link, is tried again even when nothing differs.
    """
    retry = row.status in (RStatus.FAILED, RStatus.UNSUPPORTED)
    if present:
        if row.status == RStatus.CANCELLED:
            row.email = registrant_email(row)  # the cancelled address may stay taken at the provider
        target = RStatus.REGISTERED if row.remote_id else RStatus.PENDING
    else:
        target = RStatus.CANCELLING if (row.remote_id or row.maybe_sent) else RStatus.CANCELLED
    row.present = present
    if row.status == target and not retry:
        return False
    row.status, row.attempts, row.last_error = target, 0, ""
    row.next_attempt_at = timezone.now()
    if target == RStatus.CANCELLED:
        row.cancelled_at = timezone.now()
    return target in REGISTRANT_WORK_STATUSES


def _meeting_for_registrants(reference: str) -> VirtualMeeting:
    """The meeting, locked: registrant writes of one meeting run one at a time (no duplicate keys)."""
    meeting = VirtualMeeting.objects.select_for_update().filter(reference=reference).first()
    if meeting is None:
        raise ValueError(f"There is no virtual meeting {reference!r}: put the meeting first.")
    return meeting


def registrant_put(*, reference: str, key: str, user=None, first_name: str, last_name: str) -> MeetingRegistrant:
    """Say that the person `key` should be registered for the meeting `reference` (a personal join link).

    Call inside the owning app's transaction, after `meeting_put`; the work is queued after commit.
    A registered person whose name changes keeps their registration (the new name is stored only).
    """
    first_name, last_name = _names(first_name, last_name)
    with transaction.atomic():
        meeting = _meeting_for_registrants(reference)
        row = MeetingRegistrant.objects.filter(meeting=meeting, key=key).first()
        if row is None:
            row = MeetingRegistrant.objects.create(
                meeting=meeting, key=key, user=user, first_name=first_name, last_name=last_name
            )
            row.email = registrant_email(row)
            row.save(update_fields=["email"])
            registrants_schedule(meeting.pk)
            return row
        row.user, row.first_name, row.last_name = user, first_name, last_name
        work = _want(row, present=True)
        row.save()
        if work:
            registrants_schedule(meeting.pk)
        return row


def registrant_remove(*, reference: str, key: str) -> MeetingRegistrant | None:
    """Say that the person `key` should no longer be registered (their link is cancelled at the provider).

    A row never sent to the provider is cancelled at once, with no call.
    """
    with transaction.atomic():
        meeting = VirtualMeeting.objects.select_for_update().filter(reference=reference).first()
        if meeting is None:
            return None
        row = MeetingRegistrant.objects.filter(meeting=meeting, key=key).first()
        if row is None:
            return None
        work = _want(row, present=False)
        row.save()
        if work:
            registrants_schedule(meeting.pk)
        return row


_SET_FIELDS = [
    "user",
    "first_name",
    "last_name",
    "email",
    "present",
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "cancelled_at",
    "updated_at",
]


def _set_state(row: MeetingRegistrant) -> list:
    return [getattr(row, "user_id" if name == "user" else name) for name in _SET_FIELDS if name != "updated_at"]


def registrants_set(*, reference: str, people: Iterable[RegistrantPerson]) -> int:
    """Make the people registered for the meeting `reference` exactly these (by key), in a few queries.

    Call inside the owning app's transaction, after `meeting_put`; the work is queued after commit,
    once. People not given are cancelled; failed rows are tried again. Returns the rows changed.
    """
    wanted = {person.key: (person, *_names(person.first_name, person.last_name)) for person in people}
    with transaction.atomic():
        meeting = _meeting_for_registrants(reference)
        now = timezone.now()
        work, changed = False, []
        for row in MeetingRegistrant.objects.filter(meeting=meeting):
            before = _set_state(row)
            entry = wanted.pop(row.key, None)
            if entry is not None:
                person, row.first_name, row.last_name = entry
                row.user_id = getattr(person.user, "pk", None)
            work = _want(row, present=entry is not None) or work
            if _set_state(row) != before:
                row.updated_at = now
                changed.append(row)
        created = MeetingRegistrant.objects.bulk_create(
            MeetingRegistrant(meeting=meeting, key=key, user=person.user, first_name=first, last_name=last)
            for key, (person, first, last) in wanted.items()
        )
        for row in created:
            row.email = registrant_email(row)
        MeetingRegistrant.objects.bulk_update(created + changed, _SET_FIELDS, batch_size=500)
        if work or created:
            registrants_schedule(meeting.pk)
    return len(created) + len(changed)


def registrants_requeue(*, references) -> int:
    """Registrant work of these meetings that failed or waits out a backoff or limit runs now.

    For "Save changes" and a reconnected account. Returns the rows re-queued.
    """
    now = timezone.now()
    count = 0
    with transaction.atomic():
        meetings = VirtualMeeting.objects.select_for_update().filter(reference__in=list(references))
        for meeting in meetings:
            rows = MeetingRegistrant.objects.filter(meeting=meeting)
            waiting = rows.filter(status__in=REGISTRANT_WORK_STATUSES, next_attempt_at__gt=now)
            moved = waiting.update(next_attempt_at=now, attempts=0, updated_at=now)
            failed = list(rows.filter(status=RStatus.FAILED))
            for row in failed:
                _want(row, present=row.present)
                row.save()
            if moved or failed:
                registrants_schedule(meeting.pk)
            count += moved + len(failed)
    return count


def registrants_wake(meeting_id: int) -> None:
    """After a meeting's sync: queue its registrant work if there is any due.

    A meeting that now takes registrants turns its "no personal link" rows back to pending.
    """
    now = timezone.now()
    with transaction.atomic():
        meeting = VirtualMeeting.objects.select_for_update().filter(pk=meeting_id, personal_links=True).first()
        if meeting is None:
            return
        rows = MeetingRegistrant.objects.filter(meeting=meeting)
        if meeting.takes_registrants:
            rows.filter(status=RStatus.UNSUPPORTED, present=True).update(
                status=RStatus.PENDING, last_error="", attempts=0, next_attempt_at=now, updated_at=now
            )
        if rows.filter(status__in=REGISTRANT_WORK_STATUSES, next_attempt_at__lte=now).exists():
            registrants_schedule(meeting_id)


def registrants_forget(meeting: VirtualMeeting) -> None:
    """The remote meeting is gone (deleted, or about to be made again): its registrants went with it.

    No call is made. People still wanted are registered again in the next remote
    meeting; the others are cancelled.
    """
    now = timezone.now()
    rows = MeetingRegistrant.objects.filter(meeting_id=meeting.pk)
    gone = {"remote_id": "", "join_url": "", "maybe_sent": False, "registered_at": None, "updated_at": now}
    rows.filter(present=True).exclude(status=RStatus.UNSUPPORTED).update(
        **gone, status=RStatus.PENDING, attempts=0, last_error="", next_attempt_at=now
    )
    rows.filter(present=False).exclude(status=RStatus.CANCELLED).update(
        **gone, status=RStatus.CANCELLED, cancelled_at=now, last_error=""
    )
