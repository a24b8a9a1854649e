"""The admin JSON API under /_sim/: clock, state, people, the app, consents, tokens, meetings, throttling,
faults and the request log. For tests and `python -m simulators.microsoft ctl`; it has no authentication."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote

from simulators.common import AdminError, Request, Response, admin_body, json_response
from simulators.microsoft.seed import PASSWORD


def _user(sim, email: str) -> dict:
    user = sim.store.one("SELECT * FROM users WHERE upn = ?", (unquote(email),))
    if not user:
        raise AdminError(f"no user {email}", 404)
    return user


def clock(sim, req: Request) -> dict:
    if req.method == "POST":
        body = admin_body(req)
        if "freeze" in body:
            sim.clock.freeze(bool(body["freeze"]))
        if "advance_seconds" in body:
            sim.clock.advance(float(body["advance_seconds"]))
        if "offset_seconds" in body:
            sim.clock.set_offset(float(body["offset_seconds"]))
        if "now" in body:
            sim.clock.set_now(datetime.fromisoformat(body["now"]).timestamp())
    return {"now": sim.clock.now(), "offset_seconds": sim.clock.offset, "frozen": sim.clock.frozen_at is not None}


def state(sim, req: Request) -> dict:
    return {
        "users": users(sim, req)["users"],
        "apps": apps(sim, req)["apps"],
        "consents": consents(sim, req)["consents"],
        "meetings": meetings(sim, req)["meetings"],
        "settings": settings(sim, req),
    }


def reset(sim, req: Request) -> dict:
    sim.reset()
    return {"reset": True}


def users(sim, req: Request) -> dict:
    if req.method == "POST":
        body = admin_body(req)
        tenant = body.get("tenant_id") or sim.store.one("SELECT id FROM tenants ORDER BY id LIMIT 1")["id"]
        upn = body.get("email") or ""
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", upn):
            raise AdminError("email is required")
        name = body.get("display_name") or upn.split("@")[0]
        sim.store.run(
            "INSERT INTO users (id, tenant_id, upn, mail, password, display_name, given_name, surname, licensed, "
            "withheld_scopes) VALUES (lower(hex(randomblob(16))), ?, ?, ?, ?, ?, ?, '', ?, ?)",
            (tenant, upn, upn, body.get("password") or PASSWORD, name, name, int(body.get("licensed", True)), ""),
        )
    rows = sim.store.all("SELECT * FROM users ORDER BY upn")
    return {"users": [{key: value for key, value in row.items() if key != "password"} for row in rows]}


def edit_user(sim, req: Request, email: str) -> dict:
    """licensed (bool), withheld_scopes (permissions the person's grant never holds), mail, password."""
    user = _user(sim, email)
    body = admin_body(req)
    fields = {"licensed": int, "withheld_scopes": str, "mail": lambda value: value or None, "password": str}
    unknown = body.keys() - fields.keys()
    if unknown:
        raise AdminError(f"unknown fields {sorted(unknown)}")
    for name, convert in fields.items():
        if name in body:
            sim.store.run(f"UPDATE users SET {name} = ? WHERE id = ?", (convert(body[name]), user["id"]))
    return {key: value for key, value in _user(sim, email).items() if key != "password"}


def apps(sim, req: Request) -> dict:
    return {"apps": sim.store.all("SELECT * FROM apps ORDER BY client_id")}


def edit_app(sim, req: Request, client_id: str) -> dict:
    """redirect_uris (a list), client_secret, secret_expired (bool), multi_tenant (bool)."""
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (client_id,))
    if not app:
        raise AdminError(f"no app {client_id}", 404)
    body = admin_body(req)
    if "redirect_uris" in body:
        sim.store.run(
            "UPDATE apps SET redirect_uris = ? WHERE client_id = ?", (" ".join(body["redirect_uris"]), client_id)
        )
        if client_id == sim.client_id:
            sim.redirect_uris = tuple(body["redirect_uris"])  # kept by a reset
    for name in ("client_secret", "secret_expired", "multi_tenant"):
        if name in body:
            value = body[name] if name == "client_secret" else int(bool(body[name]))
            sim.store.run(f"UPDATE apps SET {name} = ? WHERE client_id = ?", (value, client_id))
    return sim.store.one("SELECT * FROM apps WHERE client_id = ?", (client_id,))


def consents(sim, req: Request) -> dict:
    rows = sim.store.all(
        "SELECT u.upn AS email, c.client_id, c.scopes, c.granted_at FROM consents c JOIN users u ON u.id = c.user_id "
        "ORDER BY u.upn"
    )
    return {"consents": rows}


