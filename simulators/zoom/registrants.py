"""Meeting registrants: one join link per person (POST registrants, batch_registrants, GET list, PUT status).

Zoom's rules, from zoom-api.md and the OpenAPI spec: only a meeting that requires registration
(`settings.approval_type` 0 or 1) takes registrants, only when its host is licensed, at most 4,999 of them.
Each registrant has their own `join_url` carrying a token (`/w/<id>?tk=..`); a participant who joins through it
carries the `registrant_id`. Emails are never sent: the simulator records the ones Zoom would have sent, so a
test can check that the switches (`registrants_confirmation_email`, `registrants_email_notification`) work.
"""

from __future__ import annotations

import json
import re
import secrets

from simulators.zoom.meetings import error, find_meeting, iso, page_of, paging, validation_failed
from simulators.zoom.web import Request, Response, empty_response, json_response, with_query

LICENSED_TYPES = (2, 3)  # Licensed, On-prem; Basic (1) and None (99) may not take registrants
BATCH_MAX = 30
STATUS_MAX = 30
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A cancelled registration is kept (its link stops working) and listed among the denied ones.
LISTED_AS = {"approved": "approved", "pending": "pending", "denied": "denied", "cancelled": "denied"}
ACTIONS = {"approve": "approved", "deny": "denied", "cancel": "cancelled"}
# Optional registrant fields the spec lists; kept and returned as given.
DETAIL_FIELDS = (
    "address",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "comments",
    "industry",
    "job_title",
    "no_of_employees",
    "org",
    "purchasing_time_frame",
    "role_in_purchase_process",
    "language",
)


class CapacityReached(Exception):
    pass


def settings_of(meeting: dict) -> dict:
    return json.loads(meeting["settings"])


def requires_registration(meeting: dict) -> bool:
    return settings_of(meeting).get("approval_type", 2) in (0, 1)


def join_url(sim, meeting: dict, registrant: dict) -> str:
    return with_query(
        f"{sim.public_url}/w/{meeting['id']}", {"tk": registrant["token"], "pwd": meeting["encrypted_password"]}
    )


def find_by_email(sim, meeting_id: int, email: str) -> dict | None:
    return sim.store.one(
        "SELECT * FROM registrants WHERE meeting_id = ? AND email = ? COLLATE NOCASE", (meeting_id, email)
    )


def count(sim, meeting_id: int) -> int:
    return sim.store.one("SELECT count(*) AS n FROM registrants WHERE meeting_id = ?", (meeting_id,))["n"]


def register(
    sim, meeting: dict, person: dict, *, source: str, auto_approve: bool = False, confirmation_email: bool | None = None
) -> tuple[dict, bool]:
    """Add one registrant (or find the one with that email); returns (registrant row, created).

    The caller holds the store lock. Raises CapacityReached at the meeting's limit.
    """
    existing = find_by_email(sim, meeting["id"], person["email"])
    if existing:
        # The spec is silent; Zoom answers a repeated email with the registration it already has.
        return existing, False
    if count(sim, meeting["id"]) >= sim.limits.max_registrants:
        raise CapacityReached
    settings = settings_of(meeting)
    status = "approved" if settings.get("approval_type") == 0 or auto_approve else "pending"
    row = {
        "id": secrets.token_urlsafe(16)[:22],
        "meeting_id": meeting["id"],
        "email": person["email"],
        "first_name": person["first_name"],
        "last_name": person.get("last_name", ""),
        "status": status,
        "token": secrets.token_urlsafe(32),
        "source": source,
        "details": json.dumps({key: person[key] for key in DETAIL_FIELDS if key in person}),
        "created_at": iso(sim.clock.now()),
    }
    sim.store.run(
        f"INSERT INTO registrants ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
    )
    if _sends_confirmation(settings, confirmation_email):
        record_email(sim, row, "confirmation")
    return row, True


def _sends_confirmation(settings: dict, batch_flag: bool | None) -> bool:
    """Zoom's switches: a batch body's `registrants_confirmation_email` decides for that batch; otherwise the
    meeting's `registrants_email_notification` (the master switch) and `registrants_confirmation_email`."""
    if batch_flag is not None:
        return bool(batch_flag)
    return bool(
        settings.get("registrants_email_notification", True) and settings.get("registrants_confirmation_email", True)
    )


def record_email(sim, registrant: dict, kind: str) -> None:
    """An email Zoom would have sent to the registrant (confirmation, approved, cancelled, denied)."""
    sim.store.run(
        "INSERT INTO registrant_emails (meeting_id, registrant_id, email, kind, sent_at) VALUES (?, ?, ?, ?, ?)",
        (registrant["meeting_id"], registrant["id"], registrant["email"], kind, iso(sim.clock.now())),
    )


