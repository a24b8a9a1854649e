"""Meeting occurrences and their participants, scripted by tests through the admin API, and what Zoom reports
about them: the signed `meeting.started`, `meeting.participant_joined`, `meeting.participant_left` and
`meeting.ended` webhooks, and `GET /past_meetings/{meetingUUID}/participants` after the meeting.

Each time a meeting is started it gets an occurrence (a uuid). Each join is one session row: a person who leaves
and rejoins has several sessions, from the same device (the same `participant_uuid`) or another one (a new
`participant_uuid`). Times are scripted (ISO, or seconds after the occurrence's start); the simulator clock is
not moved by them.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid as uuid_module
from datetime import UTC, datetime
from urllib.parse import unquote

from simulators.zoom import registrants
from simulators.zoom.meetings import UTC_FORMAT, error, iso, page_of, paging
from simulators.zoom.web import Request, Response, json_response

FIRST_USER_ID = 16778240  # Zoom's per-session participant ids look like 16778240, 16779264, ...
LEFT = "left the meeting. Reason : left the meeting"
HOST_ENDED = "left the meeting. Reason : Host ended the meeting."
OTHER_DEVICE = "left the meeting. Reason : joined from another device"
NOT_AVAILABLE = "This meeting is not available or ID is not valid."
NOT_ENDED = "Meeting ID is invalid or not end."


class ScriptError(Exception):
    """A scripted step Zoom would not allow (the admin API answers it with `status`)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def parse_time(value) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise ScriptError(
            "a time must be ISO-8601 (e.g. 2026-12-03T10:02:00Z) or seconds after the start", 400
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def moment(sim, value, occurrence: dict | None = None) -> float:
    """A scripted time: None is now (simulator clock), a number is seconds after the occurrence's start."""
    if value is None:
        return sim.clock.now()
    if isinstance(value, bool):
        raise ScriptError("a time must be ISO-8601 or a number of seconds", 400)
    if isinstance(value, int | float):
        if occurrence is None:
            raise ScriptError("a time in seconds needs a started meeting; give an ISO time", 400)
        return unix(occurrence["started_at"]) + value
    return parse_time(value)


def unix(text: str) -> float:
    return datetime.strptime(text, UTC_FORMAT).replace(tzinfo=UTC).timestamp()


def _host(sim, meeting: dict) -> dict:
    return sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))


def meeting_of(sim, occurrence: dict) -> dict:
    return sim.store.one("SELECT * FROM meetings WHERE id = ?", (occurrence["meeting_id"],))


def occurrence(sim, uuid: str) -> dict:
    row = sim.store.one("SELECT * FROM occurrences WHERE uuid = ?", (uuid,))
    if not row:
        raise ScriptError(f"no meeting occurrence {uuid}", 404)
    return row


def open_occurrence(sim, meeting_id: int) -> dict | None:
    return sim.store.one("SELECT * FROM occurrences WHERE meeting_id = ? AND ended_at IS NULL", (meeting_id,))


def occurrence_object(meeting: dict, occurrence: dict) -> dict:
    """`payload.object` of the occurrence's events: the meeting as it runs now."""
    return {
        "id": meeting["id"],
        "uuid": occurrence["uuid"],
        "host_id": meeting["host_id"],
        "topic": meeting["topic"],
        "type": meeting["type"],
        "start_time": occurrence["started_at"],
        "duration": meeting["duration"],
        "timezone": meeting["timezone"],
    }


# --- scripting: start, join, leave, end ----------------------------------------------


