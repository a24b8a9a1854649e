"""A small stateful stand-in for the Microsoft identity platform's token endpoint and Graph's online meetings,
on top of `responses`, for the provider contract and the provider's own tests.

It answers with the shapes of docs/teams-protocol.md: createOrGet gives 201 for a new external id and 200 with
the same meeting for one it knows (per user); GET/PATCH answer the onlineMeeting with times in UTC and seven
fractional digits, as Graph does; a PATCH that moves only one of the two times is refused (Graph wants both);
DELETE 204; a missing meeting is 404 NotFound; an access token it did not issue is 401
InvalidAuthenticationToken. Failures can be scripted for the next call of an operation.
"""

import itertools
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote

import requests

from virtualmeeting_teams.tests.conftest import GRAPH, TOKEN_URL, USER_ID, me_json

MEETINGS_RE = re.compile(rf"^{re.escape(GRAPH)}/me/onlineMeetings/(?!createOrGet$)([^/?]+)$")
CREATE_OR_GET = f"{GRAPH}/me/onlineMeetings/createOrGet"
# What a PATCH body's properties are, in the contract's words (sent_update_fields). Graph keeps no zone: the
# start's offset is how the zone reaches it.
FIELD_NAMES = {"subject": {"topic"}, "startDateTime": {"start", "timezone"}, "endDateTime": {"duration"}}


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _json(status, body=None, headers=None):
    return (status, headers or {}, "" if body is None else json.dumps(body))


def _error(status, code, message=""):
    return _json(status, {"error": {"code": code, "message": message, "innerError": {"request-id": "r-1"}}})