def set_status(sim, meeting: dict, registrant: dict, action: str) -> None:
    status = ACTIONS[action]
    if registrant["status"] == status:
        return
    sim.store.run("UPDATE registrants SET status = ? WHERE id = ?", (status, registrant["id"]))
    if settings_of(meeting).get("registrants_email_notification", True):
        record_email(sim, registrant, status)


# --- checks shared by the four calls --------------------------------------------


def _meeting(sim, meeting_id: str, user: dict, *, action: str, adding: bool):
    """The meeting, or Zoom's error: not found, not the host, unlicensed host, registration off, meeting over."""
    meeting = find_meeting(sim, meeting_id, user, action)
    if isinstance(meeting, Response):
        return meeting
    if user["type"] not in LICENSED_TYPES:
        return error(400, 200, f"Only available for Paid user: {user['id']}.")
    if not requires_registration(meeting):
        if adding:
            return error(404, 404, f"Registration has not been enabled for this meeting: {meeting['id']}.")
        return error(400, 300, f"This meeting has not set registration as required: {meeting['id']}.")
    if adding and meeting["phase"] == "ended":
        return error(
            400,
            3038,
            "Meeting is over, you can not register now. If you have any questions, please contact the Meeting host.",
        )
    return meeting


def _person(value, field: str) -> tuple[dict, list[dict]]:
    """A registrant body: email and first_name required; lengths and types as the spec gives them."""
    if not isinstance(value, dict):
        return {}, [{"field": field, "message": "A registrant must be an object."}]
    errors = []
    email, first, last = value.get("email"), value.get("first_name"), value.get("last_name", "")
    if not isinstance(email, str) or not EMAIL.match(email) or len(email) > 128:
        errors.append({"field": f"{field}.email", "message": "Invalid field: a valid email of at most 128 characters."})
    if not isinstance(first, str) or not first.strip() or len(first) > 64:
        errors.append(
            {
                "field": f"{field}.first_name",
                "message": "Invalid field: a first name of 1 to 64 characters is required.",
            }
        )
    if not isinstance(last, str) or len(last) > 64:
        errors.append({"field": f"{field}.last_name", "message": "Invalid field: at most 64 characters."})
    for key in DETAIL_FIELDS:
        if key in value and not isinstance(value[key], str):
            errors.append({"field": f"{field}.{key}", "message": "Invalid field: must be a string."})
    return value, errors


def person_from_form(form: dict) -> tuple[dict, str]:
    """The registration page's fields as a registrant body, and one message for the page when they are wrong."""
    person = {
        "email": form.get("email", ""),
        "first_name": form.get("first_name", ""),
        "last_name": form.get("last_name", ""),
    }
    _, errors = _person(person, "registrant")
    return person, " ".join(error["message"] for error in errors)


def _body(req: Request):
    try:
        body = req.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# --- handlers ---------------------------------------------------------------------


