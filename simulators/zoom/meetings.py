"""The REST API under /v2: who am I, and meetings (create, get, list, update, delete)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from simulators.zoom.web import Request, Response, empty_response, json_response, with_query
from simulators.zoom.webhooks import event_object

START_URL_LIFETIME = 2 * 3600
LIST_TOKEN_LIFETIME = 15 * 60
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
START_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z?)$")
PASSWORD = re.compile(r"^[A-Za-z0-9@_*\-]*$")
TIMEZONES = frozenset(available_timezones())

# (granular scope, classic scopes) each route needs; an ":admin" variant satisfies it too.
SCOPES = {
    "users.me": (["user:read:user"], ["user:read", "user_info:read"]),
    "users.list": (["user:read:list_users:admin"], ["user:read:admin"]),
    "meetings.create": (["meeting:write:meeting"], ["meeting:write"]),
    "meetings.get": (["meeting:read:meeting"], ["meeting:read"]),
    "meetings.list": (["meeting:read:list_meetings"], ["meeting:read"]),
    "meetings.update": (["meeting:update:meeting"], ["meeting:write"]),
    "meetings.delete": (["meeting:delete:meeting"], ["meeting:write"]),
    "registrants.create": (["meeting:write:registrant"], ["meeting:write"]),
    "registrants.batch": (["meeting:write:batch_registrants"], ["meeting:write"]),
    "registrants.list": (["meeting:read:list_registrants"], ["meeting:read"]),
    "registrants.status": (["meeting:update:registrant_status"], ["meeting:write"]),
    "past_participants.list": (["meeting:read:list_past_participants"], ["meeting:read"]),
    "recordings.get": (["cloud_recording:read:list_recording_files"], ["recording:read"]),
}
# Routes about the account's users: only an admin scope opens them.
ADMIN_ONLY = ("users.list",)
# The rate-limit label of each route, from the OpenAPI spec (registrants: Light, Heavy, Medium, Medium).
CATEGORY = {
    "users.me": "Light",
    "users.list": "Medium",
    "meetings.create": "Medium",
    "meetings.get": "Light",
    "meetings.list": "Medium",
    "meetings.update": "Light",
    "meetings.delete": "Light",
    "registrants.create": "Light",
    "registrants.batch": "Heavy",
    "registrants.list": "Medium",
    "registrants.status": "Medium",
    "past_participants.list": "Medium",
    "recordings.get": "Light",
}
COUNTS_DAILY = ("meetings.create", "meetings.update")

DEFAULT_SETTINGS = {
    "host_video": False,
    "participant_video": False,
    "cn_meeting": False,
    "in_meeting": False,
    "join_before_host": False,
    "jbh_time": 0,
    "mute_upon_entry": False,
    "watermark": False,
    "use_pmi": False,
    "approval_type": 2,
    "audio": "both",
    "auto_recording": "none",
    "enforce_login": False,
    "enforce_login_domains": "",
    "alternative_hosts": "",
    "alternative_hosts_email_notification": True,
    "close_registration": False,
    "show_share_button": False,
    "allow_multiple_devices": False,
    "registrants_confirmation_email": True,
    "waiting_room": False,
    "request_permission_to_unmute_participants": False,
    "registrants_email_notification": True,
    "meeting_authentication": False,
    "encryption_type": "enhanced_encryption",
    "approved_or_denied_countries_or_regions": {"enable": False},
    "breakout_room": {"enable": False},
    "alternative_hosts_email_notification_enabled": True,
    "device_testing": False,
    "focus_mode": False,
    "private_meeting": False,
    "email_notification": True,
    "host_save_video_order": False,
    "participant_focused_meeting": False,
    "push_change_to_calendar": False,
    "email_in_attendee_report": False,
}
SETTING_CHOICES = {
    "jbh_time": (0, 5, 10),
    "approval_type": (0, 1, 2),
    "auto_recording": ("local", "cloud", "none"),
    "audio": ("both", "telephony", "voip", "thirdParty"),
    "registration_type": (1, 2, 3),
}
BOOLEAN_SETTINGS = (
    "host_video",
    "participant_video",
    "join_before_host",
    "mute_upon_entry",
    "waiting_room",
    "watermark",
    "use_pmi",
    "enforce_login",
    "close_registration",
    "show_share_button",
    "allow_multiple_devices",
    "meeting_authentication",
    "focus_mode",
    "private_meeting",
    "email_notification",
    "alternative_hosts_email_notification",
    "registrants_confirmation_email",
    "registrants_email_notification",
)


def error(status: int, code: int, message: str, errors: list | None = None) -> Response:
    payload = {"code": code, "message": message}
    if errors:
        payload["errors"] = errors
    return json_response(status, payload)


def validation_failed(errors: list[dict]) -> Response:
    return error(400, 300, "Validation Failed.", errors)


def paging(sim, req: Request) -> tuple[int, int] | Response:
    """A list's (page_size, offset): page_size 1 to 300 (30 by default), the offset a next_page_token stands for.

    A Response when either is refused.
    """
    try:
        page_size = min(max(int(req.query.get("page_size", "30")), 1), 300)
    except ValueError:
        return validation_failed([{"field": "page_size", "message": "Invalid field."}])
    offset = 0
    if req.query.get("next_page_token"):
        offset = sim.page_tokens.get(req.query["next_page_token"], sim.clock.now())
        if offset is None:
            return error(400, 300, "The next page token is invalid or expired.")
    return page_size, offset


def page_of(sim, rows: list, *, page_size: int, offset: int) -> tuple[list, str]:
    """The rows of the page and the token for the next one ("" on the last page)."""
    next_token = ""
    if offset + page_size < len(rows):
        next_token = sim.page_tokens.put(offset + page_size, sim.clock.now() + LIST_TOKEN_LIFETIME)
    return rows[offset : offset + page_size], next_token


def iso(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime(UTC_FORMAT)


# --- authentication, scopes and limits, run before every REST handler ---------


def authenticate(sim, req: Request):
    """The (token row, user, app) behind the bearer token, or an error response.

    `user` is None for a Server-to-Server app's token, which acts for its whole account.
    """
    header = req.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return error(401, 124, "Invalid access token.")
    row = sim.store.one("SELECT * FROM tokens WHERE token = ? AND kind = 'access'", (header[7:].strip(),))
    if not row or row["revoked"]:
        return error(401, 124, "Invalid access token.")
    if row["expires_at"] <= sim.clock.now():
        return error(401, 124, "Access token is expired.")
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (row["client_id"],))
    if not app:
        return error(401, 124, "Invalid access token.")
    if row["account_id"] and not row["user_id"]:
        return row, None, app
    user = sim.store.one("SELECT * FROM users WHERE id = ?", (row["user_id"],))
    if not user:
        return error(401, 124, "Invalid access token.")
    return row, user, app


def account_user(sim, account_id: str, ref: str) -> dict | None:
    """A user of the account named by id or email (as `/users/{userId}` takes either), or None."""
    return sim.store.one(
        "SELECT * FROM users WHERE account_id = ? AND (id = ? OR lower(email) = lower(?))", (account_id, ref, ref)
    )


def _meeting_host(sim, kwargs: dict) -> dict | None:
    """The host of the meeting a meeting route names (an id, or an occurrence's uuid), if it exists."""
    from simulators.zoom.participants import decode_meeting_ref

    ref = kwargs.get("meeting_id") or decode_meeting_ref(kwargs.get("meeting_ref") or "") or ""
    meeting = None
    if ref.isdigit() and len(ref) <= 18:
        meeting = sim.store.one("SELECT host_id FROM meetings WHERE id = ?", (int(ref),))
    elif ref:
        meeting = sim.store.one(
            "SELECT meetings.host_id FROM occurrences JOIN meetings ON meetings.id = occurrences.meeting_id"
            " WHERE occurrences.uuid = ?",
            (ref,),
        )
    return sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],)) if meeting else None


