"""The admin JSON API under /_sim/: the clock, state, limits, faults, manual edits "in Zoom", webhooks, logs."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from simulators.common import AdminError, admin_body
from simulators.zoom import oauth, participants, recordings, registrants
from simulators.zoom.meetings import TIMEZONES, apply_changes, iso, validate
from simulators.zoom.seed import PASSWORD, seed
from simulators.zoom.web import Request, Response, json_response
from simulators.zoom.webhooks import event_object


def _user(sim, email: str) -> dict:
    user = sim.store.one("SELECT * FROM users WHERE lower(email) = lower(?)", (email,))
    if not user:
        raise AdminError(f"no user {email}", 404)
    return user


def _app(sim, client_id: str) -> dict:
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (client_id,))
    if not app:
        raise AdminError(f"no app {client_id}", 404)
    return app


def _meeting(sim, meeting_id: str) -> dict:
    meeting = None
    if meeting_id.isdigit() and len(meeting_id) <= 18:
        meeting = sim.store.one("SELECT * FROM meetings WHERE id = ?", (int(meeting_id),))
    if not meeting:
        raise AdminError(f"no meeting {meeting_id}", 404)
    return meeting


def _parse_when(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise AdminError("now must be an ISO-8601 datetime, e.g. 2026-11-29T00:00:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def state(sim, req):
    return {
        "clock": clock_info(sim),
        "limits": sim.limits.as_dict(),
        "faults": sim.faults.as_dict(),
        "url": sim.public_url,
    }


def clock_info(sim) -> dict:
    return {
        "now": iso(sim.clock.now()),
        "unix": sim.clock.now(),
        "offset_seconds": sim.clock.offset,
        "frozen": sim.clock.frozen_at is not None,
    }


def clock(sim, req):
    if req.method == "POST":
        body = admin_body(req)
        if "offset_seconds" in body:
            sim.clock.set_offset(float(body["offset_seconds"]))
        if "now" in body:
            sim.clock.set_now(_parse_when(body["now"]))
        if "advance_seconds" in body:
            sim.clock.advance(float(body["advance_seconds"]))
        if "freeze" in body:
            sim.clock.freeze(bool(body["freeze"]))
        # Webhook retries that fall due on the moved clock go out before the answer, so tests see them.
        sim.webhooks.run_due()
    return clock_info(sim)


def reset(sim, req):
    sim.reset()
    return {"status": "reset"}


def users(sim, req):
    if req.method == "POST":
        return {"users": add_users(sim, admin_body(req))}
    rows = sim.store.all(
        "SELECT users.*, accounts.plan FROM users JOIN accounts ON accounts.id = users.account_id ORDER BY email"
    )
    for row in rows:
        row.pop("password")
        row["can_host"] = bool(row["can_host"])
        row["daily_used"] = sim.limits.daily_used(row["id"])
    return {"users": rows}


APP_FIELDS = (
    "client_secret",
    "name",
    "account_id",
    "redirect_uri",
    "scope_model",
    "scopes",
    "published",
    "webhook_url",
    "webhook_secret",
)


def apps(sim, req):
    if req.method == "POST":
        body = admin_body(req)
        missing = [name for name in ("client_id", "client_secret", "redirect_uri", "scopes") if not body.get(name)]
        if missing:
            raise AdminError(f"missing: {', '.join(missing)}")
        values = {
            "name": body.get("client_id"),
            "account_id": "acctA-zoomsim00000001",
            "scope_model": "granular",
            "published": False,
            "webhook_url": "",
            "webhook_secret": "",
        } | body
        _check_app(values)
        sim.store.run(
            "INSERT OR REPLACE INTO apps (client_id, "
            + ", ".join(APP_FIELDS)
            + ") VALUES (?"
            + ", ?" * len(APP_FIELDS)
            + ")",
            (values["client_id"], *[_column(values[name]) for name in APP_FIELDS]),
        )
        return _app(sim, values["client_id"])
    return {"apps": sim.store.all("SELECT * FROM apps ORDER BY client_id")}


def _column(value):
    return int(value) if isinstance(value, bool) else value


def _check_app(values: dict) -> None:
    if values["scope_model"] not in ("granular", "classic"):
        raise AdminError("scope_model must be granular or classic")


def app_edit(sim, req, client_id):
    app = _app(sim, client_id)
    body = admin_body(req)
    unknown = set(body) - set(APP_FIELDS)
    if unknown:
        raise AdminError(f"unknown fields: {', '.join(sorted(unknown))}")
    _check_app(app | body)
    for name, value in body.items():
        sim.store.run(f"UPDATE apps SET {name} = ? WHERE client_id = ?", (_column(value), client_id))
    return _app(sim, client_id)


def account_edit(sim, req, account_id):
    plan = admin_body(req).get("plan")
    if plan not in sim.limits.per_second:
        raise AdminError(f"plan must be one of {', '.join(sim.limits.per_second)}")
    if not sim.store.run("UPDATE accounts SET plan = ? WHERE id = ?", (plan, account_id)):
        raise AdminError(f"no account {account_id}", 404)
    return sim.store.one("SELECT * FROM accounts WHERE id = ?", (account_id,))


def meetings(sim, req):
    sql = (
        "SELECT meetings.id, meetings.uuid, users.email AS host, meetings.host_id, meetings.client_id, topic,"
        " meetings.type, start_time, duration, meetings.timezone, agenda, meetings.password, meetings.created_at, phase,"
        " deleted, deleted_at FROM meetings JOIN users ON users.id = meetings.host_id"
    )
    params: tuple = ()
    if req.query.get("host"):
        sql += " WHERE lower(users.email) = lower(?)"
        params = (req.query["host"],)
    rows = sim.store.all(sql + " ORDER BY start_time, meetings.id", params)
    for row in rows:
        row["deleted"] = bool(row["deleted"])
    return {"meetings": rows}


def _notify(sim, meeting: dict, event: str, extra: dict, body: dict) -> list[dict]:
    host = sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))
    if body.get("client_id"):
        _app(sim, body["client_id"])
    return sim.webhooks.meeting_event(meeting, host, event, extra, body.get("client_id"))


def meeting_edit(sim, req, meeting_id):
    meeting = _meeting(sim, meeting_id)
    if req.method == "DELETE":
        if meeting["deleted"]:
            raise AdminError(f"meeting {meeting_id} is already deleted", 409)
        sim.store.run(
            "UPDATE meetings SET deleted = 1, deleted_at = ? WHERE id = ?", (iso(sim.clock.now()), meeting["id"])
        )
        deliveries = []
        if req.query.get("notify", "1") != "0":
            deliveries = _notify(sim, meeting, "meeting.deleted", {}, req.query)
        return {"deleted": True, "webhooks": deliveries}
    body = admin_body(req)
    notify = body.pop("notify", True)
    target = {"client_id": body.pop("client_id")} if "client_id" in body else {}
    host = sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))
    changes, errors = validate(body, current=meeting, user=host)
    if errors:
        raise AdminError(json.dumps(errors))
    apply_changes(sim, meeting["id"], changes)
    updated = _meeting(sim, meeting_id)
    deliveries = []
    if notify:
        extra = {"old_object": event_object(meeting), "time_stamp": int(sim.clock.now() * 1000)}
        deliveries = _notify(sim, updated, "meeting.updated", extra, target)
    return {"meeting": updated, "webhooks": deliveries}


def _client_id(body: dict, sim) -> str | None:
    if body.get("client_id"):
        _app(sim, body["client_id"])
    return body.get("client_id")


def meeting_phase(sim, req, meeting_id, phase):
    """Start a new occurrence of the meeting, or end the one in progress (with their webhooks)."""
    meeting = _meeting(sim, meeting_id)
    body = admin_body(req)
    if phase == "start":
        result = participants.start(
            sim,
            meeting,
            at=body.get("at"),
            uuid=body.get("uuid"),
            host_joins=body.get("host_joins", True),
            client_id=_client_id(body, sim),
        )
    else:
        running = participants.open_occurrence(sim, meeting["id"])
        if not running:
            raise AdminError(f"meeting {meeting_id} is not in progress", 409)
        result = participants.end(sim, running, at=body.get("at"), client_id=_client_id(body, sim))
    return {"meeting": _meeting(sim, meeting_id), **result}


def occurrences(sim, req):
    """A meeting's occurrences (`?meeting=id`, or all), each with its join sessions."""
    sql, params = "SELECT * FROM occurrences", ()
    if req.query.get("meeting"):
        sql, params = sql + " WHERE meeting_id = ?", (int(req.query["meeting"]),)
    rows = sim.store.all(sql + " ORDER BY started_at, rowid", params)
    for row in rows:
        row["participants"] = participants.sessions_of(sim, row["uuid"])
    return {"occurrences": rows}


