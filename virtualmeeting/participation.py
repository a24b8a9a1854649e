"""Who took part in a meeting, and its recordings: what providers report during and after it.

A provider's webhook task and the reconcile poll (`virtualmeeting.reconcile`) call these services.
A meeting is found by (provider, remote_id), an occurrence by (provider, uuid); an event about a
meeting this site does not know is ignored (logged at info: other apps of the same provider
account send them too). Every service is idempotent, so a redelivered event or a poll that sees
what a webhook already stored changes nothing; every write to an occurrence's participants locks
the occurrence row first, so a joined and a left event handled by two workers at once cannot make
two rows of one interval. The owning app hears of changes through `participation_updated` and
`recordings_updated`, sent after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from virtualmeeting import signals
from virtualmeeting.conf import vm_settings
from virtualmeeting.models import MeetingOccurrence, MeetingParticipant, MeetingRecording, VirtualMeeting
from virtualmeeting.providers.base import ParticipantRecord, RecordingRecord
from virtualmeeting.registry import provider_class

log = logging.getLogger(__name__)
Source = MeetingParticipant.Source
RecordingStatus = MeetingRecording.Status

# A poll's interval and a webhook's are the same when their joins are this close (the two sources
# may round differently) and they are the same person.
SAME_JOIN = timedelta(seconds=2)

RECORDING_STATUS_EVENTS = {
    "trashed": RecordingStatus.TRASHED,
    "deleted": RecordingStatus.DELETED,
    "recovered": RecordingStatus.AVAILABLE,
}


# --- the reconcile poll's timing -------------------------------------------------------------
def poll_delays() -> list[timedelta]:
    return sorted(timedelta(minutes=minutes) for minutes in vm_settings.PARTICIPANTS_POLL_DELAYS)


def poll_base(occurrence: MeetingOccurrence, meeting: VirtualMeeting) -> datetime | None:
    """The moment the poll delays count from: the occurrence's end when known, else the scheduled finish."""
    return occurrence.ended_at or meeting.finish


def poll_next_at(*, base: datetime, now: datetime) -> datetime | None:
    """The first poll time (base + a delay) after `now`; None when the last one has passed."""
    later = [base + delay for delay in poll_delays() if base + delay > now]
    return later[0] if later else None


def provider_polls(provider_id: str) -> bool:
    """Does the provider report past participants (so the reconcile poll runs for its meetings)?"""
    try:
        return provider_class(provider_id).supports_participants
    except LookupError:
        return False


def _plan_first_poll(occurrence: MeetingOccurrence, meeting: VirtualMeeting) -> None:
    """Before any poll was made: the first one is due the first delay after the end (sets, does not save)."""
    base = poll_base(occurrence, meeting)
    if occurrence.poll_attempts or occurrence.participants_done_at or base is None:
        return
    if not provider_polls(meeting.provider):
        return
    occurrence.next_poll_at = base + poll_delays()[0]


# --- finding rows ------------------------------------------------------------------------------
def _meeting_for(provider: str, remote_id) -> VirtualMeeting | None:
    remote_id = str(remote_id or "").strip()
    if not remote_id:
        return None
    return VirtualMeeting.objects.filter(provider=provider, remote_id=remote_id).order_by("-pk").first()


def _occurrence_locked(meeting: VirtualMeeting, uuid: str) -> MeetingOccurrence:
    """The meeting's occurrence `uuid` ("" the latest), made if new, locked until the transaction ends."""
    lookup = {"provider": meeting.provider, "uuid": uuid} if uuid else {"meeting": meeting, "uuid": ""}
    occurrence = MeetingOccurrence.objects.select_for_update().filter(**lookup).first()
    if occurrence is not None:
        return occurrence
    new = MeetingOccurrence(meeting=meeting, provider=meeting.provider, uuid=uuid)
    _plan_first_poll(new, meeting)
    try:
        with transaction.atomic():
            new.save()
    except IntegrityError:
        pass  # made by a concurrent event meanwhile
    return MeetingOccurrence.objects.select_for_update().get(**lookup)


def _occurrence_for_event(*, provider: str, remote_id, uuid: str) -> MeetingOccurrence | None:
    """The occurrence an event is about, locked; None (logged) when the meeting is not ours."""
    uuid = str(uuid or "")
    if uuid:
        known = MeetingOccurrence.objects.select_for_update().filter(provider=provider, uuid=uuid).first()
        if known is not None:
            return known
    meeting = _meeting_for(provider, remote_id)
    if meeting is None:
        log.info("Ignoring a %s event about meeting %r: not a meeting of this site.", provider, remote_id)
        return None
    return _occurrence_locked(meeting, uuid)