def acting_user(sim, req: Request, app: dict, account_id: str, kwargs: dict):
    """Whom an account token acts as on this route: the user the path names, else the meeting's host, else
    the app's creator (a route about the account as a whole). An error response for a user outside the account."""
    ref = kwargs.get("user_ref")
    if ref is not None:
        user = account_user(sim, account_id, app["creator_id"] if ref == "me" else ref)
        if user:
            return user
        if req.route == "users.me":
            return error(404, 1001, f"User does not exist: {ref}.")
        return error(404, 1001, f"User {ref} not exist or not belong to this account.")
    host = _meeting_host(sim, kwargs)
    if host and host["account_id"] == account_id:
        return host
    return sim.store.one("SELECT * FROM users WHERE id = ?", (app["creator_id"],)) or error(
        401, 124, "Invalid access token."
    )


def missing_scopes(app: dict, granted: str, route: str, *, admin: bool = False) -> list[str]:
    """The scopes to name in a 4711 error, or [] when the token may call the route.

    A user's token may use the user-level scope or its ":admin" variant; an account token (admin=True)
    needs the ":admin" one, as may a route about other users (ADMIN_ONLY).
    """
    granular, classic = SCOPES[route]
    needed = granular if app["scope_model"] == "granular" else classic
    have = set(granted.split())
    if admin or route in ADMIN_ONLY:
        needed = [scope if scope.endswith(":admin") else f"{scope}:admin" for scope in needed]
        if any(scope in have for scope in needed):
            return []
        return needed[:1]
    if any(scope in have or f"{scope}:admin" in have for scope in needed):
        return []
    return [name for scope in needed[:1] for name in (scope, f"{scope}:admin")]


