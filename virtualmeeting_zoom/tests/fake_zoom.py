"""A small stateful stand-in for Zoom's REST API on top of `responses`, for the provider contract tests.

It keeps meetings in memory and answers with Zoom's shapes (zoom-api.md and
the OpenAPI schema): 201 with the meeting object, 204 for PATCH and DELETE,
404/3001 for a missing meeting, list agendas cut to 250 characters, and a
meeting's registrants. Failures can be scripted for the next call of an operation.
"""

import itertools
import json
import re
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from virtualmeeting_zoom.tests.conftest import API, FAKE_SERVER_ROUTE, TOKEN_URL

MEETING_RE = re.compile(rf"^{re.escape(API)}/meetings/(\d+)(\?.*)?$")
# "me" (a user's token) or a host of the site account (an account token): /users/{userId or email}/meetings.
USER_MEETINGS_RE = re.compile(rf"^{re.escape(API)}/users/([^/?]+)/meetings(\?.*)?$")
PAST_PARTICIPANTS_RE = re.compile(rf"^{re.escape(API)}/past_meetings/([^/?]+)/participants(\?.*)?$")
RECORDINGS_RE = re.compile(rf"^{re.escape(API)}/meetings/(\d+)/recordings(\?.*)?$")
REGISTRANTS_RE = re.compile(
    rf"^{re.escape(API)}/meetings/(\d+)/(registrants|batch_registrants|registrants/status)(\?.*)?$"
)
DAILY_MESSAGE = (
    "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this "
    "particular user. You may resume these requests at GMT 00:00:00."
)
FIELD_NAMES = {
    "start_time": "start",
    "topic": "topic",
    "duration": "duration",
    "timezone": "timezone",
    "agenda": "agenda",
}


def _utc(start_time: str, zone: str) -> str:
    if start_time.endswith("Z"):
        return start_time
    local = datetime.fromisoformat(start_time).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(status, body=None, headers=None):
    return (status, headers or {}, "" if body is None else json.dumps(body))


