"""The pages behind join_url (/j/<id>?pwd=) and start_url (/s/<id>?zak=)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from zoomsim.meetings import UTC_FORMAT
from zoomsim.web import Request, Response, esc, page


def _when(meeting: dict) -> str:
    start = datetime.strptime(meeting["start_time"], UTC_FORMAT).replace(tzinfo=UTC)
    local = start.astimezone(ZoneInfo(meeting["timezone"]))
    return (f"{local:%A %d %B %Y, %H:%M} ({esc(meeting['timezone'])}) · {start:%H:%M} UTC · "
            f"{meeting['duration']} minutes")


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
        return page("Invalid meeting", "<h1>This meeting link is invalid</h1>"
                    '<p class="error">The meeting ID is not valid or the meeting was deleted. (3001)</p>', status=404)
    if not hmac.compare_digest(req.query.get("pwd", ""), meeting["encrypted_password"]):
        return page("Passcode", "<h1>Meeting passcode required</h1>"
                    '<p class="error">The passcode in this link is wrong or missing.</p>', status=403)
    body = f"<h1>You joined the meeting as an attendee</h1>{_details(meeting, 'Attendee', '')}"
    return page(f"Joined {meeting['topic']}", body)


def start(sim, req: Request, meeting_id: str) -> Response:
    meeting = _meeting(sim, meeting_id)
    if not meeting:
        return page("Invalid meeting", "<h1>This meeting link is invalid</h1>"
                    '<p class="error">The meeting ID is not valid or the meeting was deleted. (3001)</p>', status=404)
    zak = sim.store.one("SELECT * FROM zaks WHERE token = ? AND meeting_id = ?",
                        (req.query.get("zak", ""), meeting["id"]))
    if not zak or zak["user_id"] != meeting["host_id"]:
        return page("Cannot start", "<h1>You cannot start this meeting</h1>"
                    '<p class="error">This start link is not valid for this meeting.</p>', status=403)
    if zak["expires_at"] <= sim.clock.now():
        return page("Link expired", "<h1>This start link has expired</h1>"
                    '<p class="error">Start links are valid for 2 hours. Open the meeting again from the app to get '
                    "a fresh one.</p>", status=403)
    host = sim.store.one("SELECT * FROM users WHERE id = ?", (meeting["host_id"],))
    who = f"{host['first_name']} {host['last_name']} ({host['email']})"
    body = f"<h1>You started the meeting as the host</h1>{_details(meeting, 'Host', who)}"
    return page(f"Hosting {meeting['topic']}", body)