def rate_headers(response: Response, category: str, limit: int, remaining: int) -> Response:
    if response.get_header("X-RateLimit-Category") is None:
        response.header("X-RateLimit-Category", category)
    if response.status != 429:
        response.header("X-RateLimit-Type", "QPS").header("X-RateLimit-Limit", limit).header(
            "X-RateLimit-Remaining", remaining
        )
    return response


def handle(sim, req: Request, handler, **kwargs) -> Response:
    """Authenticate, check scopes and account, apply the limits, then run the handler."""
    category = CATEGORY[req.route]
    auth = authenticate(sim, req)
    if isinstance(auth, Response):
        limit = sim.limits.qps_limit("pro", category)
        return rate_headers(auth, category, limit, limit)
    token, user, app = auth
    account_id = user["account_id"] if user else token["account_id"]
    account = sim.store.one("SELECT * FROM accounts WHERE id = ?", (account_id,))
    plan = account["plan"] if account else "pro"
    allowed, limit, remaining, reset = sim.limits.take_second(account_id, plan, category)
    if not allowed:
        return rate_headers(sim.limits.qps_exceeded(limit, reset), category, limit, 0)
    if user is None:
        response = _checked_account(sim, req, handler, token, app, account_id, kwargs)
    else:
        req.user_email = user["email"]
        response = _checked(sim, req, handler, token, user, app, kwargs)
    return rate_headers(response, category, limit, remaining)


def _checked_account(sim, req, handler, token, app, account_id, kwargs) -> Response:
    """An account token (Server-to-Server app): any user of its account, with its admin scopes."""
    missing = missing_scopes(app, token["scopes"], req.route, admin=True)
    if missing:
        return error(400, 4711, f"Invalid access token, does not contain scopes:[{', '.join(missing)}].")
    if req.route == "users.list":
        return handler(sim, req, account_id=account_id, app=app)
    user = acting_user(sim, req, app, account_id, kwargs)
    if isinstance(user, Response):
        return user
    req.user_email = user["email"]
    if req.route == "users.list":
        return handler(sim, req, account_id=user["account_id"], app=app)
    if req.route != "users.me" and not user["can_host"]:
        return error(400, 3161, "Meeting hosting and scheduling capabilities are not allowed for your user account.")
    return handler(sim, req, user=user, app=app, **{k: v for k, v in kwargs.items() if k != "user_ref"})