class FakeZoom:
    def __init__(self, mocked):
        self.meetings: dict[str, dict] = {}
        self.ids = itertools.count(81234567890)
        self.last_update_fields: set[str] = set()
        self.meeting_gets = 0
        self.failures: dict[str, str] = {}
        self.revoked = False
        self.hosts: dict[str, str] = {}  # meeting id -> the user it was made for ("me", or the account's host)
        self.account_tokens = 0  # account_credentials grants asked for
        routes = [
            ("POST", USER_MEETINGS_RE, self._create),
            ("GET", USER_MEETINGS_RE, self._list),
            ("GET", MEETING_RE, self._get),
            ("PATCH", MEETING_RE, self._update),
            ("DELETE", MEETING_RE, self._delete),
            ("POST", TOKEN_URL, self._token),
            ("GET", PAST_PARTICIPANTS_RE, self._past_participants),
            ("GET", RECORDINGS_RE, self._recordings),
            ("POST", REGISTRANTS_RE, self._register),
            ("GET", REGISTRANTS_RE, self._registrants),
            ("PUT", REGISTRANTS_RE, self._registrant_status),
        ]
        for method, url, callback in routes:
            # A server's routes: the strict `mocked` fixture does not ask that each be called.
            setattr(mocked.add_callback(method, url, callback=callback), FAKE_SERVER_ROUTE, True)
        # Meeting id -> its registrations (email as given, registrant id, status, token), in the order made.
        self.registrants: dict[str, list[dict]] = {}
        # Past meetings: occurrence uuid -> (participants as Zoom lists them, "not yet" answers left).
        self.past: dict[str, list] = {}
        self.latest: dict[str, str] = {}  # meeting id -> its latest occurrence's uuid
        self.recording_objects: dict[str, dict] = {}

    # --- scripting -------------------------------------------------------------------
    def fail_next(self, operation: str, kind: str) -> None:
        self.failures[operation] = kind

    def script_participants(self, remote_id: str, occurrence: str, records, *, not_ready: int = 0) -> None:
        """The participants of a past occurrence, as the current docs' list shows them (with times)."""
        self.past[occurrence] = [[_participant_json(record) for record in records], not_ready]
        self.latest[remote_id] = occurrence

    def script_recordings(self, remote_id: str, records) -> None:
        first = records[0]
        self.recording_objects[remote_id] = {
            "uuid": first.occurrence,
            "id": int(remote_id),
            "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
            "topic": "Safety training: Session 1",
            "start_time": _zoom_time(first.recording_start),
            "share_url": first.share_url or f"https://zoom.us/rec/share/{remote_id}",
            "password": first.passcode,
            "recording_count": len(records),
            "recording_files": [
                {
                    "id": record.remote_id,
                    "meeting_id": first.occurrence,
                    "recording_start": _zoom_time(record.recording_start),
                    "recording_end": _zoom_time(record.recording_end),
                    "file_type": record.file_type,
                    "file_size": 1024,
                    "play_url": record.play_url,
                    "download_url": f"https://zoom.us/rec/download/{record.remote_id}",
                    "status": "completed",
                    "recording_type": record.recording_type,
                }
                for record in records
            ],
        }

    def _failure(self, operation: str):
        kind = self.failures.pop(operation, None)
        if kind is None:
            return None
        if kind == "transient":
            return (503, {}, "<html>Service Unavailable</html>")
        if kind == "rate_limited":
            reset = int(datetime.now(UTC).timestamp()) + 1
            body = {"code": 429, "message": "You have reached the maximum per-second rate limit for this API."}
            return _json(429, body, {"X-RateLimit-Reset": str(reset), "X-RateLimit-Type": "QPS"})
        if kind == "rate_limited_daily":
            return _json(429, {"code": 429, "message": DAILY_MESSAGE})
        if kind == "auth_revoked":
            self.revoked = True
            return _json(401, {"code": 124, "message": "Invalid access token."})
        if kind == "permanent":
            return _json(400, {"code": 300, "message": "Validation Failed.", "errors": [{"message": "Bad topic."}]})
        if kind == "not_found":
            return _json(404, {"code": 3001, "message": "Meeting does not exist."})
        raise AssertionError(f"unknown failure kind {kind!r}")

    # --- endpoints ---------------------------------------------------------------------
    def _token(self, request):
        if "account_credentials" in (request.body or ""):
            self.account_tokens += 1
            if self.revoked:
                return _json(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
            scope = "meeting:write:meeting:admin meeting:read:meeting:admin user:read:list_users:admin"
            return _json(200, {"access_token": f"account-{self.account_tokens}", "token_type": "bearer",
                               "expires_in": 3599, "scope": scope})  # fmt: skip
        if self.revoked:
            return _json(400, {"reason": "Invalid Token!", "error": "invalid_grant"})
        return _json(
            200,
            {
                "access_token": "access-2",
                "token_type": "bearer",
                "refresh_token": "refresh-2",
                "expires_in": 3599,
                "scope": "",
            },
        )

    def _meeting_object(self, meeting_id: str) -> dict:
        stored = self.meetings[meeting_id]
        return {
            "id": int(meeting_id),
            "uuid": f"uuid-{meeting_id}",
            "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
            "host_email": "tom@example.com",
            "type": 2,
            "status": "waiting",
            "topic": stored["topic"],
            "start_time": _utc(stored["start_time"], stored["timezone"]),
            "duration": stored["duration"],
            "timezone": stored["timezone"],
            "agenda": stored.get("agenda", ""),
            "created_at": stored["created_at"],
            "join_url": f"https://zoom.us/j/{meeting_id}?pwd=p",
            "start_url": f"https://zoom.us/s/{meeting_id}?zak=host-{self.meeting_gets}",
            "password": "p4ss",
            "settings": stored.get("settings", {}),
        }

    def _create(self, request):
        failure = self._failure("create")
        if failure:
            return failure
        body = json.loads(request.body)
        meeting_id = str(next(self.ids))
        self.meetings[meeting_id] = {**body, "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.hosts[meeting_id] = unquote(USER_MEETINGS_RE.match(request.url).group(1))
        return _json(201, self._meeting_object(meeting_id))

    def _list(self, request):
        meetings = []
        user = unquote(USER_MEETINGS_RE.match(request.url).group(1))
        for meeting_id in self.meetings:
            if self.hosts.get(meeting_id, "me") != user:
                continue  # another user's meetings
            item = self._meeting_object(meeting_id)
            item["agenda"] = item["agenda"][:250]
            meetings.append(
                {
                    key: item[key]
                    for key in (
                        "id",
                        "uuid",
                        "host_id",
                        "topic",
                        "type",
                        "start_time",
                        "duration",
                        "timezone",
                        "agenda",
                        "created_at",
                        "join_url",
                    )
                }
            )
        return _json(
            200, {"page_size": 300, "total_records": len(meetings), "next_page_token": "", "meetings": meetings}
        )

    def _missing(self, request):
        meeting_id = MEETING_RE.match(request.url).group(1)
        return meeting_id, (meeting_id not in self.meetings)

    def _get(self, request):
        failure = self._failure("get")
        if failure:
            return failure
        self.meeting_gets += 1
        meeting_id, missing = self._missing(request)
        if missing:
            return _json(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
        return _json(200, self._meeting_object(meeting_id))

    def _update(self, request):
        failure = self._failure("update")
        if failure:
            return failure
        meeting_id, missing = self._missing(request)
        if missing:
            return _json(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
        body = json.loads(request.body)
        self.last_update_fields = {FIELD_NAMES.get(key, key) for key in body}
        settings = {**self.meetings[meeting_id].get("settings", {}), **body.pop("settings", {})}
        self.meetings[meeting_id].update(body, settings=settings)  # Zoom keeps the settings a PATCH leaves out
        return (204, {}, "")

    # Registrants, as the "Registrants" section of zoom-api.md and the OpenAPI spec give them: only for a
    # meeting that requires registration; the same address again is the same registration; a cancelled one
    # keeps its row (no link); a status change naming an unknown registrant changes nothing (404).
    def _registration(self, request):
        """(meeting id, kind, error answer or None) of a registrant call."""
        match = REGISTRANTS_RE.match(request.url)
        meeting_id, kind = match.group(1), match.group(2)
        if meeting_id not in self.meetings:
            return meeting_id, kind, _json(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
        if self.meetings[meeting_id].get("settings", {}).get("approval_type", 2) == 2:
            if request.method == "POST":
                message = f"Registration has not been enabled for this meeting: {meeting_id}."
                return meeting_id, kind, _json(404, {"code": 404, "message": message})
            message = f"This meeting has not set registration as required: {meeting_id}."
            return meeting_id, kind, _json(400, {"code": 300, "message": message})
        return meeting_id, kind, None

    def _registrant_answer(self, meeting_id: str, person: dict) -> dict:
        held = self.registrants.setdefault(meeting_id, [])
        row = next((r for r in held if r["email"].lower() == person["email"].lower()), None)
        if row is None:
            row = {"email": person["email"], "id": secrets.token_urlsafe(16)[:22], "status": "approved"}
            row["token"] = secrets.token_urlsafe(16)
            held.append(row)
        answer = {"email": row["email"], "registrant_id": row["id"]}
        if row["status"] == "approved":
            answer["join_url"] = f"https://zoom.us/w/{meeting_id}?tk={row['token']}"
        return answer

    def _register(self, request):
        meeting_id, kind, refused = self._registration(request)
        if refused:
            return refused
        body = json.loads(request.body)
        if kind == "registrants":
            answer = self._registrant_answer(meeting_id, body)
            answer.pop("email")
            return _json(201, {"id": int(meeting_id), **answer, "topic": self.meetings[meeting_id]["topic"]})
        people = body["registrants"]
        assert 1 <= len(people) <= 30, "Zoom takes 1 to 30 registrants in a batch"
        return _json(200, {"registrants": [self._registrant_answer(meeting_id, person) for person in people]})

    def _registrants(self, request):
        meeting_id, _, refused = self._registration(request)
        if refused:
            return refused
        query = parse_qs(urlsplit(request.url).query)
        status = query.get("status", ["approved"])[0]
        size = min(int(query.get("page_size", ["30"])[0]), 300)
        start = int(query.get("next_page_token", ["0"])[0] or 0)
        listed = [r for r in self.registrants.get(meeting_id, []) if r["status"] == status]
        page = [
            {"id": r["id"], "email": r["email"], "first_name": "", "last_name": "", "status": r["status"]}
            | ({"join_url": f"https://zoom.us/w/{meeting_id}?tk={r['token']}"} if r["status"] == "approved" else {})
            for r in listed[start : start + size]
        ]
        token = str(start + size) if start + size < len(listed) else ""
        return _json(
            200, {"page_size": size, "total_records": len(listed), "next_page_token": token, "registrants": page}
        )

    def _registrant_status(self, request):
        meeting_id, _, refused = self._registration(request)
        if refused:
            return refused
        body = json.loads(request.body)
        by_id = {r["id"]: r for r in self.registrants.get(meeting_id, [])}
        if any(target.get("id") not in by_id for target in body["registrants"]):
            return _json(404, {"code": 404, "message": "Meeting or registrant not found."})
        status = {"approve": "approved", "cancel": "denied", "deny": "denied"}[body["action"]]
        for target in body["registrants"]:
            by_id[target["id"]]["status"] = status
        return (204, {}, "")

    def _past_participants(self, request):
        failure = self._failure("participants")
        if failure:
            return failure
        segment = PAST_PARTICIPANTS_RE.match(request.url).group(1)
        uuid = self.latest.get(segment) if segment.isdigit() else unquote(unquote(segment))
        if uuid not in self.past:
            return _json(404, {"code": 3001, "message": "Meeting ID is invalid or not end."})
        participants, not_ready = self.past[uuid]
        if not_ready:
            self.past[uuid][1] -= 1
            return _json(404, {"code": 3001, "message": "Meeting ID is invalid or not end."})
        body = {"page_count": 1, "page_size": 300, "total_records": len(participants), "next_page_token": ""}
        return _json(200, {**body, "participants": participants})

    def _recordings(self, request):
        failure = self._failure("recordings")
        if failure:
            return failure
        meeting_id = RECORDINGS_RE.match(request.url).group(1)
        if meeting_id not in self.recording_objects:
            return _json(404, {"code": 3301, "message": "There is no recording for this meeting."})
        return _json(200, self.recording_objects[meeting_id])

    def _delete(self, request):
        failure = self._failure("delete")
        if failure:
            return failure
        meeting_id, missing = self._missing(request)
        if missing:
            return _json(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
        del self.meetings[meeting_id]
        return (204, {}, "")


def _zoom_time(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _participant_json(record) -> dict:
    """A ParticipantRecord as the past-participants list of Zoom's current docs shows it."""
    seconds = int((record.left_at - record.joined_at).total_seconds()) if record.left_at and record.joined_at else 0
    return {
        "id": "",
        "name": record.name,
        "user_id": record.participant_key,
        "registrant_id": record.registrant_id,
        "user_email": record.email,
        "join_time": _zoom_time(record.joined_at),
        "leave_time": _zoom_time(record.left_at),
        "duration": seconds,
        "failover": False,
        "status": "in_meeting",
    }
