"""Work behind Zoom's webhooks (the view answers Zoom at once and queues this)."""

import logging
import math
from datetime import UTC, datetime

from celery import shared_task
from django.utils.translation import gettext_lazy

from virtualmeeting_zoom.payloads import (
    TOPIC_MAX,
    parse_zoom_time,
    participant_record,
    recording_records,
    zone_or_utc,
    zoom_agenda,
    zoom_id,
)

logger = logging.getLogger(__name__)

PROVIDER_ID = "zoom"
DEAUTHORIZED_MESSAGE = gettext_lazy("The Zoom app was removed from your Zoom account: connect your Zoom account again.")
PARTICIPATION_EVENTS = {"meeting.started", "meeting.ended", "meeting.participant_joined", "meeting.participant_left"}
RECORDING_EVENTS = {"recording.completed", "recording.trashed", "recording.deleted", "recording.recovered"}
HANDLED_EVENTS = {"meeting.deleted", "meeting.updated", "app_deauthorized", *PARTICIPATION_EVENTS, *RECORDING_EVENTS}


@shared_task(acks_late=True, ignore_result=True)
def zoom_webhook_event(event: str, payload: dict, event_ts=None) -> None:
    """Apply one verified Zoom event. Safe to run twice: every branch is idempotent.

    `event_ts` is when Zoom sent it (ms since the epoch): a recording event delivered late does not
    undo a later one.
    """
    from virtualmeeting import services

    payload = payload if isinstance(payload, dict) else {}
    if event == "app_deauthorized":
        user_id = zoom_id(payload.get("user_id"))
        if user_id:
            services.connections_revoke_remote(
                provider=PROVIDER_ID, remote_account_id=user_id, message=DEAUTHORIZED_MESSAGE
            )
        return
    meeting = payload.get("object") if isinstance(payload.get("object"), dict) else {}
    remote_id = zoom_id(meeting.get("id"))
    if not remote_id:
        return  # no meeting, or nothing a Zoom meeting id looks like
    if event == "meeting.deleted":
        services.meeting_mark_remote_gone(provider=PROVIDER_ID, remote_id=remote_id)
    elif event == "meeting.updated" and meeting_update_differs(remote_id, meeting):
        services.meeting_mark_remote_changed(provider=PROVIDER_ID, remote_id=remote_id)
    elif event in PARTICIPATION_EVENTS:
        _participation(event, remote_id, meeting)
    elif event in RECORDING_EVENTS:
        _recording(event, remote_id, meeting, at=_event_time(event_ts))


def _participation(event: str, remote_id: str, meeting: dict) -> None:
    from virtualmeeting import participation

    uuid = zoom_id(meeting.get("uuid"))
    if meeting.get("uuid") and not uuid:
        return  # an occurrence id no Zoom meeting has ("" would mean "the latest occurrence")
    if event == "meeting.started":
        started_at = parse_zoom_time(meeting.get("start_time"))
        participation.occurrence_record(provider=PROVIDER_ID, remote_id=remote_id, uuid=uuid, started_at=started_at)
        return
    if event == "meeting.ended":
        ended_at = parse_zoom_time(meeting.get("end_time"))
        participation.occurrence_record(provider=PROVIDER_ID, remote_id=remote_id, uuid=uuid, ended_at=ended_at)
        return
    record = participant_record(meeting.get("participant"))
    if record is None:
        return
    record_event = (
        participation.participant_joined if event == "meeting.participant_joined" else participation.participant_left
    )
    record_event(provider=PROVIDER_ID, remote_id=remote_id, uuid=uuid, record=record)


def _recording(event: str, remote_id: str, meeting: dict, *, at: datetime | None) -> None:
    from virtualmeeting import participation

    records = recording_records(meeting)
    if event in ("recording.completed", "recording.recovered"):
        # A recovered file whose "completed" was lost is stored too.
        participation.recordings_record(provider=PROVIDER_ID, remote_id=remote_id, records=records, at=at)
    if event == "recording.completed":
        return
    files = meeting.get("recording_files") if isinstance(meeting.get("recording_files"), list) else []
    participation.recording_status(
        provider=PROVIDER_ID,
        remote_id=remote_id,
        uuid=zoom_id(meeting.get("uuid")),
        file_ids=[zoom_id(item.get("id")) for item in files if isinstance(item, dict) and zoom_id(item.get("id"))],
        status=event.split(".", 1)[1],
        at=at,
    )


def _event_time(event_ts) -> datetime | None:
    """Zoom's event_ts (milliseconds since the epoch) as an aware datetime; None when absent or unreadable."""
    if isinstance(event_ts, bool) or not isinstance(event_ts, int | float):
        return None
    try:
        return datetime.fromtimestamp(event_ts / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _zoom_start(value, zone_name: str) -> datetime | None:
    """Zoom's start_time: UTC with Z, or local wall-clock time in the meeting's zone."""
    if not value:
        return None
    text = str(value)
    if not text.endswith("Z") and "+" not in text[10:]:
        zone = zone_or_utc(zone_name)
        try:
            local = datetime.fromisoformat(text)
        except ValueError:
            return None
        if local.tzinfo is None:
            return local.replace(tzinfo=zone or UTC).astimezone(UTC)
    return parse_zoom_time(text)


def meeting_update_differs(remote_id: str, changed: dict) -> bool:
    """True when a meeting.updated event leaves the meeting different from what we want.

    Zoom's event names the operator (the host's email) but an update made by
    this site through the host's token looks the same as one made by hand, so
    the event's fields are compared with the desired state instead: our own
    update's echo matches it and is ignored.
    """
    from virtualmeeting.models import VirtualMeeting

    wanted = VirtualMeeting.objects.filter(provider=PROVIDER_ID, remote_id=remote_id, present=True).first()
    if wanted is None or wanted.start is None or wanted.finish is None:
        return False
    if "start_time" in changed:
        start = _zoom_start(changed.get("start_time"), changed.get("timezone") or wanted.time_zone)
        if start is None or start != wanted.start:
            return True
    if "duration" in changed:
        minutes = max(1, math.ceil((wanted.finish - wanted.start).total_seconds() / 60))
        if changed.get("duration") != minutes:
            return True
    if "timezone" in changed and wanted.time_zone and changed.get("timezone") != wanted.time_zone:
        return True
    if "topic" in changed and changed.get("topic") != (wanted.topic or "Meeting")[:TOPIC_MAX]:
        return True
    return "agenda" in changed and str(changed.get("agenda") or "").strip() != zoom_agenda(wanted.agenda)