def _checked(sim, req, handler, token, user, app, kwargs) -> Response:
    """A user's token (General App): that user alone; `user_ref` other than them is refused as Zoom does."""
    if not app["published"] and user["account_id"] != app["account_id"]:
        # A private app used by another account's user (e.g. the app was unpublished after consent).
        if req.route in ("users.me", "meetings.create", "meetings.list"):
            return error(404, 1001, f"User {kwargs.get('user_ref', 'me')} not exist or not belong to this account.")
        return error(400, 1010, f"User does not belong to this account: {user['account_id']}.")
    missing = missing_scopes(app, token["scopes"], req.route)
    if missing:
        return error(400, 4711, f"Invalid access token, does not contain scopes:[{', '.join(missing)}].")
    if "user_ref" in kwargs and kwargs["user_ref"] not in ("me", user["id"], user["email"]):
        return error(404, 1001, f"User {kwargs['user_ref']} not exist or not belong to this account.")
    if req.route == "users.list":
        return handler(sim, req, account_id=user["account_id"], app=app)
    if req.route != "users.me" and not user["can_host"]:
        return error(400, 3161, "Meeting hosting and scheduling capabilities are not allowed for your user account.")
    return handler(sim, req, user=user, app=app, **{k: v for k, v in kwargs.items() if k != "user_ref"})


# --- handlers -------------------------------------------------------------------


def user_object(sim, user: dict) -> dict:
    """A user as `GET /users/{userId}` answers (the OpenAPI spec's fields)."""
    return {
        "id": user["id"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "display_name": f"{user['first_name']} {user['last_name']}",
        "email": user["email"],
        "type": user["type"],
        "role_name": "Owner" if user["type"] == 2 else "Member",
        "pmi": user["pmi"],
        "use_pmi": False,
        "personal_meeting_url": f"{sim.public_url}/j/{user['pmi']}",
        "timezone": user["timezone"],
        "verified": 1,
        "dept": "",
        "created_at": user["created_at"],
        "last_login_time": iso(sim.clock.now()),
        "pic_url": "",
        "language": "en-US",
        "phone_number": "",
        "status": user["status"],
        "role_id": "0",
        "account_id": user["account_id"],
        "account_number": int(sum(map(ord, user["account_id"]))),
        "cluster": "us06",
        "user_created_at": user["created_at"],
        "login_types": [100],
    }


def users_me(sim, req: Request, *, user: dict, app: dict) -> Response:
    return json_response(200, user_object(sim, user))


# The fields of each user in `GET /users` (OpenAPI: "List users").
LISTED_USER_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "display_name",
    "email",
    "type",
    "pmi",
    "timezone",
    "verified",
    "dept",
    "created_at",
    "last_login_time",
    "language",
    "phone_number",
    "status",
    "role_id",
    "user_created_at",
)
USER_STATUSES = ("active", "inactive", "pending")