def occurrence_end(sim, req):
    body = admin_body(req)
    row = participants.occurrence(sim, str(body.get("uuid", "")))
    return participants.end(sim, row, at=body.get("at"), client_id=_client_id(body, sim))


def participant_join(sim, req):
    body = admin_body(req)
    unknown = set(body) - {
        "uuid",
        "registrant_id",
        "name",
        "email",
        "in_account",
        "participant_uuid",
        "at",
        "client_id",
    }
    if unknown:
        raise AdminError(f"unknown fields: {', '.join(sorted(unknown))}")
    row = participants.occurrence(sim, str(body.get("uuid", "")))
    return participants.join(
        sim,
        row,
        registrant_id=body.get("registrant_id"),
        name=body.get("name"),
        email=body.get("email"),
        in_account=body.get("in_account"),
        participant_uuid=body.get("participant_uuid"),
        at=body.get("at"),
        client_id=_client_id(body, sim),
    )


def participant_leave(sim, req):
    body = admin_body(req)
    row = participants.occurrence(sim, str(body.get("uuid", "")))
    return participants.leave(
        sim,
        row,
        str(body.get("participant_uuid", "")),
        at=body.get("at"),
        reason=body.get("reason"),
        client_id=_client_id(body, sim),
    )


def meeting_registrants(sim, req, meeting_id):
    """Every registrant of a meeting, whatever their status, with the emails Zoom would have sent them."""
    meeting = _meeting(sim, meeting_id)
    rows = sim.store.all("SELECT * FROM registrants WHERE meeting_id = ? ORDER BY rowid", (meeting["id"],))
    emails = sim.store.all("SELECT * FROM registrant_emails WHERE meeting_id = ? ORDER BY seq", (meeting["id"],))
    return {
        "registrants": [
            {
                "id": row["id"],
                "email": row["email"],
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "status": row["status"],
                "source": row["source"],
                "created_at": row["created_at"],
                "join_url": registrants.join_url(sim, meeting, row),
                "emails": [
                    {"kind": e["kind"], "sent_at": e["sent_at"]} for e in emails if e["registrant_id"] == row["id"]
                ],
            }
            for row in rows
        ]
    }