def start(
    sim, meeting: dict, *, at=None, uuid: str | None = None, host_joins: bool = True, client_id: str | None = None
) -> dict:
    """Start an occurrence of the meeting: `meeting.started`, and the host joins unless told not to."""
    with sim.store.lock:
        if meeting["deleted"]:
            raise ScriptError(f"meeting {meeting['id']} was deleted")
        if open_occurrence(sim, meeting["id"]):
            raise ScriptError(f"meeting {meeting['id']} is already in progress")
        when = moment(sim, at)
        uuid = uuid or _new_uuid(sim, meeting)
        if sim.store.one("SELECT 1 FROM occurrences WHERE uuid = ?", (uuid,)):
            raise ScriptError(f"the uuid {uuid} is taken")
        sim.store.run(
            "INSERT INTO occurrences (uuid, meeting_id, started_at) VALUES (?, ?, ?)", (uuid, meeting["id"], iso(when))
        )
        sim.store.run("UPDATE meetings SET phase = 'started' WHERE id = ?", (meeting["id"],))
        row = occurrence(sim, uuid)
    host = _host(sim, meeting)
    deliveries = sim.webhooks.host_event(
        host, "meeting.started", occurrence_object(meeting, row), at=when, client_id=client_id
    )
    result = {"uuid": uuid, "start_time": row["started_at"], "webhooks": deliveries}
    if host_joins:
        joined = join(
            sim,
            row,
            name=f"{host['first_name']} {host['last_name']}",
            email=host["email"],
            at=0,
            client_id=client_id,
        )
        result["host_participant_uuid"] = joined["participant_uuid"]
        result["webhooks"] = deliveries + joined["webhooks"]
    return result


def _new_uuid(sim, meeting: dict) -> str:
    # The first occurrence of a scheduled meeting has the uuid Zoom gave at create; later ones a new one each.
    if not sim.store.one("SELECT 1 FROM occurrences WHERE meeting_id = ?", (meeting["id"],)):
        return meeting["uuid"]
    return base64.b64encode(secrets.token_bytes(16)).decode()


def join(
    sim,
    occurrence_row: dict,
    *,
    registrant_id: str | None = None,
    name: str | None = None,
    email: str | None = None,
    in_account: bool | None = None,
    participant_uuid: str | None = None,
    at=None,
    client_id: str | None = None,
) -> dict:
    """One person joins from one device: `meeting.participant_joined`. Returns its participant_uuid."""
    with sim.store.lock:
        row = occurrence(sim, occurrence_row["uuid"])
        meeting = meeting_of(sim, row)
        host = _host(sim, meeting)
        when = moment(sim, at, row)
        if row["ended_at"]:
            raise ScriptError(f"occurrence {row['uuid']} has ended")
        if when < unix(row["started_at"]):
            raise ScriptError("a participant cannot join before the meeting started")
        device = _device(sim, row, participant_uuid)
        person = _person(sim, meeting, host, registrant_id=registrant_id, name=name, email=email, in_account=in_account)
        displaced = _displaced(sim, meeting, row, person["registrant_id"])
        if any(when < unix(earlier["join_time"]) for earlier in displaced):
            raise ScriptError("the registrant's other device joined later: script the joins in their order")
        session = {
            "occurrence_uuid": row["uuid"],
            "participant_uuid": device,
            "user_id": str(FIRST_USER_ID + 1024 * _session_count(sim, row)),
            "zoom_user_id": person["zoom_user_id"],
            "name": person["name"],
            "email": person["email"],
            "in_account": int(person["in_account"]),
            "registrant_id": person["registrant_id"],
            "join_time": iso(when),
        }
        sim.store.run(
            f"INSERT INTO participants ({', '.join(session)}) VALUES ({', '.join('?' * len(session))})",
            tuple(session.values()),
        )
    deliveries = []
    for earlier in displaced:
        deliveries += _leave(sim, meeting, host, row, earlier, when, OTHER_DEVICE, client_id)
    deliveries += sim.webhooks.host_event(
        host, "meeting.participant_joined", _participant_object(meeting, row, session), at=when, client_id=client_id
    )
    return {
        "participant_uuid": device,
        "user_id": session["user_id"],
        "registrant_id": person["registrant_id"],
        "webhooks": deliveries,
    }