def list_users(sim, req: Request, *, account_id: str, app: dict) -> Response:
    """GET /users?status=active&page_size=..: the account's users (paged with next_page_token)."""
    status = req.query.get("status", "active")
    if status not in USER_STATUSES:
        return validation_failed([{"field": "status", "message": f"Invalid field: {status}."}])
    paged = paging(sim, req)
    if isinstance(paged, Response):
        return paged
    page_size, offset = paged
    rows = sim.store.all(
        "SELECT * FROM users WHERE account_id = ? AND status = ? ORDER BY created_at, email", (account_id, status)
    )
    page, next_token = page_of(sim, rows, page_size=page_size, offset=offset)
    users = []
    for row in page:
        listed = {key: value for key, value in user_object(sim, row).items() if key in LISTED_USER_FIELDS}
        if status == "pending":
            listed.pop("id")  # the spec: no id for a pending user
        users.append(listed)
    return json_response(
        200,
        {
            "page_count": max(1, -(-len(rows) // page_size)),
            "page_number": offset // page_size + 1,
            "page_size": page_size,
            "total_records": len(rows),
            "next_page_token": next_token,
            "users": users,
        },
    )


def _parse_start(value, tz_name: str) -> tuple[datetime | None, str]:
    if not isinstance(value, str):
        return None, "start_time must be a string."
    match = START_TIME.match(value)
    if not match:
        return None, "Invalid start_time format: use yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss with a timezone."
    year, month, day, hour, minute, second, zulu = match.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        if zulu:
            return naive.replace(tzinfo=UTC), ""
        # Local wall-clock time in the meeting's zone; DST is resolved by zoneinfo (fold=0 for repeated hours).
        return naive.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC), ""
    except (ValueError, OverflowError):
        return None, "Invalid start_time: not a real date and time."


def validate(body, *, current: dict | None, user: dict) -> tuple[dict, list[dict]]:
    """Check a create (current=None) or partial update body; return the changed columns and the errors."""
    if not isinstance(body, dict):
        return {}, [{"field": "body", "message": "Request Body should be a valid JSON object."}]
    errors: list[dict] = []
    changes: dict = {}

    def bad(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    if "topic" in body:
        if not isinstance(body["topic"], str):
            bad("topic", "Topic must be a string.")
        elif len(body["topic"]) > 200:
            bad("topic", "Topic can not be longer than 200 characters.")
        else:
            changes["topic"] = body["topic"]
    if "agenda" in body:
        if not isinstance(body["agenda"], str):
            bad("agenda", "Agenda must be a string.")
        elif len(body["agenda"]) > 2000:
            bad("agenda", "Agenda can not be longer than 2000 characters.")
        else:
            changes["agenda"] = body["agenda"]
    if "type" in body:
        if not isinstance(body["type"], int) or isinstance(body["type"], bool) or body["type"] not in (1, 2, 3, 8):
            bad("type", "Invalid meeting type: one of 1, 2, 3, 8.")
        else:
            changes["type"] = body["type"]
    if "duration" in body:
        duration = body["duration"]
        if isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration <= 2**31 - 1:
            bad("duration", "Duration must be a whole number of minutes.")
        else:
            changes["duration"] = duration
    if "password" in body:
        password = body["password"]
        if not isinstance(password, str) or len(password) > 10:
            bad("password", "Password can only have a maximum length of 10 characters.")
        elif not PASSWORD.match(password):
            bad("password", "Password can only contain the following characters: [a-z A-Z 0-9 @ - _ *].")
        else:
            changes["password"] = password
    tz_name = current["timezone"] if current else user["timezone"]
    if "timezone" in body:
        if not isinstance(body["timezone"], str) or body["timezone"] not in TIMEZONES:
            bad("timezone", f"Invalid timezone: {body['timezone']}.")
        else:
            tz_name = changes["timezone"] = body["timezone"]
    if "start_time" in body and not any(e["field"] == "timezone" for e in errors):
        start, message = _parse_start(body["start_time"], tz_name)
        if message:
            bad("start_time", message)
        else:
            changes["start_time"] = start.strftime(UTC_FORMAT)
    if "settings" in body:
        settings, setting_errors = _validate_settings(body["settings"], current)
        errors.extend(setting_errors)
        changes["settings"] = settings
    return changes, errors


def _validate_settings(value, current: dict | None) -> tuple[str, list[dict]]:
    settings = json.loads(current["settings"]) if current else dict(DEFAULT_SETTINGS)
    if not isinstance(value, dict):
        return json.dumps(settings), [{"field": "settings", "message": "Settings must be an object."}]
    errors = []
    for key, choices in SETTING_CHOICES.items():
        if key in value and (value[key] not in choices or isinstance(value[key], bool)):
            errors.append({"field": f"settings.{key}", "message": f"Invalid field: one of {list(choices)}."})
    for key in BOOLEAN_SETTINGS:
        if key in value and not isinstance(value[key], bool):
            errors.append({"field": f"settings.{key}", "message": "Invalid field: must be true or false."})
    if "alternative_hosts" in value and not isinstance(value["alternative_hosts"], str):
        errors.append({"field": "settings.alternative_hosts", "message": "Invalid field: must be a string."})
    for ref in alternative_host_refs(value):
        # Emails or user ids (the spec); whether each may be one is asked of the account (alternative_hosts_refusal).
        if "@" in ref and not re.match(r"^[^@\s;]+@[^@\s;]+\.[^@\s;]+$", ref):
            errors.append({"field": "settings.alternative_hosts", "message": f"Invalid email: {ref}."})
    settings.update(value)
    if settings.get("waiting_room"):
        # Zoom: the waiting room turns join-before-host off.
        settings["join_before_host"] = False
    return json.dumps(settings), errors


def alternative_host_refs(settings) -> list[str]:
    """The emails or ids a settings object names as alternative hosts (semicolon-separated; blanks skipped)."""
    value = settings.get("alternative_hosts") if isinstance(settings, dict) else None
    return [part.strip() for part in value.split(";") if part.strip()] if isinstance(value, str) else []


# Zoom's OpenAPI spec describes settings.alternative_hosts but lists no error for it; these are the codes Zoom
# answers (and integrations handle): 1114 for someone who cannot be one, 1115 for a user without a licence.
ALTERNATIVE_HOST_INVALID = 1114
ALTERNATIVE_HOST_UNLICENSED = 1115


def alternative_hosts_refusal(sim, body: dict, host: dict) -> Response | None:
    """Zoom's refusal of a create or PATCH naming an alternative host who is not an active user of the host's
    account (400/1114) or is not licensed (Basic: 400/1115; Licensed and On-prem users may be one); None when
    every one may be. Nothing of the request is applied then."""
    for ref in alternative_host_refs(body.get("settings")):
        user = account_user(sim, host["account_id"], ref)
        if not user or user["status"] != "active":
            return error(
                400,
                ALTERNATIVE_HOST_INVALID,
                f"Unable to assign '{ref}' as an alternative host: the user does not exist or does not belong to "
                "this account.",
            )
        if user["type"] not in (2, 3):
            return error(
                400,
                ALTERNATIVE_HOST_UNLICENSED,
                f"Unable to assign '{ref}' as an alternative host: alternative hosts must be Licensed or On-prem "
                "users of the same account.",
            )
    return None


def _new_meeting_id(sim) -> int:
    while True:
        meeting_id = secrets.randbelow(99_999_999_999 - 81_000_000_000) + 81_000_000_000
        if not sim.store.one("SELECT 1 FROM meetings WHERE id = ?", (meeting_id,)):
            return meeting_id


def meeting_object(sim, meeting: dict, host: dict, *, with_start_url: bool = True) -> dict:
    obj = {
        "uuid": meeting["uuid"],
        "id": meeting["id"],
        "host_id": meeting["host_id"],
        "host_email": host["email"],
        "assistant_id": "",
        "topic": meeting["topic"],
        "type": meeting["type"],
        "status": "started" if meeting["phase"] == "started" else "waiting",
        "start_time": meeting["start_time"],
        "duration": meeting["duration"],
        "timezone": meeting["timezone"],
        "agenda": meeting["agenda"],
        "created_at": meeting["created_at"],
        "join_url": with_query(f"{sim.public_url}/j/{meeting['id']}", {"pwd": meeting["encrypted_password"]}),
        "password": meeting["password"],
        "h323_password": meeting["password"],
        "pstn_password": meeting["password"],
        "encrypted_password": meeting["encrypted_password"],
        "pre_schedule": False,
        "settings": json.loads(meeting["settings"]),
    }
    if obj["settings"].get("approval_type") in (0, 1):
        obj["registration_url"] = f"{sim.public_url}/meeting/register/{registration_token(meeting)}"
    if with_start_url:
        obj["start_url"] = start_url(sim, meeting, host)
    return obj


def registration_token(meeting: dict) -> str:
    """The token in a meeting's registration_url: derived, so it needs no column and survives a restart."""
    digest = hashlib.sha256(f"register:{meeting['id']}:{meeting['encrypted_password']}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def start_url(sim, meeting: dict, host: dict) -> str:
    zak = secrets.token_urlsafe(32)
    sim.store.run(
        "INSERT INTO zaks (token, meeting_id, user_id, expires_at) VALUES (?, ?, ?, ?)",
        (zak, meeting["id"], host["id"], sim.clock.now() + START_URL_LIFETIME),
    )
    return with_query(f"{sim.public_url}/s/{meeting['id']}", {"zak": zak})


def _body(req: Request):
    try:
        return req.json()
    except ValueError:
        return None


def create(sim, req: Request, *, user: dict, app: dict) -> Response:
    if not sim.limits.take_daily(user["id"]):
        return sim.limits.daily_exceeded()
    body = _body(req)
    if not isinstance(body, dict):
        return error(400, 300, "Request Body should be a valid JSON object.")
    changes, errors = validate(body, current=None, user=user)
    if errors:
        return validation_failed(errors)
    refusal = alternative_hosts_refusal(sim, body, user)
    if refusal is not None:
        return refusal
    now = sim.clock.now()
    meeting = {
        "id": _new_meeting_id(sim),
        "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
        "host_id": user["id"],
        "client_id": app["client_id"],
        "topic": changes.get("topic", "Zoom meeting"),
        "type": changes.get("type", 2),
        "start_time": changes.get("start_time", iso(now)),
        "duration": changes.get("duration", 60),
        "timezone": changes.get("timezone", user["timezone"]),
        "agenda": changes.get("agenda", ""),
        "password": changes.get("password", ""),
        "encrypted_password": secrets.token_urlsafe(24),
        "settings": changes.get("settings", json.dumps(DEFAULT_SETTINGS)),
        "created_at": iso(now),
        "phase": "waiting",
    }
    columns = ", ".join(meeting)
    sim.store.run(f"INSERT INTO meetings ({columns}) VALUES ({', '.join('?' * len(meeting))})", tuple(meeting.values()))
    sim.webhooks.meeting_event_later(meeting, user, "meeting.created")
    return json_response(201, meeting_object(sim, meeting, user))


def find_meeting(sim, meeting_id: str, user: dict, action: str):
    """The meeting the user may act on, or the error Zoom gives."""
    messages = {
        "get": "Meeting {id} is not found or has expired.",
        "update": "A meeting with this {id} is not found or has expired.",
        "delete": "Meeting with this {id} is not found or has expired.",
        "registrants": "Meeting {id} is not found or has expired.",
        "batch_registrants": "Meeting does not exist: {id}.",
    }
    meeting = None
    if meeting_id.isdigit() and len(meeting_id) <= 18:
        meeting = sim.store.one("SELECT * FROM meetings WHERE id = ? AND deleted = 0", (int(meeting_id),))
    if not meeting:
        return error(404, 3001, messages[action].format(id=meeting_id))
    if meeting["host_id"] != user["id"]:
        host = sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))
        if not host or host["account_id"] != user["account_id"]:
            return error(404, 3001, messages[action].format(id=meeting_id))
        if action == "get":
            return error(400, 3000, "Cannot access meeting information.")
        return error(400, 3003, "You are not the meeting host.")
    return meeting


def get(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    meeting = find_meeting(sim, meeting_id, user, "get")
    if isinstance(meeting, Response):
        return meeting
    return json_response(200, meeting_object(sim, meeting, user))


def update(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    with sim.store.lock:
        meeting = find_meeting(sim, meeting_id, user, "update")
        if isinstance(meeting, Response):
            return meeting
        if not sim.limits.take_daily(user["id"]):
            return sim.limits.daily_exceeded()
        if meeting["phase"] == "started":
            return error(400, 3000, "You cannot update or delete meetings that have started using this method.")
        body = _body(req)
        if not isinstance(body, dict):
            return error(400, 300, "Request Body should be a valid JSON object.")
        changes, errors = validate(body, current=meeting, user=user)
        if errors:
            return validation_failed(errors)
        refusal = alternative_hosts_refusal(sim, body, user)
        if refusal is not None:
            return refusal
        apply_changes(sim, meeting["id"], changes)
        updated = sim.store.one("SELECT * FROM meetings WHERE id = ?", (meeting["id"],))
    sim.webhooks.meeting_event_later(updated, user, "meeting.updated", {"old_object": event_object(meeting)})
    return empty_response(204)


def apply_changes(sim, meeting_id: int, changes: dict) -> None:
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        sim.store.run(f"UPDATE meetings SET {assignments} WHERE id = ?", (*changes.values(), meeting_id))


def delete(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    with sim.store.lock:
        meeting = find_meeting(sim, meeting_id, user, "delete")
        if isinstance(meeting, Response):
            return meeting
        if sim.limits.daily_counts_deletes and not sim.limits.take_daily(user["id"]):
            return sim.limits.daily_exceeded()
        if meeting["phase"] == "started":
            return error(400, 3002, "Sorry, you cannot delete this meeting since it is in progress.")
        if meeting["phase"] == "ended":
            return error(400, 3007, "Sorry, you cannot delete this meeting since it has ended.")
        sim.store.run(
            "UPDATE meetings SET deleted = 1, deleted_at = ? WHERE id = ?", (iso(sim.clock.now()), meeting["id"])
        )
    sim.webhooks.meeting_event_later(meeting, user, "meeting.deleted")
    return empty_response(204)


def list_meetings(sim, req: Request, *, user: dict, app: dict) -> Response:
    kind = req.query.get("type", "scheduled")
    if kind not in ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"):
        return validation_failed([{"field": "type", "message": f"Invalid field: {kind}."}])
    paged = paging(sim, req)
    if isinstance(paged, Response):
        return paged
    page_size, offset = paged
    now = sim.clock.now()
    rows = sim.store.all(
        "SELECT * FROM meetings WHERE host_id = ? AND deleted = 0 ORDER BY start_time, id", (user["id"],)
    )
    rows = [row for row in rows if _listed(row, kind, now)]
    page, next_token = page_of(sim, rows, page_size=page_size, offset=offset)
    meetings = []
    for row in page:
        obj = meeting_object(sim, row, user, with_start_url=False)
        meetings.append(
            {
                key: obj[key]
                for key in (
                    "uuid",
                    "id",
                    "host_id",
                    "topic",
                    "type",
                    "start_time",
                    "duration",
                    "timezone",
                    "created_at",
                    "join_url",
                )
            }
            | {"agenda": row["agenda"][:250]}
        )
    return json_response(
        200, {"page_size": page_size, "total_records": len(rows), "next_page_token": next_token, "meetings": meetings}
    )


def _listed(row: dict, kind: str, now: float) -> bool:
    start = datetime.strptime(row["start_time"], UTC_FORMAT).replace(tzinfo=UTC).timestamp()
    end = start + row["duration"] * 60
    if kind == "live":
        return row["phase"] == "started"
    if kind in ("upcoming", "upcoming_meetings"):
        return end >= now and row["phase"] != "ended"
    if kind == "previous_meetings":
        return end < now or row["phase"] == "ended"
    return True


class PageTokens:
    """Opaque next_page_token values, kept 15 minutes on the simulator clock."""

    def __init__(self):
        self._tokens: dict[str, tuple[int, float]] = {}

    def put(self, offset: int, expires_at: float) -> str:
        if len(self._tokens) > 10000:
            self._tokens.clear()
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (offset, expires_at)
        return token

    def get(self, token: str, now: float) -> int | None:
        entry = self._tokens.get(token)
        if not entry or entry[1] <= now:
            return None
        return entry[0]