def emails(sim, req):
    """The registrant emails Zoom would have sent (nothing is sent): to, kind, meeting, registrant, time."""
    sql, params = "SELECT * FROM registrant_emails", ()
    if req.query.get("meeting"):
        sql, params = sql + " WHERE meeting_id = ?", (int(req.query["meeting"]),)
    return {"emails": sim.store.all(sql + " ORDER BY seq", params)}


def quota(sim, req, email):
    user = _user(sim, email)
    if req.method == "POST":
        body = admin_body(req)
        if body.get("exhaust"):
            sim.limits.set_daily_used(user["id"], sim.limits.daily_limit)
        elif "used" in body:
            sim.limits.set_daily_used(user["id"], int(body["used"]))
        else:
            raise AdminError('send {"exhaust": true} or {"used": N}')
    return {"email": user["email"], "used": sim.limits.daily_used(user["id"]), "limit": sim.limits.daily_limit}


NEW_USER_FIELDS = {"email", "first_name", "last_name", "type", "timezone", "status", "can_host"}


def add_users(sim, body: dict) -> list[dict]:
    """Seed an account with users: `users` [{email, first_name, last_name, type, timezone, status}], or `count`
    made-up licensed users (`type`, `status` and `email_prefix` apply to them), for the account `account_id`."""
    account_id = body.get("account_id") or "acctA-zoomsim00000001"
    if not sim.store.one("SELECT 1 FROM accounts WHERE id = ?", (account_id,)):
        raise AdminError(f"no account {account_id}", 404)
    given = body.get("users")
    if given is None:
        count = int(body.get("count", 0))
        if not 1 <= count <= 5000:
            raise AdminError("send users: [...] or count: 1 to 5000")
        prefix = str(body.get("email_prefix") or "host")
        start = sim.store.one("SELECT COUNT(*) AS n FROM users")["n"]
        given = [
            {
                "email": f"{prefix}{start + number:04d}@zoomsim.test",
                "first_name": prefix.capitalize(),
                "last_name": f"{start + number:04d}",
                "type": body.get("type", 2),
                "status": body.get("status", "active"),
            }
            for number in range(1, count + 1)
        ]
    if not isinstance(given, list) or not all(isinstance(user, dict) for user in given):
        raise AdminError("users must be a list of objects")
    created = []
    with sim.store.lock:
        for user in given:
            unknown = set(user) - NEW_USER_FIELDS
            if unknown:
                raise AdminError(f"unknown fields: {', '.join(sorted(unknown))}")
            email = str(user.get("email", "")).strip()
            if "@" not in email:
                raise AdminError(f"not an email: {email!r}")
            if sim.store.one("SELECT 1 FROM users WHERE lower(email) = lower(?)", (email,)):
                raise AdminError(f"user {email} exists", 409)
            timezone = user.get("timezone", "UTC")
            if timezone not in TIMEZONES:
                raise AdminError(f"unknown timezone {timezone}")
            if user.get("status", "active") not in ("active", "inactive", "pending"):
                raise AdminError("status must be active, inactive or pending")
            if int(user.get("type", 2)) not in (1, 2, 3, 99):
                raise AdminError("type must be 1 (Basic), 2 (Licensed), 3 (On-prem) or 99 (None)")
            user_id = "zs" + secrets.token_hex(10)
            sim.store.run(
                "INSERT INTO users (id, account_id, email, password, first_name, last_name, type, timezone, pmi,"
                " status, created_at, can_host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    account_id,
                    email,
                    PASSWORD,
                    str(user.get("first_name", "")),
                    str(user.get("last_name", "")),
                    int(user.get("type", 2)),
                    timezone,
                    8_200_000_000 + secrets.randbelow(99_999_999),
                    user.get("status", "active"),
                    iso(sim.clock.now()),
                    int(bool(user.get("can_host", True))),
                ),
            )
            created.append({key: value for key, value in _user(sim, email).items() if key != "password"})
    return created


