"""Microsoft Graph v1.0: /me and the signed-in user's online meetings, with bearer tokens, permissions, the
Teams licence, per-user throttling, and DateTimeOffset values read with any offset and answered in UTC."""

from __future__ import annotations

import base64
import json
import math
import secrets
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from simulators.common import Request, Response, empty_response, esc, json_response
from simulators.microsoft.web import graph_error, page

MEETING_SCOPES_WRITE = ("OnlineMeetings.ReadWrite",)
MEETING_SCOPES_READ = ("OnlineMeetings.Read", "OnlineMeetings.ReadWrite")
READ_ONLY = {"id", "joinWebUrl", "joinUrl", "creationDateTime", "chatInfo", "joinInformation", "participants"}
PATCHABLE = {"subject", "startDateTime", "endDateTime", "externalId", "allowedPresenters", "lobbyBypassSettings"}


class Throttle:
    """At most `requests` Graph calls per user in `window_seconds` (0: no limit); beyond it a 429 whose
    Retry-After says when the oldest call leaves the window."""

    def __init__(self):
        self._lock = threading.Lock()
        self.configure({"requests": 0, "window_seconds": 1})

    def configure(self, payload: dict) -> None:
        requests, window = int(payload.get("requests", 0)), float(payload.get("window_seconds", 1))
        if requests < 0 or window <= 0:
            raise ValueError("requests must be >= 0 and window_seconds > 0")
        with self._lock:
            self.requests, self.window_seconds = requests, window
            self._calls: dict[str, deque] = {}

    def as_dict(self) -> dict:
        return {"requests": self.requests, "window_seconds": self.window_seconds}

    def wait_seconds(self, user_id: str, now: float) -> int:
        """0 when the call may go (and is counted), else the seconds to wait."""
        with self._lock:
            if not self.requests:
                return 0
            calls = self._calls.setdefault(user_id, deque())
            while calls and calls[0] <= now - self.window_seconds:
                calls.popleft()
            if len(calls) >= self.requests:
                return max(1, math.ceil(calls[0] + self.window_seconds - now))
            calls.append(now)
            return 0


# --- times ---------------------------------------------------------------------------------------------
def parse_time(value) -> datetime:
    """A DateTimeOffset with any offset ("Z", "+05:30", up to seven fractional digits); none means UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError("not a date")
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def graph_time(moment: datetime) -> str:
    """UTC with seven fractional digits and a Z, as Graph answers."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


# --- authentication and the user -----------------------------------------------------------------------
def authenticate(sim, req: Request) -> dict | Response:
    """The access token's row joined with its user, or Graph's 401."""
    now = sim.clock.now()
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or not auth[7:].strip():
        return _unauthorized(sim, "Access token is empty.")
    row = sim.store.one(
        "SELECT t.scopes, t.expires_at, t.client_id, u.* FROM tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token = ? AND t.kind = 'access'",
        (auth[7:].strip(),),
    )
    if row is None:
        return _unauthorized(sim, "IDX14100: JWT is not well formed, there are no dots (.).")
    if row["expires_at"] <= now:
        return _unauthorized(sim, "Lifetime validation failed, the token is expired.")
    req.user_email = row["upn"]
    wait = sim.throttle.wait_seconds(row["id"], now)
    if wait:
        return graph_error(
            429, "TooManyRequests", "Too many requests from this user; retry after the time given.", now=now
        ).header("Retry-After", wait)
    return row


def _unauthorized(sim, message: str) -> Response:
    response = graph_error(401, "InvalidAuthenticationToken", message, now=sim.clock.now())
    return response.header(
        "WWW-Authenticate",
        f'Bearer realm="", authorization_uri="{sim.public_url}/common/oauth2/authorize", '
        'client_id="00000003-0000-0000-c000-000000000000"',
    )


def _has(caller: dict, any_of) -> bool:
    held = {scope.lower() for scope in caller["scopes"].split()}
    return any(scope.lower() in held for scope in any_of)


def with_caller(view, *, scopes=MEETING_SCOPES_WRITE, needs_licence: bool = True):
    """Run `view(sim, req, caller, **kwargs)` for an authenticated caller holding one of `scopes` (403 Forbidden
    otherwise, as Graph answers a missing permission) and, for meetings, a Teams licence."""

    def run(sim, req: Request, **kwargs) -> Response:
        caller = authenticate(sim, req)
        if isinstance(caller, Response):
            return caller
        if not _has(caller, scopes) or (needs_licence and not caller["licensed"]):
            # Graph tells neither apart: the same 403 for a missing permission and a missing licence.
            return graph_error(403, "Forbidden", "", now=sim.clock.now())
        return view(sim, req, caller, **kwargs)

    return run