def _person(sim, meeting: dict, host: dict, *, registrant_id, name, email, in_account) -> dict:
    """Who joins: through a registrant's link, as the host, or as anyone else (who meets Zoom's registration form
    when the meeting requires registration, and so becomes a registrant too)."""
    registrant = None
    if registrant_id:
        registrant = sim.store.one(
            "SELECT * FROM registrants WHERE id = ? AND meeting_id = ?", (registrant_id, meeting["id"])
        )
        if not registrant:
            raise ScriptError(f"no registrant {registrant_id} for meeting {meeting['id']}", 404)
        email = email or registrant["email"]
    known_user = _user_by_email(sim, email)
    is_host = bool(known_user and known_user["id"] == host["id"])
    if not registrant and registrants.requires_registration(meeting) and not is_host:
        registrant = _register_through_the_form(sim, meeting, name, email)
    if registrant and registrant["status"] != "approved":
        raise ScriptError(f"registrant {registrant['id']} is {registrant['status']}: Zoom would not let them in")
    if registrant:
        name = name or f"{registrant['first_name']} {registrant['last_name']}".strip()
        email = email or registrant["email"]
    if not name:
        raise ScriptError("give the participant a name (or a registrant_id)", 400)
    if in_account is None:
        in_account = bool(known_user and known_user["account_id"] == host["account_id"])
    return {
        "name": name,
        "email": email or "",
        "in_account": in_account,
        "registrant_id": registrant["id"] if registrant else "",
        # Signed in to Zoom in the host's account: Zoom knows their user id (their own, for a seeded user).
        "zoom_user_id": (known_user["id"] if known_user else _user_id_for(email or name)) if in_account else "",
    }


def _user_by_email(sim, email: str | None) -> dict | None:
    if not email:
        return None
    return sim.store.one("SELECT * FROM users WHERE lower(email) = lower(?)", (email,))


def _register_through_the_form(sim, meeting: dict, name: str | None, email: str | None) -> dict:
    if not name and not email:
        raise ScriptError("give the participant a name or an email", 400)
    first, _, last = (name or email.split("@")[0]).partition(" ")
    # Zoom's form needs an email; a scripted guest without one gets an address of their own.
    slug = re.sub(r"[^a-z0-9]+", ".", (name or "").lower()).strip(".")
    address = email or f"{slug}.{secrets.token_hex(3)}@guest.zoomsim.test"
    try:
        registrant, _ = registrants.register(
            sim, meeting, {"email": address, "first_name": first, "last_name": last}, source="form"
        )
    except registrants.CapacityReached as exc:
        raise ScriptError("the meeting has reached its registrant capacity") from exc
    return registrant


def _user_id_for(seed: str) -> str:
    return base64.urlsafe_b64encode(uuid_module.uuid5(uuid_module.NAMESPACE_URL, seed.lower()).bytes)[:22].decode()


def _device(sim, row: dict, participant_uuid: str | None) -> str:
    if not participant_uuid:
        return str(uuid_module.uuid4()).upper()
    sessions = sim.store.all(
        "SELECT * FROM participants WHERE occurrence_uuid = ? AND participant_uuid = ?", (row["uuid"], participant_uuid)
    )
    if not sessions:
        raise ScriptError(f"no participant {participant_uuid} in this meeting (omit it to join from a new device)", 404)
    if any(session["leave_time"] is None for session in sessions):
        raise ScriptError(f"participant {participant_uuid} is still in the meeting")
    return participant_uuid


def _displaced(sim, meeting: dict, row: dict, registrant_id: str) -> list[dict]:
    """A registrant link in use on another device: without `allow_multiple_devices` Zoom lets only one in."""
    if not registrant_id or registrants.settings_of(meeting).get("allow_multiple_devices"):
        return []
    return sim.store.all(
        "SELECT * FROM participants WHERE occurrence_uuid = ? AND registrant_id = ? AND leave_time IS NULL",
        (row["uuid"], registrant_id),
    )


def _session_count(sim, row: dict) -> int:
    return sim.store.one("SELECT count(*) AS n FROM participants WHERE occurrence_uuid = ?", (row["uuid"],))["n"]