def revoke_consent(sim, req: Request, email: str) -> dict:
    """Withdraw the person's consent to the app (as removing it at myapps.microsoft.com does): its refresh
    tokens stop working; access tokens already issued last until they expire, as Microsoft's do."""
    user = _user(sim, email)
    client_id = req.query.get("client_id") or sim.client_id
    removed = sim.store.run("DELETE FROM consents WHERE user_id = ? AND client_id = ?", (user["id"], client_id))
    return {"revoked": bool(removed)}


def expire_tokens(sim, req: Request) -> dict:
    """Expire the access tokens of a person ({"email"}), or of everyone."""
    email = admin_body(req).get("email")
    if email:
        count = sim.store.run(
            "UPDATE tokens SET expires_at = ? WHERE kind = 'access' AND user_id = ?",
            (sim.clock.now(), _user(sim, email)["id"]),
        )
    else:
        count = sim.store.run("UPDATE tokens SET expires_at = ? WHERE kind = 'access'", (sim.clock.now(),))
    return {"expired": count}


def meetings(sim, req: Request) -> dict:
    rows = sim.store.all(
        "SELECT m.*, u.upn AS organizer FROM meetings m JOIN users u ON u.id = m.user_id ORDER BY m.created_at, m.id"
    )
    return {"meetings": rows}


def delete_meeting(sim, req: Request, meeting_id: str) -> dict:
    """Delete a meeting "in Teams" (by hand, behind the site's back)."""
    if not sim.store.run("UPDATE meetings SET deleted = 1 WHERE id = ?", (unquote(meeting_id),)):
        raise AdminError(f"no meeting {meeting_id}", 404)
    return {"deleted": True}


def throttle(sim, req: Request) -> dict:
    if req.method == "POST":
        try:
            sim.throttle.configure(admin_body(req))
        except (TypeError, ValueError) as exc:
            raise AdminError(str(exc)) from exc
    return sim.throttle.as_dict()


def faults(sim, req: Request) -> dict:
    try:
        if req.method == "POST":
            sim.faults.configure(admin_body(req))
        elif req.method == "DELETE":
            sim.faults.clear()
    except (TypeError, ValueError) as exc:
        raise AdminError(str(exc)) from exc
    return sim.faults.as_dict()


def queue_fault(sim, req: Request) -> dict:
    body = admin_body(req)
    try:
        sim.faults.enqueue(body.get("route", ""), body.get("fault", ""), int(body.get("count", 1)))
    except (TypeError, ValueError) as exc:
        raise AdminError(str(exc)) from exc
    return sim.faults.as_dict()


def requests_log(sim, req: Request) -> dict:
    if req.method == "DELETE":
        sim.request_log.clear()
        return {"requests": []}
    return {"requests": sim.request_log.since(int(req.query.get("since", 0)))}


def settings(sim, req: Request) -> dict:
    """revoke_used_refresh_tokens (default false: Microsoft keeps a used refresh token valid),
    access_token_seconds (default 3599)."""
    if req.method == "POST":
        body = admin_body(req)
        if "revoke_used_refresh_tokens" in body:
            sim.store.set_setting("revoke_used_refresh_tokens", bool(body["revoke_used_refresh_tokens"]))
        if "access_token_seconds" in body:
            sim.store.set_setting("access_token_seconds", int(body["access_token_seconds"]))
    return {
        "revoke_used_refresh_tokens": sim.store.get_setting("revoke_used_refresh_tokens", False),
        "access_token_seconds": sim.store.get_setting("access_token_seconds", 3599),
    }


ROUTES = [
    (("GET", "POST"), r"/_sim/clock", clock),
    ("GET", r"/_sim/state", state),
    ("POST", r"/_sim/reset", reset),
    (("GET", "POST"), r"/_sim/users", users),
    ("PATCH", r"/_sim/users/(?P<email>[^/]+)", edit_user),
    ("GET", r"/_sim/apps", apps),
    ("PATCH", r"/_sim/apps/(?P<client_id>[^/]+)", edit_app),
    ("GET", r"/_sim/consents", consents),
    ("DELETE", r"/_sim/consents/(?P<email>[^/]+)", revoke_consent),
    ("POST", r"/_sim/tokens/expire", expire_tokens),
    ("GET", r"/_sim/meetings", meetings),
    ("DELETE", r"/_sim/meetings/(?P<meeting_id>[^/]+)", delete_meeting),
    (("GET", "POST"), r"/_sim/throttle", throttle),
    (("GET", "POST", "DELETE"), r"/_sim/faults", faults),
    ("POST", r"/_sim/faults/queue", queue_fault),
    (("GET", "DELETE"), r"/_sim/requests", requests_log),
    (("GET", "POST"), r"/_sim/settings", settings),
]


def run(sim, req: Request, view, kwargs) -> Response:
    try:
        return json_response(200, view(sim, req, **kwargs))
    except AdminError as exc:
        return json_response(exc.status, {"error": str(exc)})
