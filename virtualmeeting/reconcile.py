"""The participants poll: after a meeting ends, ask the provider who took part, and for its recordings.

Webhooks get lost, or were never set up; so for each occurrence of a finished meeting whose
provider reports participants, the provider is asked at PARTICIPANTS_POLL_DELAYS after the end
until it has the data (Zoom has it minutes after the end). What comes is merged with what the
webhooks stored (`virtualmeeting.participation`), so nothing is counted twice. The poll is
bounded: after the last delay it gives up and says why on the occurrence (`poll_error`).

The beat sweep (`participants_sweep`) first gives each finished meeting with no known occurrence
its latest one to poll, then queues `participants_reconcile(meeting_id)` for the meetings with a
poll due. The task holds the meeting's lease (`sync.claim_where`, renewed by `ClaimHeartbeat`),
the one every provider call about a meeting holds, so it never runs beside a sync of the meeting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from virtualmeeting import queue, signals
from virtualmeeting.conf import vm_settings
from virtualmeeting.errors import AuthRevoked, NotReadyYet, ProviderError, RateLimited
from virtualmeeting.models import MeetingOccurrence, ProviderConfig, ProviderConnection, VirtualMeeting
from virtualmeeting.participation import (
    occurrence_latest,
    participants_merge,
    poll_base,
    poll_delays,
    poll_next_at,
    provider_polls,
    recordings_store,
)
from virtualmeeting.providers.base import CAPABILITY_ATTENDANCE, CAPABILITY_RECORDINGS, AccountHost, Provider
from virtualmeeting.registry import get_provider, provider_ids
from virtualmeeting.selectors import capability_reconnect_text, occurrences_poll_due
from virtualmeeting.services import connection_revoke
from virtualmeeting.sync import ClaimHeartbeat, _NoConnection, acting_remote, claim_where, release

log = logging.getLogger(__name__)

# A sweep that was down (or a site that just got this feature) still polls meetings that finished
# up to this long before the last delay: once, then it gives up if the provider has nothing.
LATE_SWEEP = timedelta(days=1)


# --- the sweep ---------------------------------------------------------------------------------
def participants_sweep(*, now: datetime | None = None) -> int:
    """Plan the poll of finished meetings with no known occurrence, then queue the meetings with a poll due.

    Returns how many meetings were queued.
    """
    now = now or timezone.now()
    enabled = ProviderConfig.objects.filter(provider__in=provider_ids(), enabled=True).values_list(
        "provider", flat=True
    )
    polling = [provider for provider in enabled if provider_polls(provider)]
    if not polling:
        return 0
    batch = vm_settings.SWEEP_BATCH
    for meeting in _finished_without_occurrence(polling, now=now)[:batch]:
        occurrence_latest(meeting=meeting)
    ids = occurrences_poll_due(now=now, limit=batch, requeue_after=vm_settings.REQUEUE_AFTER_SECONDS)
    participants_reconcile_schedule(meeting_ids=ids)
    return len(ids)


def _finished_without_occurrence(providers: list[str], *, now: datetime):
    delays = poll_delays()
    return (
        VirtualMeeting.objects.filter(
            provider__in=providers,
            present=True,
            finish__lte=now - delays[0],
            finish__gt=now - delays[-1] - LATE_SWEEP,
        )
        .exclude(remote_id="")
        .filter(~Exists(MeetingOccurrence.objects.filter(meeting=OuterRef("pk"))))
        .order_by("finish")
    )


def participants_reconcile_schedule(*, meeting_ids: list[int]) -> None:
    """Queue the poll of these meetings once the current transaction commits.

    Records on their due occurrences that a task is coming, so the sweep does not queue it twice;
    if the broker is down, the sweep queues them again later.
    """
    if not meeting_ids:
        return
    now = timezone.now()
    MeetingOccurrence.objects.filter(meeting_id__in=meeting_ids, next_poll_at__lte=now).update(poll_queued_for=now)

    def send():
        try:
            for meeting_id in meeting_ids:
                queue.send(queue.PARTICIPANTS_RECONCILE, meeting_id)
        except Exception:  # the rows say what is due; a later sweep queues what was not sent
            log.warning("Could not queue participants polls; a later sweep will queue them.", exc_info=True)

    transaction.on_commit(send, robust=True)


# --- one poll --------------------------------------------------------------------------------------
def participants_reconcile(meeting_id: int) -> list[str]:
    """Claim the meeting and poll each of its occurrences that is due. Returns what each poll did."""
    token = claim_where(meeting_id, Q(occurrences__next_poll_at__lte=timezone.now()))
    if token is None:
        return ["skipped"]
    try:
        with ClaimHeartbeat(meeting_id, token):
            return _reconcile(meeting_id)
    finally:
        release(meeting_id, token)


@dataclass
class _Answer:
    """What the provider said to one question: the data, or why not and when to ask again."""

    records: list | None = None
    message: str = ""
    final: bool = False  # asking again will not help
    retry_at: datetime | None = None  # a rate limit: ask at this time, no poll spent
    not_before: datetime | None = None  # the provider's hint for the next poll


def _reconcile(meeting_id: int) -> list[str]:
    now = timezone.now()
    meeting = VirtualMeeting.objects.filter(pk=meeting_id).first()
    due = list(MeetingOccurrence.objects.filter(meeting_id=meeting_id, next_poll_at__lte=now).order_by("pk"))
    if meeting is None or not due:
        return ["nothing to do"]
    try:
        provider = get_provider(meeting.provider)
    except LookupError:
        gone = _Answer(message=gettext("The provider is no longer installed on this site."), final=True)
        return [_record_poll(occurrence, meeting, participants=gone, now=now) for occurrence in due]
    if not provider.config.enabled:
        # Still due: polled when the provider is enabled again (the sweep queues enabled providers only).
        MeetingOccurrence.objects.filter(pk__in=[o.pk for o in due]).update(poll_queued_for=None)
        return ["held"]
    connection, no_connection = _connection(provider, meeting)
    missing = provider.missing_capability_scopes(connection) if connection is not None else {}
    asked_recordings = None  # the meeting's recordings are asked for once per run
    steps = []
    for occurrence in due:
        participants = recorded = None
        if occurrence.participants_done_at is None:
            lacking = missing.get(CAPABILITY_ATTENDANCE)
            participants = _participants(meeting, occurrence, provider, connection, no_connection, lacking)
        if provider.supports_recordings and occurrence.recordings_done_at is None:
            if asked_recordings is None:
                lacking = missing.get(CAPABILITY_RECORDINGS)
                asked_recordings = _recordings(meeting, provider, connection, no_connection, lacking)
            recorded = asked_recordings
        steps.append(_record_poll(occurrence, meeting, participants=participants, recordings=recorded, now=now))
    return steps


def _connection(provider: Provider, meeting: VirtualMeeting) -> tuple[ProviderConnection | AccountHost | None, str]:
    """What the meeting lives in (the site account's host, else its remote owner's or owner's connection), or why
    there is nothing to read it with."""
    try:
        return acting_remote(provider, meeting), ""
    except _NoConnection:
        message = gettext("The meeting owner's %(service)s connection no longer works: they must connect again.")
        return None, message % {"service": provider.service}
    except ProviderError as exc:  # a site-account meeting with no host to act for
        return None, exc.message


def _lacking(provider: Provider, capability: str, scopes: list[str]) -> _Answer:
    return _Answer(message=capability_reconnect_text(service=provider.service, capability=capability, scopes=scopes))


def _participants(meeting, occurrence, provider, connection, no_connection: str, lacking) -> _Answer:
    if no_connection:
        return _Answer(message=no_connection)
    if lacking:
        return _lacking(provider, CAPABILITY_ATTENDANCE, lacking)
    if not occurrence.uuid and not meeting.remote_id:
        return _Answer(message=gettext("The meeting no longer exists at the provider."), final=True)
    answer = _ask(
        lambda: provider.past_participants(
            connection=connection, remote_id=meeting.remote_id, occurrence=occurrence.uuid
        ),
        provider=provider,
        connection=connection,
    )
    if answer.records == []:
        # Done when data came: a meeting that took place has participants, so an empty list is "not yet".
        message = gettext("%(service)s has no participants for this meeting yet.") % {"service": provider.service}
        return _Answer(message=message)
    if answer.records:
        participants_merge(meeting=meeting, occurrence=occurrence.uuid, records=answer.records)
    return answer


def _recordings(meeting, provider, connection, no_connection: str, lacking) -> _Answer:
    if no_connection:
        return _Answer(message=no_connection)
    if lacking:
        return _lacking(provider, CAPABILITY_RECORDINGS, lacking)
    if not meeting.remote_id:
        return _Answer(records=[])  # nothing to ask about; recordings announced by webhook are kept
    answer = _ask(
        lambda: provider.recordings(connection=connection, remote_id=meeting.remote_id),
        provider=provider,
        connection=connection,
    )
    if answer.records:
        recordings_store(meeting=meeting, records=answer.records)
    return answer


def _ask(call: Callable[[], list], *, provider: Provider, connection) -> _Answer:
    """Make one provider call and say what it means for the poll."""
    now = timezone.now()
    try:
        return _Answer(records=list(call()))
    except NotReadyYet as exc:
        hint = now + timedelta(seconds=exc.retry_after) if exc.retry_after else None
        return _Answer(message=exc.message, not_before=hint)
    except RateLimited as exc:
        return _Answer(message=exc.message, retry_at=exc.retry_at)
    except AuthRevoked as exc:
        if isinstance(connection, ProviderConnection):
            connection_revoke(connection=connection, message=exc.message)
        return _Answer(message=exc.message)
    except ProviderError as exc:
        return _Answer(message=exc.message, final=exc.permanent)
    except Exception:
        log.exception("Unexpected error while asking %s for a past meeting's data.", provider.id)
        message = gettext("Unexpected error while talking to %(service)s.") % {"service": provider.service}
        return _Answer(message=message)


def _record_poll(
    occurrence: MeetingOccurrence,
    meeting: VirtualMeeting,
    *,
    participants: _Answer | None = None,
    recordings: _Answer | None = None,
    now: datetime,
) -> str:
    """Store what the poll of one occurrence found, and when the next one is due (None: no poll left).

    Participants are done when data came; recordings when the provider answered ([]: none).
    """
    answers = [answer for answer in (participants, recordings) if answer is not None]
    pending = [answer for answer in answers if answer.records is None and not answer.final]
    stopped = [answer.message for answer in answers if answer.final]
    with transaction.atomic():
        row = MeetingOccurrence.objects.select_for_update().get(pk=occurrence.pk)
        row.poll_queued_for = None
        if participants is not None and participants.records and row.participants_done_at is None:
            row.participants_done_at = now
            # The merge told the owning app of new rows before the list was known to be complete;
            # an app that waits for a complete list (seminars proposes attendance only then) hears it now.
            signals.send_meeting_signal_on_commit(signals.participation_updated, meeting, occurrence=row)
        if recordings is not None and recordings.records is not None and row.recordings_done_at is None:
            row.recordings_done_at = now
        if pending and all(answer.retry_at for answer in pending):
            row.next_poll_at = max(answer.retry_at for answer in pending)
            row.save()
            return "waiting"
        row.poll_attempts += 1
        next_at = None
        if pending:
            next_at = poll_next_at(base=poll_base(row, meeting), now=now)
            hints = [answer.not_before for answer in pending if answer.not_before]
            if next_at is not None and hints:
                next_at = max([next_at, *hints])
            if next_at is None:
                minutes = int(poll_delays()[-1].total_seconds() // 60)
                stopped.append(
                    gettext("No data came within %(minutes)d minutes after the meeting ended: %(reason)s")
                    % {"minutes": minutes, "reason": pending[-1].message}
                )
        row.next_poll_at = next_at
        row.poll_error = " ".join(stopped)
        row.save()
    if pending and next_at is not None:
        return "not ready"
    return "gave up" if stopped else "done"