def me(sim, req: Request) -> Response:
    caller = authenticate(sim, req)
    if isinstance(caller, Response):
        return caller
    if not _has(caller, ("User.Read",)):
        return graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            now=sim.clock.now(),
        )
    return json_response(
        200,
        {
            "@odata.context": f"{sim.public_url}/v1.0/$metadata#users/$entity",
            "businessPhones": [],
            "displayName": caller["display_name"],
            "givenName": caller["given_name"],
            "jobTitle": None,
            "mail": caller["mail"] or None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-GB",
            "surname": caller["surname"],
            "userPrincipalName": caller["upn"],
            "id": caller["id"],
        },
    )


# --- online meetings -----------------------------------------------------------------------------------
def join_url(sim, row: dict, caller_tenant: str, user_id: str) -> str:
    context = json.dumps({"Tid": caller_tenant, "Oid": user_id}, separators=(",", ":"))
    return f"{sim.public_url}/l/meetup-join/{quote(row['thread'], safe='')}/0?context={quote(context, safe='')}"


def meeting_json(sim, row: dict, owner: dict) -> dict:
    url = join_url(sim, row, owner["tenant_id"], owner["id"])
    return {
        "@odata.context": f"{sim.public_url}/v1.0/$metadata#users('{owner['id']}')/onlineMeetings/$entity",
        "id": row["id"],
        "creationDateTime": row["created_at"],
        "startDateTime": row["start"],
        "endDateTime": row["end"],
        "joinWebUrl": url,
        "subject": row["subject"],
        "externalId": row["external_id"],
        "isEntryExitAnnounced": True,
        "allowedPresenters": "everyone",
        "allowMeetingChat": "enabled",
        "videoTeleconferenceId": None,
        "chatInfo": {"threadId": row["thread"], "messageId": "0", "replyChainMessageId": None},
        "joinInformation": {
            "content": "data:text/html," + quote(f'<a href="{url}">Join the meeting now</a>'),
            "contentType": "html",
        },
        "joinMeetingIdSettings": {"isPasscodeRequired": False, "joinMeetingId": row["id"][-12:], "passcode": None},
        "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
        "participants": {
            "organizer": {
                "upn": owner["upn"],
                "role": "presenter",
                "identity": {
                    "application": None,
                    "device": None,
                    "phone": None,
                    "user": {
                        "id": owner["id"],
                        "displayName": None,
                        "tenantId": owner["tenant_id"],
                        "identityProvider": "AAD",
                    },
                },
            },
            "attendees": [],
        },
    }


def _body(sim, req: Request) -> dict | Response:
    try:
        body = req.json()
    except ValueError:
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.", now=sim.clock.now())
    if not isinstance(body, dict):
        return graph_error(400, "BadRequest", "The request body must be a JSON object.", now=sim.clock.now())
    return body


def _times(sim, body: dict) -> tuple[datetime, datetime] | Response:
    """Start and end of a create: start defaults to now, end to start plus an hour; an end alone, or one
    before the start, is refused."""
    now = datetime.fromtimestamp(sim.clock.now(), UTC)
    try:
        start = parse_time(body["startDateTime"]) if body.get("startDateTime") else None
        end = parse_time(body["endDateTime"]) if body.get("endDateTime") else None
    except ValueError:
        return graph_error(
            400, "BadRequest", "startDateTime or endDateTime is not a valid DateTimeOffset.", now=sim.clock.now()
        )
    if end is not None and start is None:
        return graph_error(400, "BadRequest", "endDateTime needs a startDateTime.", now=sim.clock.now())
    start = start or now
    end = end or start + timedelta(hours=1)
    if end < start:
        return graph_error(400, "BadRequest", "endDateTime must be after startDateTime.", now=sim.clock.now())
    return start, end


def _new_meeting(sim, caller: dict, body: dict, times, external_id) -> dict:
    start, end = times
    thread = f"19:meeting_{secrets.token_urlsafe(36).replace('-', 'x').replace('_', 'y')}@thread.v2"
    # Graph's ids are base64 of the organiser and the chat thread: they hold "+", "/" and "=".
    meeting_id = base64.b64encode(f"1*{caller['id']}*0**{thread}".encode()).decode()
    sim.store.run(
        "INSERT INTO meetings (id, user_id, external_id, subject, start, end, thread, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            meeting_id,
            caller["id"],
            external_id,
            str(body.get("subject") or ""),
            graph_time(start),
            graph_time(end),
            thread,
            graph_time(datetime.fromtimestamp(sim.clock.now(), UTC)),
        ),
    )
    return sim.store.one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))


