"""The pages behind join_url (/j/<id>?pwd=), a registrant's join_url (/w/<id>?tk=), registration_url
(/meeting/register/<token>) and start_url (/s/<id>?zak=)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from simulators.zoom import registrants
from simulators.zoom.meetings import UTC_FORMAT, registration_token
from simulators.zoom.web import Request, Response, esc, page, redirect


def _when(meeting: dict) -> str:
    start = datetime.strptime(meeting["start_time"], UTC_FORMAT).replace(tzinfo=UTC)
    local = start.astimezone(ZoneInfo(meeting["timezone"]))
    return (
        f"{local:%A %d %B %Y, %H:%M} ({esc(meeting['timezone'])}) · {start:%H:%M} UTC · {meeting['duration']} minutes"
    )


def _meeting(sim, meeting_id: str) -> dict | None:
    if not (meeting_id.isdigit() and len(meeting_id) <= 18):
        return None
    return sim.store.one("SELECT * FROM meetings WHERE id = ? AND deleted = 0", (int(meeting_id),))


def _details(meeting: dict, role: str, who: str) -> str:
    return (
        f"<dl><dt>Meeting</dt><dd>{esc(meeting['topic'])}</dd>"
        f"<dt>Meeting ID</dt><dd>{meeting['id']}</dd>"
        f"<dt>When</dt><dd>{_when(meeting)}</dd>"
        f"<dt>You are</dt><dd>{esc(role)}{' · ' + esc(who) if who else ''}</dd></dl>"
    )


def join(sim, req: Request, meeting_id: str) -> Response:
    meeting = _meeting(sim, meeting_id)
    if not meeting:
        return _invalid()
    if not hmac.compare_digest(req.query.get("pwd", ""), meeting["encrypted_password"]):
        return _wrong_passcode()
    if registrants.requires_registration(meeting):
        # Zoom shows its registration form to anyone using the shared link of such a meeting.
        return _registration_page(meeting)
    body = f"<h1>You joined the meeting as an attendee</h1>{_details(meeting, 'Attendee', '')}"
    return page(f"Joined {meeting['topic']}", body)


def _wrong_passcode() -> Response:
    return page(
        "Passcode",
        '<h1>Meeting passcode required</h1><p class="error">The passcode in this link is wrong or missing.</p>',
        status=403,
    )


def _invalid() -> Response:
    return page(
        "Invalid meeting",
        "<h1>This meeting link is invalid</h1>"
        '<p class="error">The meeting ID is not valid or the meeting was deleted. (3001)</p>',
        status=404,
    )


def join_registrant(sim, req: Request, meeting_id: str) -> Response:
    """A registrant's own join_url: it names the person it belongs to and works only while they are approved."""
    meeting = _meeting(sim, meeting_id)
    if not meeting:
        return _invalid()
    registrant = sim.store.one(
        "SELECT * FROM registrants WHERE token = ? AND meeting_id = ?", (req.query.get("tk", ""), meeting["id"])
    )
    if not registrant:
        return page(
            "Invalid link",
            "<h1>This registration link is invalid</h1>"
            '<p class="error">The link does not belong to a registration for this meeting.</p>',
            status=403,
        )
    if not hmac.compare_digest(req.query.get("pwd", ""), meeting["encrypted_password"]):
        return _wrong_passcode()
    if registrant["status"] == "pending":
        return page(
            "Pending approval",
            "<h1>Your registration is pending approval</h1>"
            '<p class="error">The host has not approved your registration yet.</p>',
            status=403,
        )
    if registrant["status"] != "approved":
        return page(
            "Registration cancelled",
            "<h1>Your registration was cancelled</h1>"
            '<p class="error">The host cancelled or denied your registration for this meeting.</p>',
            status=403,
        )
    who = f"{registrant['first_name']} {registrant['last_name']}".strip() + f" ({registrant['email']})"
    body = (
        f"<h1>You joined the meeting as a registrant</h1>{_details(meeting, 'Registrant', who)}"
        f'<p class="muted">Registrant ID {esc(registrant["id"])}</p>'
    )
    return page(f"Joined {meeting['topic']}", body)


def _registration_page(meeting: dict, *, error: str = "", values: dict | None = None, status: int = 200) -> Response:
    values = values or {}
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    fields = "".join(
        f'<label for="{name}">{label}</label><input id="{name}" name="{name}" type="{kind}"'
        f' value="{esc(values.get(name, ""))}"{" required" if required else ""}>'
        for name, label, kind, required in (
            ("first_name", "First Name", "text", True),
            ("last_name", "Last Name", "text", False),
            ("email", "Email Address", "email", True),
        )
    )
    body = (
        f"<h1>Meeting Registration</h1>{_details(meeting, 'Not registered yet', '')}{message}"
        f'<form method="post" action="/meeting/register/{esc(registration_token(meeting))}">{fields}'
        '<button type="submit">Register</button></form>'
    )
    return page(f"Register for {meeting['topic']}", body, status=status)


def _meeting_by_registration_token(sim, token: str) -> dict | None:
    for meeting in sim.store.all("SELECT * FROM meetings WHERE deleted = 0"):
        if hmac.compare_digest(registration_token(meeting), token) and registrants.requires_registration(meeting):
            return meeting
    return None


def registration_form(sim, req: Request, token: str) -> Response:
    meeting = _meeting_by_registration_token(sim, token)
    return _registration_page(meeting) if meeting else _invalid()


def register(sim, req: Request, token: str) -> Response:
    """Zoom's registration form: registers the person (source "form"), then sends them to their own link."""
    meeting = _meeting_by_registration_token(sim, token)
    if not meeting:
        return _invalid()
    form = {key: value.strip() for key, value in req.form().items()}
    person, errors = registrants.person_from_form(form)
    if errors:
        return _registration_page(meeting, error=errors, values=form, status=400)
    with sim.store.lock:
        try:
            registrant, _ = registrants.register(sim, meeting, person, source="form")
        except registrants.CapacityReached:
            return _registration_page(meeting, error="Meeting has reached maximum attendee capacity.", status=400)
    if registrant["status"] != "approved":
        return page(
            "Registered", "<h1>Thank you for registering</h1><p>Your registration is pending the host's approval.</p>"
        )
    return redirect(registrants.join_url(sim, meeting, registrant))


def start(sim, req: Request, meeting_id: str) -> Response:
    meeting = _meeting(sim, meeting_id)
    if not meeting:
        return _invalid()
    zak = sim.store.one(
        "SELECT * FROM zaks WHERE token = ? AND meeting_id = ?", (req.query.get("zak", ""), meeting["id"])
    )
    if not zak or zak["user_id"] != meeting["host_id"]:
        return page(
            "Cannot start",
            '<h1>You cannot start this meeting</h1><p class="error">This start link is not valid for this meeting.</p>',
            status=403,
        )
    if zak["expires_at"] <= sim.clock.now():
        return page(
            "Link expired",
            "<h1>This start link has expired</h1>"
            '<p class="error">Start links are valid for 2 hours. Open the meeting again from the app to get '
            "a fresh one.</p>",
            status=403,
        )
    host = sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))
    who = f"{host['first_name']} {host['last_name']} ({host['email']})"
    body = f"<h1>You started the meeting as the host</h1>{_details(meeting, 'Host', who)}"
    return page(f"Hosting {meeting['topic']}", body)