def leave(
    sim,
    occurrence_row: dict,
    participant_uuid: str,
    *,
    at=None,
    reason: str | None = None,
    client_id: str | None = None,
) -> dict:
    """The participant's device leaves: `meeting.participant_left`."""
    with sim.store.lock:
        row = occurrence(sim, occurrence_row["uuid"])
        session = sim.store.one(
            "SELECT * FROM participants WHERE occurrence_uuid = ? AND participant_uuid = ? AND leave_time IS NULL",
            (row["uuid"], participant_uuid),
        )
        if not session:
            raise ScriptError(f"participant {participant_uuid} is not in occurrence {row['uuid']}", 404)
        when = moment(sim, at, row)
        if when < unix(session["join_time"]):
            raise ScriptError("a participant cannot leave before they joined")
        meeting = meeting_of(sim, row)
    return {"webhooks": _leave(sim, meeting, _host(sim, meeting), row, session, when, reason or LEFT, client_id)}


def _leave(sim, meeting, host, row, session, when: float, reason: str, client_id) -> list[dict]:
    sim.store.run(
        "UPDATE participants SET leave_time = ?, leave_reason = ? WHERE seq = ?", (iso(when), reason, session["seq"])
    )
    left = sim.store.one("SELECT * FROM participants WHERE seq = ?", (session["seq"],))
    return sim.webhooks.host_event(
        host, "meeting.participant_left", _participant_object(meeting, row, left), at=when, client_id=client_id
    )


def end(sim, occurrence_row: dict, *, at=None, client_id: str | None = None) -> dict:
    """The host ends the meeting: everyone still in leaves, then `meeting.ended` with `end_time`."""
    with sim.store.lock:
        row = occurrence(sim, occurrence_row["uuid"])
        if row["ended_at"]:
            raise ScriptError(f"occurrence {row['uuid']} has already ended")
        when = moment(sim, at, row)
        still_in = sim.store.all(
            "SELECT * FROM participants WHERE occurrence_uuid = ? AND leave_time IS NULL ORDER BY seq", (row["uuid"],)
        )
        if when < unix(row["started_at"]) or any(when < unix(s["join_time"]) for s in still_in):
            raise ScriptError("the meeting cannot end before it started or before someone still in joined")
        # Zoom has the participant list some minutes after it learns the meeting ended.
        # Whole seconds, as every time Zoom gives: a clock moved by N seconds then meets it exactly.
        ready_at = int(max(sim.clock.now(), when)) + sim.limits.participants_delay_seconds
        sim.store.run(
            "UPDATE occurrences SET ended_at = ?, ready_at = ? WHERE uuid = ?", (iso(when), ready_at, row["uuid"])
        )
        sim.store.run("UPDATE meetings SET phase = 'ended' WHERE id = ?", (row["meeting_id"],))
        meeting = meeting_of(sim, row)
        ended = occurrence(sim, row["uuid"])
    host = _host(sim, meeting)
    deliveries = []
    for session in still_in:
        deliveries += _leave(sim, meeting, host, ended, session, when, HOST_ENDED, client_id)
    obj = occurrence_object(meeting, ended) | {"end_time": ended["ended_at"]}
    deliveries += sim.webhooks.host_event(host, "meeting.ended", obj, at=when, client_id=client_id)
    return {"uuid": ended["uuid"], "end_time": ended["ended_at"], "webhooks": deliveries}


def _participant_object(meeting: dict, row: dict, session: dict) -> dict:
    participant = {
        "user_id": session["user_id"],
        "user_name": session["name"],
        "id": session["zoom_user_id"],
        "participant_user_id": session["zoom_user_id"],
        "participant_uuid": session["participant_uuid"],
        "join_time": session["join_time"],
        # Zoom gives no email for a participant outside the host's account.
        "email": session["email"] if session["in_account"] else "",
        "customer_key": "",
        "phone_number": "",
    }
    if session["registrant_id"]:
        participant["registrant_id"] = session["registrant_id"]
    if session.get("leave_time"):
        participant |= {"leave_time": session["leave_time"], "leave_reason": session["leave_reason"]}
    return occurrence_object(meeting, row) | {"participant": participant}