USER_FIELDS = {"can_host": bool, "type": int, "timezone": str, "first_name": str, "last_name": str, "status": str}


def user_edit(sim, req, email):
    user = _user(sim, email)
    body = admin_body(req)
    unknown = set(body) - set(USER_FIELDS)
    if unknown:
        raise AdminError(f"unknown fields: {', '.join(sorted(unknown))}")
    if "timezone" in body and body["timezone"] not in TIMEZONES:
        raise AdminError(f"unknown timezone {body['timezone']}")
    for name, value in body.items():
        sim.store.run(f"UPDATE users SET {name} = ? WHERE id = ?", (_column(USER_FIELDS[name](value)), user["id"]))
    return {key: value for key, value in _user(sim, email).items() if key != "password"}


def revoke_tokens(sim, req, email):
    user = _user(sim, email)
    return {"revoked": oauth.revoke_grant(sim, admin_body(req).get("client_id"), user["id"])}


def faults(sim, req):
    if req.method == "POST":
        try:
            sim.faults.configure(admin_body(req))
        except (ValueError, TypeError) as exc:
            raise AdminError(str(exc)) from exc
    elif req.method == "DELETE":
        sim.faults.clear(sim.faults.seed)
    return sim.faults.as_dict()


def faults_next(sim, req):
    body = admin_body(req)
    try:
        sim.faults.enqueue(body.get("route", ""), body.get("fault", ""), int(body.get("count", 1)))
    except (ValueError, TypeError) as exc:
        raise AdminError(str(exc)) from exc
    return sim.faults.as_dict()