def _updated(occurrence: MeetingOccurrence) -> None:
    signals.send_meeting_signal_on_commit(signals.participation_updated, occurrence.meeting, occurrence=occurrence)


# --- occurrences ------------------------------------------------------------------------------
def occurrence_record(
    *, provider: str, remote_id, uuid: str, started_at: datetime | None = None, ended_at: datetime | None = None
) -> MeetingOccurrence | None:
    """The provider says an occurrence of the meeting started or ended (Zoom: meeting.started/ended).

    The first time told is kept (a redelivery changes nothing). An end moves the first poll to the
    delays after the real end. Returns the occurrence, or None for a meeting this site does not know.
    """
    with transaction.atomic():
        occurrence = _occurrence_for_event(provider=provider, remote_id=remote_id, uuid=uuid)
        if occurrence is None:
            return None
        changed = False
        if started_at is not None and occurrence.started_at is None:
            occurrence.started_at, changed = started_at, True
        if ended_at is not None and occurrence.ended_at is None:
            occurrence.ended_at, changed = ended_at, True
            _plan_first_poll(occurrence, occurrence.meeting)
        if changed:
            occurrence.save()
            _updated(occurrence)
        return occurrence


def occurrence_latest(*, meeting: VirtualMeeting) -> MeetingOccurrence:
    """A finished meeting of which no occurrence is known (no webhooks): its latest one, to be polled."""
    with transaction.atomic():
        return _occurrence_locked(meeting, "")


# --- participants -------------------------------------------------------------------------------
def _same_person(row: MeetingParticipant, record: ParticipantRecord) -> bool:
    """The stored row and the record are one person: same key, else same registrant, else same email,
    else the same name (the two sources may key one device differently)."""
    if row.participant_key == record.participant_key:
        return True
    for ours, theirs in ((row.registrant_id, record.registrant_id), (row.email, record.email)):
        if ours and theirs:
            return ours.strip().casefold() == theirs.strip().casefold()
    return bool(row.name.strip()) and row.name.strip().casefold() == record.name.strip().casefold()


def _new_row(occurrence: MeetingOccurrence, record: ParticipantRecord, source: str, **times) -> MeetingParticipant:
    values = {
        "occurrence": occurrence,
        "participant_key": record.participant_key,
        "registrant_id": record.registrant_id or "",
        "name": record.name or "",
        "email": record.email or "",
        "account_id": record.account_id or "",
        "joined_at": record.joined_at,
        "left_at": record.left_at,
        "leave_reason": record.leave_reason or "",
        "source": source,
    }
    values.update(times)
    return MeetingParticipant.objects.create(**values)


def _fill(row: MeetingParticipant, record: ParticipantRecord) -> bool:
    """Complete a stored interval with what it lacks (an end, an email, an account); never overwrite. True if changed."""
    changed = False
    if (
        row.left_at is None
        and record.left_at is not None
        and (row.joined_at is None or record.left_at >= row.joined_at)
    ):
        row.left_at, row.leave_reason, changed = record.left_at, record.leave_reason or row.leave_reason, True
    for name in ("registrant_id", "email", "account_id", "name"):
        if not getattr(row, name) and getattr(record, name):
            setattr(row, name, getattr(record, name))
            changed = True
    if changed:
        row.save()
    return changed


def _is_presence_of(row: MeetingParticipant, record: ParticipantRecord) -> bool:
    """A poll's "present, no times" row of the record's key (an interval with times replaces it)."""
    return (
        row.participant_key == record.participant_key
        and row.joined_at is None
        and row.left_at is None
        and row.source == Source.POLL
    )


def _drop_presence(occurrence: MeetingOccurrence, record: ParticipantRecord) -> None:
    occurrence.participants.filter(
        participant_key=record.participant_key, joined_at__isnull=True, left_at__isnull=True, source=Source.POLL
    ).delete()


