"""A MeetingSpec as Graph onlineMeeting bodies, and Graph's answers as RemoteMeeting (docs/teams-protocol.md, 4).

Graph keeps no time zone: a meeting is two instants. Each is sent as ISO 8601 with the offset the meeting's
zone has at that instant (the same instant as its UTC form), and answers, which Graph gives in UTC with up to
seven fractional digits, are read back as aware UTC datetimes.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from virtualmeeting.providers.base import MeetingSpec, RemoteMeeting


def graph_time(moment: datetime, zone: str) -> str:
    """An aware instant as Graph's DateTimeOffset, with the offset of `zone` at that instant."""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(UTC)
    return local.isoformat(timespec="seconds")


def parse_graph_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:  # the property tables say UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def subject_of(spec: MeetingSpec) -> str:
    return spec.topic or "Meeting"


def times_body(spec: MeetingSpec) -> dict:
    return {
        "startDateTime": graph_time(spec.start, spec.timezone),
        "endDateTime": graph_time(spec.finish, spec.timezone),
    }


def create_body(spec: MeetingSpec, *, external_id: str) -> dict:
    """The createOrGet body: the external id that makes a repeated create return the same meeting."""
    return {"externalId": external_id, "subject": subject_of(spec), **times_body(spec)}


def update_body(spec: MeetingSpec, previous: MeetingSpec | None) -> dict:
    """Only what changed since `previous` (MeetingSpec.changed_fields; all of it without one) and Graph holds:
    the subject, and both times when either moves (Graph wants the two together). A change of zone alone, the
    agenda or alternative hosts sends nothing: an online meeting has none of them."""
    changed = spec.changed_fields(previous)
    changes = {}
    if "topic" in changed and (previous is None or subject_of(previous) != subject_of(spec)):
        changes["subject"] = subject_of(spec)
    if changed & {"start", "finish"}:
        changes.update(times_body(spec))
    return changes


def join_url_of(body: dict) -> str:
    """joinWebUrl (v1.0); joinUrl only when an answer has no joinWebUrl (older beta-era answers)."""
    return str(body.get("joinWebUrl") or body.get("joinUrl") or "")


def remote_meeting(body: dict) -> RemoteMeeting:
    """An onlineMeeting answer as a RemoteMeeting. Raises KeyError/TypeError when it has no id."""
    start = parse_graph_time(body.get("startDateTime"))
    end = parse_graph_time(body.get("endDateTime"))
    duration = None
    if start is not None and end is not None:
        duration = -(-int((end - start).total_seconds()) // 60)  # whole minutes, rounded up
    return RemoteMeeting(
        remote_id=str(body["id"]),
        join_url=join_url_of(body),
        start=start,
        duration_minutes=duration,
        timezone="",  # Graph keeps no zone
        topic=str(body.get("subject") or ""),
        extra={"externalId": body.get("externalId") or ""},
    )