def create(sim, req: Request, caller: dict) -> Response:
    body = _body(sim, req)
    if isinstance(body, Response):
        return body
    times = _times(sim, body)
    if isinstance(times, Response):
        return times
    return json_response(201, meeting_json(sim, _new_meeting(sim, caller, body, times, None), caller))


def create_or_get(sim, req: Request, caller: dict) -> Response:
    """201 with a new meeting, or 200 with the one this user made with the same externalId (the other
    fields of the repeated call are not applied)."""
    body = _body(sim, req)
    if isinstance(body, Response):
        return body
    external_id = body.get("externalId")
    if not isinstance(external_id, str) or not external_id:
        return graph_error(400, "BadRequest", "externalId is required.", now=sim.clock.now())
    times = _times(sim, body)
    if isinstance(times, Response):
        return times
    with sim.store.lock:
        row = sim.store.one(
            "SELECT * FROM meetings WHERE user_id = ? AND external_id = ? AND deleted = 0", (caller["id"], external_id)
        )
        if row is not None:
            return json_response(200, meeting_json(sim, row, caller))
        return json_response(201, meeting_json(sim, _new_meeting(sim, caller, body, times, external_id), caller))


def _own_meeting(sim, caller: dict, meeting_id: str) -> dict | Response:
    row = sim.store.one(
        "SELECT * FROM meetings WHERE id = ? AND user_id = ? AND deleted = 0", (unquote(meeting_id), caller["id"])
    )
    if row is None:
        return graph_error(404, "NotFound", "The requested online meeting was not found.", now=sim.clock.now())
    return row


def get(sim, req: Request, caller: dict, meeting_id: str) -> Response:
    row = _own_meeting(sim, caller, meeting_id)
    if isinstance(row, Response):
        return row
    return json_response(200, meeting_json(sim, row, caller))


def update(sim, req: Request, caller: dict, meeting_id: str) -> Response:
    """Changes in place (same id, same join URL); moving the meeting needs both times."""
    row = _own_meeting(sim, caller, meeting_id)
    if isinstance(row, Response):
        return row
    body = _body(sim, req)
    if isinstance(body, Response):
        return body
    now = sim.clock.now()
    if READ_ONLY & body.keys():
        return graph_error(
            400, "BadRequest", f"Read-only properties: {', '.join(sorted(READ_ONLY & body.keys()))}.", now=now
        )
    unknown = body.keys() - PATCHABLE
    if unknown:
        return graph_error(400, "BadRequest", f"Unknown properties: {', '.join(sorted(unknown))}.", now=now)
    changes = {}
    if "subject" in body:
        changes["subject"] = str(body["subject"] or "")
    if ("startDateTime" in body) != ("endDateTime" in body):
        return graph_error(
            400, "BadRequest", "Both startDateTime and endDateTime are required to change the time.", now=now
        )
    if "startDateTime" in body:
        try:
            start, end = parse_time(body["startDateTime"]), parse_time(body["endDateTime"])
        except ValueError:
            return graph_error(
                400, "BadRequest", "startDateTime or endDateTime is not a valid DateTimeOffset.", now=now
            )
        if end < start:
            return graph_error(400, "BadRequest", "endDateTime must be after startDateTime.", now=now)
        changes.update(start=graph_time(start), end=graph_time(end))
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        sim.store.run(f"UPDATE meetings SET {assignments} WHERE id = ?", (*changes.values(), row["id"]))
    return json_response(
        200, meeting_json(sim, sim.store.one("SELECT * FROM meetings WHERE id = ?", (row["id"],)), caller)
    )


def delete(sim, req: Request, caller: dict, meeting_id: str) -> Response:
    row = _own_meeting(sim, caller, meeting_id)
    if isinstance(row, Response):
        return row
    sim.store.run("UPDATE meetings SET deleted = 1 WHERE id = ?", (row["id"],))
    return empty_response(204)


# --- the join page -------------------------------------------------------------------------------------
def join_page(sim, req: Request, thread: str) -> Response:
    thread = unquote(thread)
    row = sim.store.one(
        "SELECT m.*, u.display_name FROM meetings m JOIN users u ON u.id = m.user_id WHERE m.thread = ?", (thread,)
    )
    if row is None or row["deleted"]:
        return page("Meeting not found", "<h1>This meeting doesn't exist or has been deleted.</h1>", status=404)
    return page(
        "Join meeting",
        f"<h1>You joined the Teams meeting</h1><p><strong>{esc(row['subject'])}</strong></p>"
        f"<p>Organiser: {esc(row['display_name'])}</p>"
        f'<p class="muted">{esc(row["start"])} to {esc(row["end"])}</p>'
        f'<p class="muted">Meeting id: <code>{esc(row["id"])}</code></p>',
    )
