"""The identity platform (v2.0): the authorize endpoint with its sign-in and consent pages, and the token
endpoint (authorization code with PKCE, refresh token), answering and refusing as Microsoft does."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from simulators.common import Request, Response, esc, redirect, with_query
from simulators.microsoft.web import aad_error, page

CODE_SECONDS = 600  # "authorization codes are short lived ... about 10 minutes"
REFRESH_INACTIVE_SECONDS = 90 * 86400  # refresh tokens expire after 90 days without use
SIGNED_IN_COOKIE = "mssim_session"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
GRAPH_RESOURCE = "https://graph.microsoft.com/"
# The Graph permissions this simulator knows (delegated), by their canonical spelling.
GRAPH_SCOPES = (
    "User.Read",
    "OnlineMeetings.Read",
    "OnlineMeetings.ReadWrite",
    "Calendars.Read",
    "Calendars.ReadWrite",
)
DESCRIPTIONS = {
    "openid": "Sign you in",
    "profile": "View your basic profile",
    "email": "View your email address",
    "offline_access": "Maintain access to data you have given it access to",
    "User.Read": "Sign you in and read your profile",
    "OnlineMeetings.Read": "Read your online meetings",
    "OnlineMeetings.ReadWrite": "Read and create your online meetings",
    "Calendars.Read": "Read your calendars",
    "Calendars.ReadWrite": "Have full access to your calendars",
}


# --- scopes --------------------------------------------------------------------------------------------
def canonical_scope(scope: str) -> str | None:
    """A requested scope in its canonical spelling (any case, short or full Graph URI); None when unknown."""
    name = scope[len(GRAPH_RESOURCE) :] if scope.lower().startswith(GRAPH_RESOURCE) else scope
    for known in (*OIDC_SCOPES, *GRAPH_SCOPES):
        if known.lower() == name.lower():
            return known
    return None


def parse_scopes(text: str) -> tuple[list[str], list[str]]:
    """(known scopes in canonical spelling, unknown ones) of a space-separated scope parameter."""
    known, unknown = [], []
    for scope in (text or "").split():
        name = canonical_scope(scope)
        if name is None:
            unknown.append(scope)
        elif name not in known:
            known.append(name)
    return known, unknown


def granted_for(user: dict, requested: list[str]) -> list[str]:
    """What a grant holds: the requested permissions less those never granted to this user."""
    withheld = {scope.lower() for scope in (user["withheld_scopes"] or "").split()}
    return [scope for scope in requested if scope.lower() not in withheld]


# --- tenants, apps, people -----------------------------------------------------------------------------
def resolve_tenant(sim, name: str) -> str | None:
    """ "common"/"organizations"/"consumers", or the id of a known tenant (by id or domain); None if unknown."""
    if name in ("common", "organizations", "consumers"):
        return name
    row = sim.store.one("SELECT id FROM tenants WHERE lower(id) = lower(?) OR lower(domain) = lower(?)", (name, name))
    return row["id"] if row else None


def signed_in_user(sim, req: Request) -> dict | None:
    sid = req.cookies.get(SIGNED_IN_COOKIE)
    if not sid:
        return None
    row = sim.store.one("SELECT user_id FROM signins WHERE sid = ?", (sid,))
    return sim.store.one("SELECT * FROM users WHERE id = ?", (row["user_id"],)) if row else None


def error_page(code: int, message: str, status: int = 400) -> Response:
    return page(
        "Sign in",
        f'<h1>Sorry, but we\'re having trouble signing you in.</h1><p class="error">AADSTS{code}: {esc(message)}</p>',
        status=status,
    )


def _redirect_error(pending: dict, error: str, code: int, description: str) -> Response:
    return redirect(
        with_query(
            pending["redirect_uri"],
            {"error": error, "error_description": f"AADSTS{code}: {description}", "state": pending["state"] or None},
        )
    )


# --- authorize -----------------------------------------------------------------------------------------
def authorize(sim, req: Request, tenant: str) -> Response:
    q = req.query
    resolved = resolve_tenant(sim, tenant)
    if resolved is None:
        return error_page(90002, f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.")
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (q.get("client_id", ""),))
    if app is None:
        return error_page(
            700016,
            f"Application with identifier '{q.get('client_id', '')}' was not found in the directory. "
            "This can happen if the application has not been installed by the administrator of the tenant.",
        )
    if q.get("redirect_uri", "") not in app["redirect_uris"].split():
        return error_page(
            50011,
            f"The redirect URI '{q.get('redirect_uri', '')}' specified in the request does not match the "
            f"redirect URIs configured for the application '{app['client_id']}'.",
        )
    if resolved in ("common", "organizations") and not app["multi_tenant"]:
        return error_page(
            50194,
            f"Application '{app['client_id']}' is not configured as a multi-tenant application. Usage of the "
            "/common endpoint is not supported for such applications. Use a tenant-specific endpoint.",
        )
    pending = {
        "txn": secrets.token_urlsafe(16),
        "tenant": tenant,
        "client_id": app["client_id"],
        "redirect_uri": q["redirect_uri"],
        "state": q.get("state", ""),
        "code_challenge": q.get("code_challenge", ""),
        "code_challenge_method": q.get("code_challenge_method", "plain" if q.get("code_challenge") else ""),
        "prompt": q.get("prompt", ""),
    }
    if q.get("response_type") != "code":
        return _redirect_error(
            pending, "unsupported_response_type", 700054, "response_type is not enabled for the application."
        )
    if q.get("response_mode", "query") != "query":
        return _redirect_error(
            pending, "invalid_request", 900144, "This simulator answers codes with response_mode=query only."
        )
    if pending["code_challenge_method"] not in ("", "S256", "plain"):
        return _redirect_error(pending, "invalid_request", 50012, "Unsupported code_challenge_method.")
    requested, unknown = parse_scopes(q.get("scope", ""))
    if unknown:
        return _redirect_error(
            pending,
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid: {' '.join(unknown)}.",
        )
    if not requested:
        return _redirect_error(
            pending, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."
        )
    sim.store.run(
        "INSERT INTO pending (txn, tenant, client_id, redirect_uri, state, scopes, code_challenge, "
        "code_challenge_method, prompt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            pending["txn"],
            tenant,
            app["client_id"],
            pending["redirect_uri"],
            pending["state"],
            " ".join(requested),
            pending["code_challenge"],
            pending["code_challenge_method"],
            pending["prompt"],
            sim.clock.now(),
        ),
    )
    user = signed_in_user(sim, req)
    if pending["prompt"] == "none" and user is None:
        return _redirect_error(
            pending, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."
        )
    if user is None or pending["prompt"] in ("login", "select_account"):
        return signin_page(pending["txn"], tenant, login_hint=q.get("login_hint", ""))
    return after_signin(sim, _pending(sim, pending["txn"]), user)


def _pending(sim, txn: str) -> dict | None:
    row = sim.store.one("SELECT * FROM pending WHERE txn = ?", (txn,))
    if row and sim.clock.now() - row["created_at"] > 3600:
        return None
    return row


def signin_page(txn: str, tenant: str, *, login_hint: str = "", error: str = "") -> Response:
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return page(
        "Sign in",
        f"<h1>Sign in</h1>{message}"
        f'<form method="post" action="/{esc(tenant)}/login">'
        f'<input type="hidden" name="txn" value="{esc(txn)}">'
        f'<label for="email">Email</label><input id="email" type="email" name="email" value="{esc(login_hint)}" '
        'autocomplete="username" required>'
        '<label for="password">Password</label><input id="password" type="password" name="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form>',
    )


def signin(sim, req: Request, tenant: str) -> Response:
    form = req.form()
    pending = _pending(sim, form.get("txn", ""))
    if pending is None:
        return error_page(50058, "The sign-in request has expired or is unknown. Start again from the application.")
    user = sim.store.one("SELECT * FROM users WHERE upn = ?", (form.get("email", "").strip(),))
    if user is None or not secrets.compare_digest(user["password"], form.get("password", "")):
        return signin_page(
            pending["txn"],
            tenant,
            login_hint=form.get("email", ""),
            error="Your account or password is incorrect.",
        )
    sid = secrets.token_urlsafe(24)
    sim.store.run("INSERT INTO signins (sid, user_id, created_at) VALUES (?, ?, ?)", (sid, user["id"], sim.clock.now()))
    response = after_signin(sim, pending, user)
    return response.header("Set-Cookie", f"{SIGNED_IN_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax")


def after_signin(sim, pending: dict, user: dict) -> Response:
    """The tenant rule, then the consent page unless the person has consented to all that is asked."""
    resolved = resolve_tenant(sim, pending["tenant"])
    if resolved == "consumers":
        return error_page(
            50020,
            f"User account '{user['upn']}' is a work or school account; this endpoint takes personal accounts only.",
        )
    if resolved not in ("common", "organizations") and resolved != user["tenant_id"]:
        return error_page(
            50020,
            f"User account '{user['upn']}' from identity provider does not exist in tenant '{pending['tenant']}' "
            "and cannot access the application in that tenant.",
        )
    sim.store.run("UPDATE pending SET user_id = ? WHERE txn = ?", (user["id"], pending["txn"]))
    consent = sim.store.one(
        "SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?", (user["id"], pending["client_id"])
    )
    consented = set((consent or {}).get("scopes", "").split())
    asked = set(granted_for(user, pending["scopes"].split()))
    if consent is not None and asked <= consented and pending["prompt"] != "consent":
        return issue_code(sim, pending, user)
    if pending["prompt"] == "none":
        return _redirect_error(
            pending, "consent_required", 65001, "The user or administrator has not consented to use the application."
        )
    return consent_page(sim, pending, user)


def consent_page(sim, pending: dict, user: dict) -> Response:
    app = sim.store.one("SELECT name FROM apps WHERE client_id = ?", (pending["client_id"],))
    items = "".join(
        f'<li>{esc(DESCRIPTIONS.get(scope, scope))} <span class="muted">({esc(scope)})</span></li>'
        for scope in pending["scopes"].split()
    )
    return page(
        "Permissions requested",
        f"<h1>Permissions requested</h1><p>{esc(user['upn'])}</p>"
        f'<p><strong>{esc(app["name"])}</strong> would like to:</p><ul class="scopes">{items}</ul>'
        f'<form method="post" action="/{esc(pending["tenant"])}/oauth2/v2.0/consent">'
        f'<input type="hidden" name="txn" value="{esc(pending["txn"])}">'
        '<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>'
        '<button type="submit" name="decision" value="accept">Accept</button></form>',
    )


def decision(sim, req: Request, tenant: str) -> Response:
    form = req.form()
    pending = _pending(sim, form.get("txn", ""))
    if pending is None or not pending["user_id"]:
        return error_page(50058, "The sign-in request has expired or is unknown. Start again from the application.")
    sim.store.run("DELETE FROM pending WHERE txn = ?", (pending["txn"],))
    if form.get("decision") != "accept":
        return _redirect_error(pending, "access_denied", 65004, "User declined to consent to access the app.")
    user = sim.store.one("SELECT * FROM users WHERE id = ?", (pending["user_id"],))
    granted = set(granted_for(user, pending["scopes"].split()))
    with sim.store.lock:
        row = sim.store.one(
            "SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?", (user["id"], pending["client_id"])
        )
        scopes = " ".join(sorted(granted | set((row or {}).get("scopes", "").split())))
        sim.store.run(
            "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id, client_id) DO UPDATE SET scopes = excluded.scopes",
            (user["id"], pending["client_id"], scopes, sim.clock.now()),
        )
    return issue_code(sim, pending, user)


def issue_code(sim, pending: dict, user: dict) -> Response:
    code = "M.C5" + secrets.token_urlsafe(32)
    sim.store.run(
        "INSERT INTO codes (code, client_id, user_id, redirect_uri, scopes, code_challenge, code_challenge_method, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            code,
            pending["client_id"],
            user["id"],
            pending["redirect_uri"],
            " ".join(granted_for(user, pending["scopes"].split())),
            pending["code_challenge"],
            pending["code_challenge_method"],
            sim.clock.now() + CODE_SECONDS,
        ),
    )
    sim.store.run("DELETE FROM pending WHERE txn = ?", (pending["txn"],))
    return redirect(
        with_query(
            pending["redirect_uri"],
            {"code": code, "state": pending["state"] or None, "session_state": secrets.token_hex(16)},
        )
    )


def logout(sim, req: Request, tenant: str) -> Response:
    sid = req.cookies.get(SIGNED_IN_COOKIE)
    if sid:
        sim.store.run("DELETE FROM signins WHERE sid = ?", (sid,))
    target = req.query.get("post_logout_redirect_uri", "")
    response = redirect(target) if target else page("Signed out", "<h1>You signed out of your account</h1>")
    return response.header("Set-Cookie", f"{SIGNED_IN_COOKIE}=; Path=/; Max-Age=0")


# --- token ---------------------------------------------------------------------------------------------
def _client_credentials(req: Request, form: dict) -> tuple[str, str | None]:
    auth = req.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            return client_id, secret
        except (ValueError, UnicodeDecodeError):
            return "", None
    return form.get("client_id", ""), form.get("client_secret")


def token(sim, req: Request, tenant: str) -> Response:
    now = sim.clock.now()
    form = req.form()
    if resolve_tenant(sim, tenant) is None:
        return aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.", now=now)
    client_id, secret = _client_credentials(req, form)
    if not client_id:
        return _missing(now, "client_id")
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (client_id,))
    if app is None:
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            now=now,
        )
    if not secret:
        return aad_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            now=now,
        )
    if not secrets.compare_digest(secret, app["client_secret"]):
        return aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the "
            f"request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            now=now,
        )
    if app["secret_expired"]:
        return aad_error(
            401,
            "invalid_client",
            7000222,
            f"The provided client secret keys for app '{client_id}' are expired.",
            now=now,
        )
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        return _redeem_code(sim, form, app, now)
    if grant_type == "refresh_token":
        return _redeem_refresh(sim, form, app, now)
    if not grant_type:
        return _missing(now, "grant_type")
    return aad_error(
        400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'.", now=now
    )


def _missing(now: float, name: str) -> Response:
    return aad_error(
        400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'.", now=now
    )


def _pkce_matches(code: dict, verifier: str) -> bool:
    if not code["code_challenge"]:
        return True
    if not verifier:
        return False
    if code["code_challenge_method"] == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return secrets.compare_digest(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), code["code_challenge"])
    return secrets.compare_digest(verifier, code["code_challenge"])


def _redeem_code(sim, form: dict, app: dict, now: float) -> Response:
    if not form.get("code"):
        return _missing(now, "code")
    if not form.get("redirect_uri"):
        return _missing(now, "redirect_uri")
    with sim.store.lock:
        code = sim.store.one("SELECT * FROM codes WHERE code = ?", (form["code"],))
        if code is None:
            return aad_error(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", now=now
            )
        if code["used"]:
            return aad_error(
                400,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an "
                "existing refresh token.",
                now=now,
            )
        if code["expires_at"] <= now:
            return aad_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new "
                "interactive authorization request for this user and resource.",
                now=now,
            )
        if code["client_id"] != app["client_id"] or code["redirect_uri"] != form["redirect_uri"]:
            return aad_error(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.", now=now)
        if not _pkce_matches(code, form.get("code_verifier", "")):
            return aad_error(
                400,
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                now=now,
            )
        sim.store.run("UPDATE codes SET used = 1 WHERE code = ?", (code["code"],))
    user = sim.store.one("SELECT * FROM users WHERE id = ?", (code["user_id"],))
    return _tokens(sim, app, user, code["scopes"].split(), now)


def _redeem_refresh(sim, form: dict, app: dict, now: float) -> Response:
    if not form.get("refresh_token"):
        return _missing(now, "refresh_token")
    with sim.store.lock:
        row = sim.store.one("SELECT * FROM tokens WHERE token = ? AND kind = 'refresh'", (form["refresh_token"],))
        if row is None or row["client_id"] != app["client_id"]:
            return aad_error(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", now=now
            )
        if row["revoked"]:
            return aad_error(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
                now=now,
            )
        if row["expires_at"] <= now:
            return aad_error(
                400,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. The token was issued and was inactive for 90.00:00:00.",
                now=now,
            )
        consent = sim.store.one(
            "SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?", (row["user_id"], app["client_id"])
        )
        if consent is None:
            return aad_error(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID '{app['client_id']}' "
                f"named '{app['name']}'. Send an interactive authorization request for this user and resource.",
                now=now,
            )
        held = row["scopes"].split()
        scopes = held
        if form.get("scope"):
            requested, unknown = parse_scopes(form["scope"])
            beyond = [scope for scope in requested if scope not in held and scope not in OIDC_SCOPES]
            if unknown or beyond:
                return aad_error(
                    400,
                    "invalid_grant",
                    65001,
                    f"The user or administrator has not consented to use the application with ID "
                    f"'{app['client_id']}' named '{app['name']}' for {' '.join(unknown + beyond)}.",
                    now=now,
                )
            scopes = [scope for scope in requested if scope in held]
        if sim.store.get_setting("revoke_used_refresh_tokens", False):
            sim.store.run("UPDATE tokens SET revoked = 1 WHERE token = ?", (row["token"],))
    user = sim.store.one("SELECT * FROM users WHERE id = ?", (row["user_id"],))
    return _tokens(sim, app, user, scopes, now)


def _tokens(sim, app: dict, user: dict, scopes: list[str], now: float) -> Response:
    """The token answer: a new access token, and a new refresh token (offline_access) and id token (openid)."""
    lifetime = int(sim.store.get_setting("access_token_seconds", 3599))
    access = "mssim-at-" + secrets.token_urlsafe(32)
    answer = {
        "token_type": "Bearer",
        # Graph permissions first, then the OpenID ones; offline_access is not listed, as Microsoft's answers do.
        "scope": " ".join(scope for scope in scopes if scope != "offline_access"),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }
    rows = [(access, "access", app["client_id"], user["id"], " ".join(scopes), now + lifetime, now)]
    if "offline_access" in scopes:
        answer["refresh_token"] = "mssim-rt-" + secrets.token_urlsafe(48)
        rows.append(
            (
                answer["refresh_token"],
                "refresh",
                app["client_id"],
                user["id"],
                " ".join(scopes),
                now + REFRESH_INACTIVE_SECONDS,
                now,
            )
        )
    if "openid" in scopes:
        answer["id_token"] = id_token(sim, app, user, now, lifetime)
    for values in rows:
        sim.store.run(
            "INSERT INTO tokens (token, kind, client_id, user_id, scopes, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            values,
        )
    response = Response(200, json.dumps(answer).encode(), [("Content-Type", "application/json; charset=utf-8")])
    return response.header("Cache-Control", "no-store, no-cache").header("Pragma", "no-cache")


def id_token(sim, app: dict, user: dict, now: float, lifetime: int) -> str:
    """An unsigned ("alg": "none") but well-formed v2.0 ID token."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()

    claims = {
        "aud": app["client_id"],
        "iss": f"{sim.public_url}/{user['tenant_id']}/v2.0",
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + lifetime,
        "name": user["display_name"],
        "oid": user["id"],
        "preferred_username": user["upn"],
        "email": user["mail"] or user["upn"],
        "sub": hashlib.sha256(f"{user['id']}:{app['client_id']}".encode()).hexdigest()[:43],
        "tid": user["tenant_id"],
        "ver": "2.0",
    }
    return f"{part({'typ': 'JWT', 'alg': 'none'})}.{part(claims)}."