def participant_joined(*, provider: str, remote_id, uuid: str, record: ParticipantRecord) -> MeetingParticipant | None:
    """A participant joined (Zoom: meeting.participant_joined): open the interval (key, join time).

    A redelivery finds it and changes nothing; when the matching left came first without its join
    time, its row gets the join time. None when ignored (unknown meeting, no join time).
    """
    if record.joined_at is None:
        log.info("Ignoring a %s join event without a join time (meeting %r).", provider, remote_id)
        return None
    with transaction.atomic():
        occurrence = _occurrence_for_event(provider=provider, remote_id=remote_id, uuid=uuid)
        if occurrence is None:
            return None
        rows = occurrence.participants.filter(participant_key=record.participant_key)
        same = rows.filter(joined_at=record.joined_at).first()
        if same is not None:
            if _fill(same, record):
                _updated(occurrence)
            return same
        left_first = (
            rows.filter(joined_at__isnull=True, left_at__gte=record.joined_at, source=Source.WEBHOOK)
            .order_by("left_at")
            .first()
        )
        if left_first is not None:
            left_first.joined_at = record.joined_at
            left_first.save()
            _updated(occurrence)
            return left_first
        _drop_presence(occurrence, record)
        row = _new_row(occurrence, record, Source.WEBHOOK, left_at=None, leave_reason="")
        _updated(occurrence)
        return row


def participant_left(*, provider: str, remote_id, uuid: str, record: ParticipantRecord) -> MeetingParticipant | None:
    """A participant left (Zoom: meeting.participant_left): close the open interval with the same key
    and join time, or store the closed interval when the join was never delivered.

    Without a join time in the event, the latest open interval of the key that began before the
    leave is closed; if there is none, a row with the leave alone waits for its join. A redelivery
    changes nothing. None when ignored (unknown meeting, no leave time).
    """
    if record.left_at is None:
        log.info("Ignoring a %s leave event without a leave time (meeting %r).", provider, remote_id)
        return None
    with transaction.atomic():
        occurrence = _occurrence_for_event(provider=provider, remote_id=remote_id, uuid=uuid)
        if occurrence is None:
            return None
        rows = occurrence.participants.filter(participant_key=record.participant_key)
        if record.joined_at is not None:
            # The same interval; else the open one that began within SAME_JOIN (a join time written
            # a second apart in the two events must not leave the interval open for ever).
            row = rows.filter(joined_at=record.joined_at).first() or (
                rows.filter(
                    left_at__isnull=True,
                    joined_at__gte=record.joined_at - SAME_JOIN,
                    joined_at__lte=record.joined_at + SAME_JOIN,
                )
                .order_by("-joined_at")
                .first()
            )
        else:
            row = (
                rows.filter(joined_at__isnull=False, joined_at__lte=record.left_at, left_at__isnull=True)
                .order_by("-joined_at")
                .first()
            ) or rows.filter(left_at=record.left_at).first()
        if row is not None:
            if _fill(row, record):
                _updated(occurrence)
            return row
        if record.joined_at is not None:
            _drop_presence(occurrence, record)
        else:
            waiting = rows.filter(joined_at__isnull=True).first()
            if waiting is not None:  # one row per key without a join time: keep the latest leave
                waiting.left_at = max(filter(None, [waiting.left_at, record.left_at]))
                waiting.source = Source.WEBHOOK
                waiting.save()
                _updated(occurrence)
                return waiting
        row = _new_row(occurrence, record, Source.WEBHOOK)
        _updated(occurrence)
        return row


def _match(rows: list[MeetingParticipant], record: ParticipantRecord, used: set[int]) -> MeetingParticipant | None:
    """The stored interval a polled record with times describes, if any."""
    for row in rows:
        if row.participant_key == record.participant_key and row.joined_at == record.joined_at:
            return row
    near = [
        row
        for row in rows
        if row.pk not in used
        and row.joined_at is not None
        and abs(row.joined_at - record.joined_at) <= SAME_JOIN
        and _same_person(row, record)
    ]
    return min(near, key=lambda row: abs(row.joined_at - record.joined_at), default=None)


def participants_merge(
    *, meeting: VirtualMeeting, occurrence: str, records: Iterable[ParticipantRecord], source: str = Source.POLL
) -> int:
    """Merge what the provider lists for an occurrence (uuid, "" the latest) into what is stored.

    Idempotent: an interval already stored (by a webhook, or an earlier poll) is matched by key and
    join time, or by person and a join within SAME_JOIN (the poll may key a device differently), and
    only completed (a missing end, email). A record without times marks the person present, unless
    they already have a row. Returns the rows added or changed.
    """
    changed = 0
    with transaction.atomic():
        locked = _occurrence_locked(meeting, occurrence)
        rows = list(locked.participants.all())
        used: set[int] = set()
        for record in records:
            if record.joined_at is None:
                if any(_same_person(row, record) for row in rows):
                    continue
                rows.append(_new_row(locked, record, source))
                changed += 1
                continue
            row = _match(rows, record, used)
            if row is not None:
                used.add(row.pk)
                changed += _fill(row, record)
                continue
            _drop_presence(locked, record)
            rows = [row for row in rows if not _is_presence_of(row, record)]
            row = _new_row(locked, record, source)
            rows.append(row)
            used.add(row.pk)
            changed += 1
        if changed:
            _updated(locked)
    return changed