def create(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    """POST /meetings/{id}/registrants -> 201 {id, registrant_id, topic, start_time, join_url}."""
    with sim.store.lock:
        meeting = _meeting(sim, meeting_id, user, action="registrants", adding=True)
        if isinstance(meeting, Response):
            return meeting
        body = _body(req)
        if body is None:
            return error(400, 300, "Request Body should be a valid JSON object.")
        person, errors = _person(body, "registrant")
        auto_approve = body.get("auto_approve", False)
        if not isinstance(auto_approve, bool):
            errors.append({"field": "auto_approve", "message": "Invalid field: must be true or false."})
        if errors:
            return validation_failed(errors)
        try:
            registrant, _ = register(sim, meeting, person, source="api", auto_approve=auto_approve)
        except CapacityReached:
            return error(400, 3043, "Meeting has reached maximum attendee capacity.")
    answer = {
        "id": meeting["id"],
        "registrant_id": registrant["id"],
        "topic": meeting["topic"],
        "start_time": meeting["start_time"],
    }
    if registrant["status"] == "approved":
        # The spec: no join_url while the registration awaits the host's approval.
        answer["join_url"] = join_url(sim, meeting, registrant)
    return json_response(201, answer)


def batch(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    """POST /meetings/{id}/batch_registrants: up to 30 at once -> 200 {registrants: [{email, registrant_id, join_url}]}."""
    with sim.store.lock:
        meeting = _meeting(sim, meeting_id, user, action="batch_registrants", adding=True)
        if isinstance(meeting, Response):
            return meeting
        if meeting["type"] != 2:
            return error(
                400,
                303,
                "This API can only be used for scheduled meeting(meeting type: 2). Batch "
                "registration is not supported for other meeting types.",
            )
        body = _body(req)
        if body is None:
            return error(400, 300, "Request Body should be a valid JSON object.")
        people, errors = _batch_people(body)
        if errors:
            return validation_failed(errors)
        new_emails = {p["email"].lower() for p in people if not find_by_email(sim, meeting["id"], p["email"])}
        if count(sim, meeting["id"]) + len(new_emails) > sim.limits.max_registrants:
            # Nothing is registered when the batch does not fit.
            return error(404, 3043, "Meeting has reached maximum attendee capacity.")
        confirmation = body.get("registrants_confirmation_email")
        answers = []
        for person in people:
            registrant, _ = register(
                sim,
                meeting,
                person,
                source="batch",
                auto_approve=body.get("auto_approve", False),
                confirmation_email=confirmation,
            )
            entry = {"email": registrant["email"], "registrant_id": registrant["id"]}
            if registrant["status"] == "approved":
                entry["join_url"] = join_url(sim, meeting, registrant)
            answers.append(entry)
    return json_response(200, {"registrants": answers})


def _batch_people(body: dict) -> tuple[list[dict], list[dict]]:
    errors = []
    for key in ("auto_approve", "registrants_confirmation_email"):
        if key in body and not isinstance(body[key], bool):
            errors.append({"field": key, "message": "Invalid field: must be true or false."})
    people = body.get("registrants")
    if not isinstance(people, list) or not people:
        return [], errors + [{"field": "registrants", "message": "Invalid field: a list of 1 to 30 registrants."}]
    if len(people) > BATCH_MAX:
        return [], errors + [
            {"field": "registrants", "message": f"A batch can register at most {BATCH_MAX} registrants."}
        ]
    checked = []
    for index, value in enumerate(people):
        person, person_errors = _person(value, f"registrants[{index}]")
        errors.extend(person_errors)
        checked.append(person)
    return checked, errors


def list_registrants(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    """GET /meetings/{id}/registrants?status=approved|pending|denied&page_size&next_page_token (paged)."""
    meeting = _meeting(sim, meeting_id, user, action="registrants", adding=False)
    if isinstance(meeting, Response):
        return meeting
    status = req.query.get("status", "approved")
    if status not in ("approved", "pending", "denied"):
        return validation_failed([{"field": "status", "message": f"Invalid field: {status}."}])
    paged = paging(sim, req)
    if isinstance(paged, Response):
        return paged
    page_size, offset = paged
    rows = [
        row
        for row in sim.store.all("SELECT * FROM registrants WHERE meeting_id = ? ORDER BY rowid", (meeting["id"],))
        if LISTED_AS[row["status"]] == status
    ]
    page, next_token = page_of(sim, rows, page_size=page_size, offset=offset)
    return json_response(
        200,
        {
            "page_size": page_size,
            "page_count": -(-len(rows) // page_size),
            "total_records": len(rows),
            "next_page_token": next_token,
            "registrants": [registrant_object(sim, meeting, row) for row in page],
        },
    )


def registrant_object(sim, meeting: dict, row: dict) -> dict:
    obj = {
        "id": row["id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        **{key: "" for key in DETAIL_FIELDS if key != "language"},
        **json.loads(row["details"]),
        "custom_questions": [],
        "status": LISTED_AS[row["status"]],
        "create_time": row["created_at"],
    }
    if row["status"] == "approved":
        obj["join_url"] = join_url(sim, meeting, row)
    return obj


def update_status(sim, req: Request, *, user: dict, app: dict, meeting_id: str) -> Response:
    """PUT /meetings/{id}/registrants/status {action: approve|cancel|deny, registrants: [{id, email}]} -> 204."""
    with sim.store.lock:
        meeting = _meeting(sim, meeting_id, user, action="registrants", adding=False)
        if isinstance(meeting, Response):
            return meeting
        body = _body(req)
        if body is None:
            return error(400, 300, "Request Body should be a valid JSON object.")
        action, targets = body.get("action"), body.get("registrants")
        errors = []
        if action not in ACTIONS:
            errors.append({"field": "action", "message": "Invalid field: one of approve, cancel, deny."})
        if not isinstance(targets, list) or not 1 <= len(targets) <= STATUS_MAX:
            errors.append(
                {"field": "registrants", "message": f"Invalid field: a list of 1 to {STATUS_MAX} registrants."}
            )
        if errors:
            return validation_failed(errors)
        found = []
        for target in targets:
            registrant = _target(sim, meeting, target)
            if not registrant:
                # Nothing changes when one of them is unknown.
                return error(404, 404, "Meeting or registrant not found.")
            found.append(registrant)
        for registrant in found:
            set_status(sim, meeting, registrant, action)
    return empty_response(204)


def _target(sim, meeting: dict, target) -> dict | None:
    if not isinstance(target, dict):
        return None
    if isinstance(target.get("id"), str) and target["id"]:
        return sim.store.one("SELECT * FROM registrants WHERE id = ? AND meeting_id = ?", (target["id"], meeting["id"]))
    if isinstance(target.get("email"), str) and target["email"]:
        return find_by_email(sim, meeting["id"], target["email"])
    return None
