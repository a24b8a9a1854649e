"""A meeting's desired state as Zoom request bodies, and Zoom's meeting object as a RemoteMeeting.

start_time is sent in the session's local wall-clock time with its IANA zone,
so Zoom shows the meeting in the zone the trainer chose (and the instant is
the same on both sides of a clock change). The agenda is the product's text
alone: Zoom puts it in the invitation attendees read, so the spec's marker is
never sent (see `ZoomProvider.find_meeting` for how a meeting is found again).
"""

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from virtualmeeting.providers.base import (
    MeetingSpec,
    ParticipantRecord,
    RecordingRecord,
    RegistrantSpec,
    RemoteMeeting,
    RemoteRegistrant,
)

TOPIC_MAX = 200
AGENDA_MAX = 2000


def zone_or_utc(name: str):
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def start_fields(spec: MeetingSpec) -> dict:
    """start_time in the session's local time plus its zone; UTC with Z when the zone is unknown."""
    zone = zone_or_utc(spec.timezone)
    if zone is None:
        return {"start_time": spec.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "timezone": "UTC"}
    return {"start_time": spec.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"), "timezone": spec.timezone}


def duration_minutes(spec: MeetingSpec) -> int:
    """Whole minutes, rounded up (61.5 -> 62); at least 1. Aware datetimes: clock changes do not count."""
    seconds = (spec.finish - spec.start).total_seconds()
    return max(1, math.ceil(seconds / 60))


def zoom_agenda(agenda: str) -> str:
    """The event details as attendees will read them, within Zoom's 2000 characters; nothing internal."""
    return (agenda or "").strip()[:AGENDA_MAX]


def agenda_text(spec: MeetingSpec) -> str:
    return zoom_agenda(spec.agenda)


def meeting_settings(options: dict) -> dict:
    waiting_room = bool(options["waiting_room"])
    return {
        "waiting_room": waiting_room,
        # Zoom ignores join before host while the waiting room is on; send what will really happen.
        "join_before_host": bool(options["join_before_host"]) and not waiting_room,
        "mute_upon_entry": bool(options["mute_upon_entry"]),
        "auto_recording": options["auto_recording"],
    }


# settings.approval_type: 0 approves registrants automatically, 1 waits for the host, 2 is no registration.
APPROVE_AUTOMATICALLY = 0
NO_REGISTRATION = 2
REGISTRATION_KEYS = ("approval_type", "registrants_confirmation_email", "registrants_email_notification")


def registration_settings(spec: MeetingSpec) -> dict:
    """Whether the meeting requires registration: approved at once, and Zoom's own registrant mails off.

    Registrants get addresses no one reads (the product sends its own mail), so Zoom must never write
    to them: neither the confirmation nor the approval and cancellation notices.
    """
    if not spec.registration:
        return {"approval_type": NO_REGISTRATION}
    return {
        "approval_type": APPROVE_AUTOMATICALLY,
        "registrants_confirmation_email": False,
        "registrants_email_notification": False,
    }


def alternative_host_settings(spec: MeetingSpec) -> dict:
    """settings.alternative_hosts: the emails, semicolon-separated ("" names none). Zoom would otherwise mail
    every alternative host on each create and update (alternative_hosts_email_notification defaults to true)."""
    return {"alternative_hosts": ";".join(spec.alternative_hosts), "alternative_hosts_email_notification": False}


def spec_fields(spec: MeetingSpec) -> dict:
    """The fields of a meeting that follow the spec (what an update may change)."""
    return {
        "topic": (spec.topic or "Meeting")[:TOPIC_MAX],
        **start_fields(spec),
        "duration": duration_minutes(spec),
        "agenda": agenda_text(spec),
    }


# The keys of spec_fields each MeetingSpec field goes into. start_time and timezone travel together (Zoom reads
# one with the other); the duration follows from start and finish.
BODY_KEYS = {
    "topic": ("topic",),
    "start": ("start_time", "timezone", "duration"),
    "finish": ("duration",),
    "timezone": ("start_time", "timezone"),
    "agenda": ("agenda",),
}


def setting_fields(spec: MeetingSpec, changed) -> dict:
    """The meeting settings for the spec fields in `changed` (Zoom keeps the other settings of a PATCH as they are)."""
    settings = {}
    if "registration" in changed:
        settings.update(registration_settings(spec))
    if "alternative_hosts" in changed:
        settings.update(alternative_host_settings(spec))
    return settings


def spec_settings(spec: MeetingSpec) -> dict:
    """Every meeting setting the spec decides (the alternative hosts when it names some)."""
    hosts = ("alternative_hosts",) if spec.alternative_hosts else ()
    return setting_fields(spec, ("registration", *hosts))


def create_body(spec: MeetingSpec, options: dict) -> dict:
    return {"type": 2, **spec_fields(spec), "settings": {**meeting_settings(options), **spec_settings(spec)}}


def update_body(spec: MeetingSpec, previous: MeetingSpec | None) -> dict:
    """Only what differs from `previous` (MeetingSpec.changed_fields; {} when nothing changed); all of it without one.

    A changed field sends the keys it goes into whose value Zoom would see differently (a topic changed past
    Zoom's 200 characters, or a start and finish moved together with the duration unchanged, send less);
    start_time and timezone go together.
    """
    current = spec_fields(spec)
    if previous is None:
        return {**current, "settings": spec_settings(spec)}
    changed = spec.changed_fields(previous)
    before = spec_fields(previous)
    keys = {key for name in changed for key in BODY_KEYS.get(name, ())}
    changes = {key: value for key, value in current.items() if key in keys and before[key] != value}
    if "start_time" in changes or "timezone" in changes:
        changes["start_time"] = current["start_time"]
        changes["timezone"] = current["timezone"]
    settings = setting_fields(spec, changed)
    if settings:
        changes["settings"] = settings
    return changes


def parse_zoom_time(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def remote_registration(data: dict) -> tuple[bool | None, dict]:
    """Does the meeting require registration (None when Zoom did not say), and its registration settings as given."""
    settings = data.get("settings")
    if not isinstance(settings, dict) or "approval_type" not in settings:
        return None, {}
    given = {key: settings[key] for key in REGISTRATION_KEYS if key in settings}
    return settings["approval_type"] != NO_REGISTRATION, given


def registration_matches(given: dict, spec: MeetingSpec) -> bool:
    """Are the registration settings Zoom gave (see remote_registration) what the spec sends? Unsaid ones match."""
    wanted = registration_settings(spec)
    return all(given[key] == value for key, value in wanted.items() if key in given)


def remote_meeting(data: dict) -> RemoteMeeting:
    """Zoom's meeting object as a RemoteMeeting. The start_url (it carries the host's token) is left out."""
    registration, registration_given = remote_registration(data)
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    alternative_hosts = settings.get("alternative_hosts")
    return RemoteMeeting(
        remote_id=str(data["id"]),
        join_url=data.get("join_url", ""),
        start=parse_zoom_time(data.get("start_time")),
        duration_minutes=data.get("duration"),
        timezone=data.get("timezone", ""),
        topic=data.get("topic", ""),
        agenda=data.get("agenda", ""),
        password=data.get("password", ""),
        host_email=data.get("host_email", ""),
        registration=registration,
        extra={
            **{key: data[key] for key in ("uuid", "host_id", "status") if key in data},
            **({"registration_settings": registration_given} if registration_given else {}),
            **({"alternative_hosts": alternative_hosts} if isinstance(alternative_hosts, str) else {}),
        },
    )


def _text(value, limit: int = 255) -> str:
    """Text from Zoom's JSON as our columns hold it: trimmed and cut to `limit`, without NUL (PostgreSQL
    refuses it) and with a lone surrogate (JSON's "\\ud800": no UTF-8 for it) replaced."""
    text = str(value or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text.strip()[:limit]


# The longest id we store (meeting ids, occurrence uuids, user ids: 255-character columns).
ZOOM_ID_MAX = 255


def zoom_id(value) -> str:
    """An id from Zoom's JSON (meeting id, occurrence uuid, user id) as text, or "" for anything that
    is not one: not a string or whole number, longer than our columns, or not printable ASCII (a
    uuid is base64, a meeting id digits)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = str(value).strip()
    return text if len(text) <= ZOOM_ID_MAX and text.isascii() and text.isprintable() else ""


def participant_record(item: dict) -> ParticipantRecord | None:
    """A participant of a participant webhook or of the past-participants list, as a ParticipantRecord.

    Both list variants are read: Zoom's OpenAPI 2.0.0 gives only id, name and user_email; its current
    docs add user_id, registrant_id, join_time, leave_time, duration and status (without times, the
    participant is present, minutes unknown). The key is the device's participant_uuid, else the
    per-meeting user_id, else the Zoom user id; a guest of the old variant (no id at all) is keyed by
    name and email. The account is the Zoom user id of someone signed in to Zoom (`participant_user_id`
    in a webhook, `id` in both; blank for others): the host's is the meeting's host_id. None for someone
    who never got past the waiting room, or an empty entry.
    """
    if not isinstance(item, dict) or item.get("status") == "in_waiting_room":
        return None
    name = _text(item.get("user_name") or item.get("name"))
    email = _text(item.get("email") or item.get("user_email"))
    key = next(
        (_text(item.get(field)) for field in ("participant_uuid", "user_id", "id") if _text(item.get(field))), ""
    )
    if not key and not (name or email):
        return None
    return ParticipantRecord(
        participant_key=key or _text(f"name:{name.casefold()}|{email.casefold()}"),
        name=name,
        email=email,
        registrant_id=_text(item.get("registrant_id")),
        joined_at=parse_zoom_time(item.get("join_time")),
        left_at=parse_zoom_time(item.get("leave_time")),
        leave_reason=_text(item.get("leave_reason"), 1000),
        account_id=_text(item.get("participant_user_id") or item.get("id")),
    )


def recording_records(data: dict) -> list[RecordingRecord]:
    """The finished files of a recording object (GET /meetings/{id}/recordings, or recording.completed).

    The passcode is the one a person types on Zoom's recording page (`password`; else the passcode
    Zoom puts in play links, `recording_play_passcode`). Files still processing are left out.
    """
    if not isinstance(data, dict):
        return []
    passcode = _text(data.get("password") or data.get("recording_play_passcode"), 1000)
    records = []
    files = data.get("recording_files")
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, dict) or not _text(item.get("id")):
            continue
        if item.get("status") not in (None, "", "completed"):
            continue
        records.append(
            RecordingRecord(
                remote_id=_text(item.get("id")),
                file_type=_text(item.get("file_type"), 50),
                recording_type=_text(item.get("recording_type"), 100),
                play_url=_text(item.get("play_url"), 2000),
                share_url=_text(data.get("share_url"), 2000),
                passcode=passcode,
                recording_start=parse_zoom_time(item.get("recording_start")),
                recording_end=parse_zoom_time(item.get("recording_end")),
                occurrence=_text(data.get("uuid")),
            )
        )
    return records


# --- registrants ----------------------------------------------------------------------------
NAME_MAX = 64  # Zoom's first_name and last_name


def registrant_body(person: RegistrantSpec) -> dict:
    """One registrant as Zoom takes it (the single add, and each entry of a batch)."""
    return {
        "email": person.email,
        "first_name": person.first_name.strip()[:NAME_MAX],
        "last_name": person.last_name.strip()[:NAME_MAX],
    }


def batch_registrants_body(people: list[RegistrantSpec]) -> dict:
    """A batch: approved at once (even if the host switched the meeting to manual approval), no confirmation mail."""
    return {
        "auto_approve": True,
        "registrants_confirmation_email": False,
        "registrants": [registrant_body(person) for person in people],
    }


def remote_registrants(items, *, id_field: str) -> list[RemoteRegistrant]:
    """Registrants as Zoom lists them; `id_field` names the registrant's id ("registrant_id" in the answers to
    add and batch, "id" in the list). Entries without an id or address are left out; join_url is "" for a
    registration that is not approved (Zoom gives no link then)."""
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        registrant_id, email = str(item.get(id_field) or "").strip(), str(item.get("email") or "").strip()
        if registrant_id and email:
            found.append(
                RemoteRegistrant(registrant_id=registrant_id, email=email, join_url=item.get("join_url") or "")
            )
    return found