# --- recordings ------------------------------------------------------------------------------------
def _recording_fields(record: RecordingRecord) -> dict:
    return {
        "occurrence": record.occurrence,
        "file_type": record.file_type,
        "recording_type": record.recording_type,
        "play_url": record.play_url,
        "share_url": record.share_url,
        "passcode": record.passcode,
        "recording_start": record.recording_start,
        "recording_end": record.recording_end,
    }


def recordings_store(*, meeting: VirtualMeeting, records: Iterable[RecordingRecord], at: datetime | None = None) -> int:
    """Store the meeting's recording files; a file already stored gets the provider's latest details.

    A new file is available; the status of a stored one changes only through `recording_status`
    (so a late redelivered "completed" does not bring back a trashed file). Returns files added or changed.
    """
    changed = 0
    with transaction.atomic():
        for record in records:
            if not record.remote_id:
                continue
            fields = _recording_fields(record)
            row = (
                MeetingRecording.objects.select_for_update().filter(meeting=meeting, remote_id=record.remote_id).first()
            )
            if row is None:
                try:
                    with transaction.atomic():
                        MeetingRecording.objects.create(
                            meeting=meeting, remote_id=record.remote_id, status_at=at or timezone.now(), **fields
                        )
                    changed += 1
                    continue
                except IntegrityError:
                    row = MeetingRecording.objects.select_for_update().get(meeting=meeting, remote_id=record.remote_id)
            new = {name: value for name, value in fields.items() if value and getattr(row, name) != value}
            if new:
                for name, value in new.items():
                    setattr(row, name, value)
                row.save()
                changed += 1
        if changed:
            signals.send_meeting_signal_on_commit(signals.recordings_updated, meeting)
    return changed


def recordings_record(
    *, provider: str, remote_id, records: Iterable[RecordingRecord], at: datetime | None = None
) -> int:
    """The provider announced recordings of a meeting (Zoom: recording.completed). See `recordings_store`.

    `at` is when the provider sent the event. Returns files added or changed; 0 for a meeting this
    site does not know (logged at info).
    """
    meeting = _meeting_for(provider, remote_id)
    if meeting is None:
        log.info("Ignoring %s recordings of meeting %r: not a meeting of this site.", provider, remote_id)
        return 0
    return recordings_store(meeting=meeting, records=records, at=at)


def recording_status(
    *,
    provider: str,
    remote_id,
    uuid: str = "",
    file_ids: Iterable[str] = (),
    status: str,
    at: datetime | None = None,
) -> int:
    """Recordings were trashed, deleted (for good) or recovered at the provider (Zoom: recording.*).

    The files named, else every file of the occurrence `uuid`, else every file of the meeting. An
    event older than the one that set a file's status (`at`, when the provider sent it) is ignored,
    and a file deleted for good stays deleted. Returns the files changed.
    """
    target = RECORDING_STATUS_EVENTS[status]
    at = at or timezone.now()
    meeting = _meeting_for(provider, remote_id)
    with transaction.atomic():
        rows = MeetingRecording.objects.select_for_update()
        if meeting is not None:
            rows = rows.filter(meeting=meeting)
        elif uuid:
            rows = rows.filter(meeting__provider=provider, occurrence=uuid)
        else:
            rows = rows.none()
        file_ids = [str(file_id) for file_id in file_ids if file_id]
        if file_ids:
            rows = rows.filter(remote_id__in=file_ids)
        elif uuid:
            rows = rows.filter(occurrence=uuid)
        changed = []
        for row in rows:
            if row.status == target or row.status == RecordingStatus.DELETED:
                continue
            if row.status_at is not None and at < row.status_at:
                continue
            row.status, row.status_at = target, at
            row.save()
            changed.append(row)
        for meeting_of_rows in {row.meeting_id: row.meeting for row in changed}.values():
            signals.send_meeting_signal_on_commit(signals.recordings_updated, meeting_of_rows)
    if meeting is None and not changed:
        log.info(
            "Ignoring a %s recording.%s event about meeting %r: nothing of this site.", provider, status, remote_id
        )
    return len(changed)