class FakeGraph:
    def __init__(self, mocked, *, access_token="ms-access-1"):
        self.meetings: dict[str, dict] = {}
        self.ids = itertools.count(1)
        self.by_external: dict[tuple[str, str], str] = {}  # (user, externalId) -> meeting id
        self.valid_tokens = {access_token}
        self.refresh_tokens = {"ms-refresh-1"}
        self.issued = itertools.count(2)
        self.revoked = False
        self.failures: dict[str, str] = {}
        self.last_update_fields: set[str] = set()
        self.patch_bodies: list[dict] = []
        self.create_bodies: list[dict] = []
        self.meeting_gets = 0
        self.calls: list[tuple[str, str]] = []  # (method, what) of every meeting call, in order
        mocked.add_callback("POST", TOKEN_URL, callback=self._token)
        mocked.add_callback("GET", f"{GRAPH}/me", callback=self._me)
        mocked.add_callback("POST", CREATE_OR_GET, callback=self._create_or_get)
        mocked.add_callback("GET", MEETINGS_RE, callback=self._get)
        mocked.add_callback("PATCH", MEETINGS_RE, callback=self._update)
        mocked.add_callback("DELETE", MEETINGS_RE, callback=self._delete)

    # --- scripting -------------------------------------------------------------------
    def fail_next(self, operation: str, kind: str) -> None:
        self.failures[operation] = kind

    def lose_next_answer(self, operation: str) -> None:
        """The next `operation` call is applied, but its answer never arrives (a read timeout)."""
        self.failures[operation] = "lost"

    def _failure(self, operation: str):
        kind = self.failures.get(operation)
        if kind is None or kind == "lost":
            return None
        del self.failures[operation]
        if kind == "transient":
            return (503, {}, "<html>Service Unavailable</html>")  # no Retry-After: back off
        if kind == "rate_limited":
            return _json(
                429, {"error": {"code": "TooManyRequests", "message": "Too many requests."}}, {"Retry-After": "7"}
            )
        if kind == "auth_revoked":
            self.revoked = True
            self.valid_tokens.clear()
            return _error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        if kind == "permanent":
            return _error(400, "BadRequest", "Invalid meeting request.")
        if kind == "not_found":
            return _error(404, "NotFound", "The meeting was not found.")
        raise AssertionError(f"unknown failure kind {kind!r}")

    def _authorized(self, request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[len("Bearer ") :] in self.valid_tokens

    # --- identity platform -------------------------------------------------------------
    def _token(self, request):
        form = {key: values[0] for key, values in parse_qs(request.body or "").items()}
        if self.revoked or form.get("refresh_token") not in self.refresh_tokens:
            body = {
                "error": "invalid_grant",
                "error_description": "AADSTS50173: The provided grant has expired due to it being revoked.",
                "error_codes": [50173],
            }
            return _json(400, body)
        number = next(self.issued)
        access, refresh = f"ms-access-{number}", f"ms-refresh-{number}"
        self.valid_tokens.add(access)
        self.refresh_tokens = {refresh}
        body = {"token_type": "Bearer", "expires_in": 3599, "scope": form.get("scope", ""),
                "access_token": access, "refresh_token": refresh}  # fmt: skip
        return _json(200, body)

    def _me(self, request):
        if not self._authorized(request):
            return _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        return _json(200, me_json())

    # --- online meetings -----------------------------------------------------------------
    def _object(self, meeting_id: str) -> dict:
        stored = self.meetings[meeting_id]
        return {
            "@odata.context": f"{GRAPH}/$metadata#users('{USER_ID}')/onlineMeetings/$entity",
            "id": meeting_id,
            "creationDateTime": stored["created"],
            "startDateTime": graph_time(stored["start"]),
            "endDateTime": graph_time(stored["end"]),
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{stored['thread']}%40thread.v2/0",
            "subject": stored["subject"],
            "externalId": stored["externalId"],
            "participants": {
                "organizer": {"upn": "tess@contoso.onmicrosoft.com", "identity": {"user": {"id": USER_ID}}}
            },
        }

    def _meeting_id(self, request) -> str:
        return unquote(MEETINGS_RE.match(request.url).group(1))

    def _create_or_get(self, request):
        failure = self._failure("create")
        if failure:
            return failure
        if not self._authorized(request):
            return _error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        body = json.loads(request.body)
        self.create_bodies.append(body)
        self.calls.append(("POST", "createOrGet"))
        if not body.get("externalId"):
            return _error(400, "BadRequest", "externalId is required.")
        key = (USER_ID, body["externalId"])
        if key in self.by_external and self.by_external[key] in self.meetings:
            return _json(200, self._object(self.by_external[key]))
        meeting_id = f"MSo{USER_ID}_19:meeting_{next(self.ids):06d}@thread.v2"
        self.meetings[meeting_id] = {
            "subject": body.get("subject", ""),
            "start": datetime.fromisoformat(body["startDateTime"]),
            "end": datetime.fromisoformat(body["endDateTime"]),
            "externalId": body["externalId"],
            "created": graph_time(datetime.now(UTC)),
            "thread": f"T{len(self.meetings):04d}",
        }
        self.by_external[key] = meeting_id
        if self.failures.pop("create", None) == "lost":
            raise requests.ReadTimeout("the answer to the create was lost")
        return _json(201, self._object(meeting_id))

    def _get(self, request):
        failure = self._failure("get")
        if failure:
            return failure
        if not self._authorized(request):
            return _error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        self.meeting_gets += 1
        self.calls.append(("GET", "meeting"))
        meeting_id = self._meeting_id(request)
        if meeting_id not in self.meetings:
            return _error(404, "NotFound", "The meeting was not found.")
        return _json(200, self._object(meeting_id))

    def _update(self, request):
        failure = self._failure("update")
        if failure:
            return failure
        if not self._authorized(request):
            return _error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        self.calls.append(("PATCH", "meeting"))
        meeting_id = self._meeting_id(request)
        if meeting_id not in self.meetings:
            return _error(404, "NotFound", "The meeting was not found.")
        body = json.loads(request.body)
        if ("startDateTime" in body) != ("endDateTime" in body):
            return _error(400, "BadRequest", "Both startDateTime and endDateTime are required.")
        self.patch_bodies.append(body)
        self.last_update_fields = set().union(*(FIELD_NAMES.get(key, {key}) for key in body))
        stored = self.meetings[meeting_id]
        if "subject" in body:
            stored["subject"] = body["subject"]
        if "startDateTime" in body:
            stored["start"] = datetime.fromisoformat(body["startDateTime"])
            stored["end"] = datetime.fromisoformat(body["endDateTime"])
        return _json(200, self._object(meeting_id))

    def _delete(self, request):
        failure = self._failure("delete")
        if failure:
            return failure
        if not self._authorized(request):
            return _error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        self.calls.append(("DELETE", "meeting"))
        meeting_id = self._meeting_id(request)
        if meeting_id not in self.meetings:
            return _error(404, "NotFound", "The meeting was not found.")
        del self.meetings[meeting_id]
        return (204, {}, "")