def sessions_of(sim, uuid: str) -> list[dict]:
    return sim.store.all("SELECT * FROM participants WHERE occurrence_uuid = ? ORDER BY join_time, seq", (uuid,))


# --- GET /past_meetings/{meetingUUID}/participants -------------------------------------


def decode_meeting_ref(raw: str) -> str | None:
    """A meeting id or uuid from the raw path segment, by Zoom's rule: a uuid that begins with "/" or contains
    "//" must be double URL-encoded; sent single-encoded it never reaches the meeting (None)."""
    once = unquote(raw)
    if "%" in once:
        return unquote(once)
    if once.startswith("/") or "//" in once:
        return None
    return once


def find_past(sim, ref: str | None, user: dict, not_found: Response):
    """The ended occurrence a past-meeting call names (a uuid, or a meeting id for its latest), or Zoom's error."""
    row = None
    if ref and ref.isdigit() and len(ref) <= 18:
        row = sim.store.one(
            "SELECT * FROM occurrences WHERE meeting_id = ? ORDER BY started_at DESC, rowid DESC", (int(ref),)
        )
    elif ref:
        row = sim.store.one("SELECT * FROM occurrences WHERE uuid = ?", (ref,))
    if not row:
        return not_found
    meeting = meeting_of(sim, row)
    if meeting["host_id"] != user["id"]:
        host = _host(sim, meeting)
        if host["account_id"] != user["account_id"]:
            return not_found
        return error(400, 300, "Cannot access meeting information.")
    return row, meeting


def past_participants(sim, req: Request, *, user: dict, app: dict, meeting_ref: str) -> Response:
    """Every join session of an ended occurrence (paged), once Zoom has processed it; Pro accounts or higher."""
    account = sim.store.one("SELECT * FROM accounts WHERE id = ?", (user["account_id"],))
    if account and account["plan"] == "free":
        return error(400, 200, f"Only available for paid account: {user['account_id']}.")
    found = find_past(sim, decode_meeting_ref(meeting_ref), user, error(404, 3001, NOT_AVAILABLE))
    if isinstance(found, Response):
        return found
    row, meeting = found
    if not row["ended_at"] or sim.clock.now() < row["ready_at"]:
        return error(404, 3001, NOT_ENDED)
    paged = paging(sim, req)
    if isinstance(paged, Response):
        return paged
    page_size, offset = paged
    sessions = sessions_of(sim, row["uuid"])
    if len({session["participant_uuid"] for session in sessions}) < 2:
        sessions = []  # the spec: "the API doesn't return results if there's only one participant in a meeting"
    page, next_token = page_of(sim, sessions, page_size=page_size, offset=offset)
    return json_response(
        200,
        {
            "page_count": -(-len(sessions) // page_size),
            "page_size": page_size,
            "total_records": len(sessions),
            "next_page_token": next_token,
            "participants": [_past_participant(sim, session) for session in page],
        },
    )


def _past_participant(sim, session: dict) -> dict:
    item = {
        # The spec: the participant's Zoom user id when they signed in, else blank.
        "id": session["zoom_user_id"],
        "name": session["name"],
        "user_email": session["email"] if session["in_account"] else "",
    }
    if sim.limits.past_participants_variant == "spec":
        return item
    item |= {"user_id": session["user_id"]}
    if session["registrant_id"]:
        item["registrant_id"] = session["registrant_id"]
    return item | {
        "join_time": session["join_time"],
        "leave_time": session["leave_time"],
        "duration": int(unix(session["leave_time"]) - unix(session["join_time"])),
        "failover": False,
        "status": "in_meeting",
        "internal_user": bool(session["in_account"]),
    }
