"""Cloud recordings of an ended occurrence, scripted by tests: `recording.completed` (and trashed, deleted,
recovered), `GET /meetings/{meetingId}/recordings`, and the pages behind `share_url`, `play_url` and `download_url`.

Zoom records to the cloud only for a licensed host and a meeting with `settings.auto_recording: cloud`, and makes
the recording available after the meeting ends; the simulator refuses to script anything else.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import secrets
import uuid as uuid_module

from simulators.zoom import participants
from simulators.zoom.meetings import authenticate, error, iso
from simulators.zoom.registrants import LICENSED_TYPES, settings_of
from simulators.zoom.web import Request, Response, esc, json_response, page

DOWNLOAD_TOKEN_LIFETIME = 24 * 3600  # the webhook's download_token
NO_RECORDING = "There is no recording for this meeting."
DEFAULT_FILES = (
    {"file_type": "MP4", "recording_type": "shared_screen_with_speaker_view"},
    {"file_type": "M4A", "recording_type": "audio_only"},
)
EXTENSIONS = {
    "MP4": "MP4",
    "M4A": "M4A",
    "CHAT": "TXT",
    "TRANSCRIPT": "VTT",
    "CC": "VTT",
    "CSV": "CSV",
    "TIMELINE": "JSON",
    "SUMMARY": "JSON",
}
CONTENT_TYPES = {
    "MP4": "video/mp4",
    "M4A": "audio/mp4",
    "TXT": "text/plain",
    "VTT": "text/vtt",
    "CSV": "text/csv",
    "JSON": "application/json",
}
ScriptError = participants.ScriptError


def _row(sim, uuid: str) -> dict:
    row = sim.store.one("SELECT * FROM recordings WHERE uuid = ?", (uuid,))
    if not row:
        raise ScriptError(f"no recording of occurrence {uuid}", 404)
    return row


def _host(sim, meeting: dict) -> dict:
    return sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))


# --- scripting ---------------------------------------------------------------------


def add(
    sim, occurrence: dict, *, passcode: str | None = None, files: list | None = None, client_id: str | None = None
) -> dict:
    """The cloud recording of an ended occurrence is ready: `recording.completed` with a download_token."""
    with sim.store.lock:
        meeting = participants.meeting_of(sim, occurrence)
        host = _host(sim, meeting)
        _check_recordable(sim, meeting, host, occurrence)
        passcode = _passcode(passcode)
        row = {
            "uuid": occurrence["uuid"],
            "meeting_id": meeting["id"],
            "status": "completed",
            "share_token": secrets.token_urlsafe(32),
            "password": passcode,
            "play_passcode": secrets.token_urlsafe(24) if passcode else "",
            "files": json.dumps(_files(occurrence, files)),
            "download_token": secrets.token_urlsafe(48),
            "download_token_expires_at": sim.clock.now() + DOWNLOAD_TOKEN_LIFETIME,
            "created_at": iso(sim.clock.now()),
        }
        sim.store.run(
            f"INSERT INTO recordings ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )
    obj = recording_object(sim, meeting, host, occurrence, row)
    deliveries = sim.webhooks.host_event(
        host,
        "recording.completed",
        obj,
        client_id=client_id,
        extra={"download_token": row["download_token"]},
        # zoom-api.md has the token in the payload; Zoom's webhook reference beside `payload`: both are sent.
        top_level={"download_token": row["download_token"]},
    )
    return {"recording": obj, "download_token": row["download_token"], "webhooks": deliveries}


def _check_recordable(sim, meeting: dict, host: dict, occurrence: dict) -> None:
    if host["type"] not in LICENSED_TYPES:
        raise ScriptError("Zoom records to the cloud only for a licensed host")
    auto_recording = settings_of(meeting).get("auto_recording", "none")
    if auto_recording != "cloud":
        raise ScriptError(f"the meeting's auto_recording is {auto_recording!r}: Zoom makes no cloud recording")
    if not occurrence["ended_at"]:
        raise ScriptError("Zoom makes a cloud recording available after the meeting ends")
    if sim.store.one("SELECT 1 FROM recordings WHERE uuid = ?", (occurrence["uuid"],)):
        raise ScriptError(f"occurrence {occurrence['uuid']} already has its recording")


def _passcode(passcode: str | None) -> str:
    if passcode is None:
        return secrets.token_urlsafe(6)[:8]
    if not isinstance(passcode, str) or len(passcode) > 10:
        raise ScriptError("a recording passcode is a string of at most 10 characters", 400)
    return passcode


def _files(occurrence: dict, files: list | None) -> list[dict]:
    if files is not None and (not isinstance(files, list) or not all(isinstance(f, dict) for f in files)):
        raise ScriptError("files must be a list of {file_type, recording_type}", 400)
    made = []
    for spec in files or DEFAULT_FILES:
        file_type = spec.get("file_type", "MP4")
        if file_type not in EXTENSIONS:
            raise ScriptError(f"file_type must be one of {', '.join(EXTENSIONS)}", 400)
        made.append(
            {
                "id": str(uuid_module.uuid4()),
                "file_type": file_type,
                "file_extension": EXTENSIONS[file_type],
                "recording_type": spec.get("recording_type", "shared_screen_with_speaker_view"),
                "recording_start": spec.get("recording_start", occurrence["started_at"]),
                "recording_end": spec.get("recording_end", occurrence["ended_at"]),
                "file_size": int(spec.get("file_size", 1_048_576)),
                "play_token": secrets.token_urlsafe(32),
                "download_token": secrets.token_urlsafe(32),
            }
        )
    return made


def change(sim, uuid: str, action: str, client_id: str | None = None) -> dict:
    """trash (to the trash, 30 days in Zoom), delete (for good) or recover (from the trash), with its webhook."""
    transitions = {
        "trash": (("completed",), "trashed", "recording.trashed"),
        "delete": (("completed", "trashed"), "deleted", "recording.deleted"),
        "recover": (("trashed",), "completed", "recording.recovered"),
    }
    allowed, status, event = transitions[action]
    with sim.store.lock:
        row = _row(sim, uuid)
        if row["status"] not in allowed:
            raise ScriptError(f"a {row['status']} recording cannot be {status}")
        sim.store.run("UPDATE recordings SET status = ? WHERE uuid = ?", (status, uuid))
        row = _row(sim, uuid)
    occurrence = participants.occurrence(sim, uuid)
    meeting = participants.meeting_of(sim, occurrence)
    host = _host(sim, meeting)
    obj = recording_object(sim, meeting, host, occurrence, row)
    extra = {"operator": host["email"], "operator_id": host["id"]}
    deliveries = sim.webhooks.host_event(host, event, obj, client_id=client_id, extra=extra)
    return {"uuid": uuid, "status": status, "webhooks": deliveries}


# --- what Zoom shows of a recording --------------------------------------------------


def recording_object(sim, meeting: dict, host: dict, occurrence: dict, row: dict) -> dict:
    files = json.loads(row["files"])
    started = participants.unix(occurrence["started_at"])
    ended = participants.unix(occurrence["ended_at"])
    obj = {
        "uuid": occurrence["uuid"],
        "id": meeting["id"],
        "account_id": host["account_id"],
        "host_id": host["id"],
        "host_email": host["email"],
        "topic": meeting["topic"],
        "type": meeting["type"],
        "start_time": occurrence["started_at"],
        "timezone": meeting["timezone"],
        "duration": round((ended - started) / 60),
        "total_size": sum(f["file_size"] for f in files),
        "recording_count": len(files),
        "share_url": f"{sim.public_url}/rec/share/{row['share_token']}",
        "recording_files": [_file_object(sim, occurrence, f) for f in files],
    }
    if row["password"]:
        obj |= {"password": row["password"], "recording_play_passcode": row["play_passcode"]}
    return obj


def _file_object(sim, occurrence: dict, item: dict) -> dict:
    return {
        "id": item["id"],
        "meeting_id": occurrence["uuid"],
        "recording_start": item["recording_start"],
        "recording_end": item["recording_end"],
        "file_type": item["file_type"],
        "file_extension": item["file_extension"],
        "file_size": item["file_size"],
        "play_url": f"{sim.public_url}/rec/play/{item['play_token']}",
        "download_url": f"{sim.public_url}/rec/download/{item['download_token']}",
        "status": "completed",
        "recording_type": item["recording_type"],
    }


def get(sim, req: Request, *, user: dict, app: dict, meeting_ref: str) -> Response:
    """GET /meetings/{meetingId}/recordings: by occurrence uuid, or a meeting id for its latest occurrence."""
    found = participants.find_past(
        sim, participants.decode_meeting_ref(meeting_ref), user, error(404, 3301, NO_RECORDING)
    )
    if isinstance(found, Response):
        return error(404, 3301, NO_RECORDING) if found.status != 404 else found
    occurrence, meeting = found
    row = sim.store.one("SELECT * FROM recordings WHERE uuid = ? AND status = 'completed'", (occurrence["uuid"],))
    if not row:
        return error(404, 3301, NO_RECORDING)
    obj = recording_object(sim, meeting, user, occurrence, row)
    if "download_access_token" in req.query.get("include_fields", ""):
        obj["download_access_token"] = row["download_token"]
    return json_response(200, obj)


# --- pages: share_url / play_url ask for the passcode; download_url wants a token ----------


def _playable(sim, column: str, token: str):
    """(recording row, file or None) behind a share or play token, while the recording is not trashed or deleted."""
    for row in sim.store.all("SELECT * FROM recordings WHERE status = 'completed'"):
        if column == "share" and hmac.compare_digest(row["share_token"], token):
            return row, None
        for item in json.loads(row["files"]):
            if hmac.compare_digest(item[f"{column}_token"], token):
                return row, item
    return None


def _gone() -> Response:
    return page(
        "Recording not found",
        "<h1>This recording does not exist</h1>"
        '<p class="error">It may have been deleted or moved to the trash by its owner.</p>',
        status=404,
    )


def share_page(sim, req: Request, token: str) -> Response:
    return _player(sim, req, "share", token)


def play_page(sim, req: Request, token: str) -> Response:
    return _player(sim, req, "play", token)


def _player(sim, req: Request, column: str, token: str) -> Response:
    found = _playable(sim, column, token)
    if not found:
        return _gone()
    row, item = found
    if row["password"]:
        typed = req.form().get("passcode", "") if req.method == "POST" else ""
        granted = hmac.compare_digest(req.query.get("pwd", ""), row["play_passcode"]) or (
            typed and hmac.compare_digest(typed, row["password"])
        )
        if not granted:
            message = '<p class="error" role="alert">Wrong passcode.</p>' if req.method == "POST" else ""
            body = (
                "<h1>Enter the passcode to view this recording</h1>"
                + message
                + '<form method="post"><label for="passcode">Passcode</label>'
                '<input id="passcode" name="passcode" type="password" required>'
                '<button type="submit">Watch Recording</button></form>'
            )
            return page("Passcode required", body, status=403 if req.method == "POST" else 200)
    occurrence = participants.occurrence(sim, row["uuid"])
    meeting = participants.meeting_of(sim, occurrence)
    kind = item["recording_type"] if item else "all files"
    body = (
        f"<h1>Recording: {esc(meeting['topic'])}</h1>"
        f"<dl><dt>Started</dt><dd>{esc(occurrence['started_at'])}</dd><dt>Playing</dt><dd>{esc(kind)}</dd></dl>"
    )
    return page(f"Recording {meeting['topic']}", body)


def download(sim, req: Request, token: str) -> Response:
    """A file, for the host's OAuth access token (`access_token=` or Bearer) or the webhook's download_token."""
    found = _playable(sim, "download", token)
    if not found:
        return error(404, 3301, NO_RECORDING)
    row, item = found
    if not _may_download(sim, req, row):
        return error(401, 124, "Invalid access token.")
    body = f"zoomsim recording {row['uuid']} {item['recording_type']}\n".encode()
    content_type = CONTENT_TYPES.get(item["file_extension"], "application/octet-stream")
    filename = f"{item['recording_type']}.{item['file_extension'].lower()}"
    return Response(
        200, body, [("Content-Type", content_type), ("Content-Disposition", f'attachment; filename="{filename}"')]
    )


def _may_download(sim, req: Request, row: dict) -> bool:
    token = req.query.get("access_token", "")
    if token and hmac.compare_digest(token, row["download_token"]):
        return sim.clock.now() < row["download_token_expires_at"]
    if token:
        req = dataclasses.replace(req, headers={**req.headers, "authorization": f"Bearer {token}"})
    auth = authenticate(sim, req)
    if isinstance(auth, Response):
        return False
    _, user, _ = auth
    meeting = sim.store.one("SELECT * FROM meetings WHERE id = ?", (row["meeting_id"],))
    return meeting["host_id"] == user["id"]