def limits(sim, req):
    if req.method == "POST":
        body = admin_body(req)
        try:
            sim.limits.configure(
                per_second=body.get("per_second"),
                daily_limit=body.get("daily_limit"),
                daily_variant=body.get("daily_variant"),
                daily_counts_deletes=body.get("daily_counts_deletes"),
                api_change_webhooks=body.get("api_change_webhooks"),
                max_registrants=body.get("max_registrants"),
                participants_delay_seconds=body.get("participants_delay_seconds"),
                past_participants_variant=body.get("past_participants_variant"),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise AdminError(str(exc)) from exc
    return sim.limits.as_dict()


def validate_webhook(sim, req, client_id):
    return sim.webhooks.validate_url(_app(sim, client_id))


def deauthorize(sim, req, client_id):
    """The user removes the app: tokens die; Zoom sends app_deauthorized to published apps only."""
    app = _app(sim, client_id)
    body = admin_body(req)
    user = _user(sim, body.get("email", ""))
    oauth.revoke_grant(sim, app["client_id"], user["id"])
    if not app["published"] and not body.get("force"):
        return {
            "event": "app_deauthorized",
            "client_id": app["client_id"],
            "status": None,
            "delivered": False,
            "error": "not sent: Zoom sends app_deauthorized only to published apps (send force=true to send)",
        }
    now = sim.clock.now()
    payload = {
        "account_id": user["account_id"],
        "user_id": user["id"],
        "signature": "",
        "deauthorization_time": iso(now),
        "client_id": app["client_id"],
        "user_data_retention": "false",
    }
    return sim.webhooks.send(app, "app_deauthorized", payload)


def requests_log(sim, req):
    if req.method == "DELETE":
        sim.request_log.clear()
        return {"requests": []}
    since = int(req.query.get("since", "0") or 0)
    return {"requests": sim.request_log.since(since)}


def recordings_view(sim, req):
    """GET: every recording (`?meeting=id`); POST `{uuid, passcode, files}`: the occurrence's cloud recording is ready."""
    if req.method == "POST":
        body = admin_body(req)
        unknown = set(body) - {"uuid", "passcode", "files", "client_id"}
        if unknown:
            raise AdminError(f"unknown fields: {', '.join(sorted(unknown))}")
        row = participants.occurrence(sim, str(body.get("uuid", "")))
        return recordings.add(
            sim, row, passcode=body.get("passcode"), files=body.get("files"), client_id=_client_id(body, sim)
        )
    sql, params = "SELECT uuid, meeting_id, status, password, created_at FROM recordings", ()
    if req.query.get("meeting"):
        sql, params = sql + " WHERE meeting_id = ?", (int(req.query["meeting"]),)
    return {"recordings": sim.store.all(sql + " ORDER BY created_at, rowid", params)}


def recording_change(sim, req, action):
    body = admin_body(req)
    return recordings.change(sim, str(body.get("uuid", "")), action, client_id=_client_id(body, sim))


def webhooks_log(sim, req):
    if req.method == "DELETE":
        sim.webhooks.clear()
    if req.method == "POST":
        body = admin_body(req)
        if not isinstance(body.get("enabled"), bool):
            raise AdminError('send {"enabled": true|false}')
        sim.webhooks.set_enabled(body["enabled"])
    return {"enabled": sim.webhooks.enabled, "deliveries": sim.webhooks.deliveries, "pending": sim.webhooks.pending}


def reseed(sim, req):
    body = admin_body(req)
    seed(
        sim.store,
        redirect_uri=body.get("redirect_uri", sim.redirect_uri),
        webhook_url=body.get("webhook_url", sim.webhook_url),
    )
    return {"status": "seeded"}


ROUTES = [
    ("GET", r"/_sim/?", state),
    ("GET", r"/_sim/state", state),
    (("GET", "POST"), r"/_sim/clock", clock),
    ("POST", r"/_sim/reset", reset),
    ("POST", r"/_sim/seed", reseed),
    (("GET", "POST"), r"/_sim/users", users),
    ("PATCH", r"/_sim/users/(?P<email>[^/]+)", user_edit),
    (("GET", "POST"), r"/_sim/users/(?P<email>[^/]+)/quota", quota),
    ("POST", r"/_sim/users/(?P<email>[^/]+)/revoke_tokens", revoke_tokens),
    (("GET", "POST"), r"/_sim/apps", apps),
    ("PATCH", r"/_sim/apps/(?P<client_id>[^/]+)", app_edit),
    ("POST", r"/_sim/apps/(?P<client_id>[^/]+)/validate_webhook", validate_webhook),
    ("POST", r"/_sim/apps/(?P<client_id>[^/]+)/deauthorize", deauthorize),
    ("POST", r"/_sim/accounts/(?P<account_id>[^/]+)", account_edit),
    ("GET", r"/_sim/meetings", meetings),
    (("PATCH", "DELETE"), r"/_sim/meetings/(?P<meeting_id>[^/]+)", meeting_edit),
    ("POST", r"/_sim/meetings/(?P<meeting_id>[^/]+)/(?P<phase>start|end)", meeting_phase),
    ("GET", r"/_sim/meetings/(?P<meeting_id>[^/]+)/registrants", meeting_registrants),
    ("GET", r"/_sim/emails", emails),
    (("GET", "POST", "DELETE"), r"/_sim/faults", faults),
    ("POST", r"/_sim/faults/next", faults_next),
    (("GET", "POST"), r"/_sim/limits", limits),
    (("GET", "DELETE"), r"/_sim/requests", requests_log),
    (("GET", "POST", "DELETE"), r"/_sim/webhooks", webhooks_log),
    ("GET", r"/_sim/occurrences", occurrences),
    ("POST", r"/_sim/occurrences/end", occurrence_end),
    ("POST", r"/_sim/participants/join", participant_join),
    ("POST", r"/_sim/participants/leave", participant_leave),
    (("GET", "POST"), r"/_sim/recordings", recordings_view),
    ("POST", r"/_sim/recordings/(?P<action>trash|delete|recover)", recording_change),
]


def run(sim, req: Request, view, kwargs) -> Response:
    try:
        return json_response(200, view(sim, req, **kwargs))
    except (AdminError, participants.ScriptError) as exc:
        return json_response(exc.status, {"error": str(exc)})
    except (ValueError, TypeError, KeyError) as exc:
        return json_response(400, {"error": f"bad request: {exc}"})
