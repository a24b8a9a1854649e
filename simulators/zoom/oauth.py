"""Zoom's OAuth host: sign-in and consent pages, the token endpoint, revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from simulators.zoom.web import Request, Response, esc, json_response, page, redirect, with_query

CODE_LIFETIME = 5 * 60
ACCESS_LIFETIME = 3600
ACCESS_EXPIRES_IN = 3599
REFRESH_LIFETIME = 90 * 24 * 3600
SIGNIN_COOKIE = "zsim_signin"

INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
INVALID_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}
UNSUPPORTED_GRANT = {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}
# zoom-api.md gives no body for an account_id the app does not belong to: Zoom's token endpoint
# answers an invalid request in its own shape, naming the parameter.
INVALID_ACCOUNT = {"reason": "Invalid account_id", "error": "invalid_request"}


def _error_page(message: str, *, status: int = 400, sim=None, user=None, back: str = "") -> Response:
    body = f'<h1>Something went wrong</h1><p class="error">{esc(message)}</p>'
    if user:
        body += (
            f'<p class="muted">Signed in as {esc(user["email"])}. <a href="{esc(_sign_out_url(back))}">Sign out</a>'
            " and sign in as another user.</p>"
        )
    return page("Error", body, status=status)


def _sign_out_url(back: str) -> str:
    return "/logout" + (f"?{urlencode({'next': back})}" if back else "")


def signed_in_user(sim, req: Request) -> dict | None:
    sid = req.cookies.get(SIGNIN_COOKIE)
    if not sid:
        return None
    return sim.store.one("SELECT users.* FROM signins JOIN users ON users.id = signins.user_id WHERE sid = ?", (sid,))


def _authorize_url(req: Request) -> str:
    return "/oauth/authorize?" + urlencode(req.query)


def authorize(sim, req: Request) -> Response:
    """GET /oauth/authorize: validate the app and redirect URL, then sign in, then ask for consent."""
    q = req.query
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (q.get("client_id", ""),))
    if not app:
        return _error_page("Invalid client_id: this app does not exist or was removed. (4700)")
    if q.get("redirect_uri", "") != app["redirect_uri"]:
        return _error_page("Invalid redirect: the redirect URL does not match the app's OAuth Redirect URL. (4700)")
    if q.get("response_type") != "code":
        return _error_page("Invalid response_type: only 'code' is supported.")
    if q.get("scope"):
        return _error_page("Invalid scope: scopes are set on the app in the Marketplace, not in the URL. (4700)")
    if q.get("code_challenge") and q.get("code_challenge_method", "plain") != "S256":
        return _error_page("Invalid code_challenge_method: only S256 is supported.")
    user = signed_in_user(sim, req)
    if not user:
        return _signin_page(_authorize_url(req))
    back = _authorize_url(req)
    if not app["published"] and user["account_id"] != app["account_id"]:
        return _error_page(
            "This app has not been published: it can only be authorized by users of the account that created it. "
            "Ask the app's developer to publish it, or sign in with a user of that account.",
            status=403,
            user=user,
            back=back,
        )
    txn = secrets.token_urlsafe(24)
    sim.store.run(
        "INSERT INTO consents (txn, user_id, client_id, redirect_uri, state, code_challenge, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            txn,
            user["id"],
            app["client_id"],
            q["redirect_uri"],
            q.get("state", ""),
            q.get("code_challenge", ""),
            sim.clock.now(),
        ),
    )
    scopes = "".join(f"<li>{esc(scope)}</li>" for scope in app["scopes"].split())
    body = (
        f"<h1>{esc(app['name'])} would like to access your Zoom account</h1>"
        f'<p class="muted">Signed in as {esc(user["first_name"])} {esc(user["last_name"])} ({esc(user["email"])}).</p>'
        f'<p>The app will be allowed to:</p><ul class="scopes">{scopes}</ul>'
        '<form method="post" action="/oauth/authorize/decision">'
        f'<input type="hidden" name="txn" value="{esc(txn)}">'
        '<button type="submit" name="decision" value="allow">Allow</button> '
        '<button type="submit" name="decision" value="decline" class="secondary">Decline</button></form>'
    )
    return page("Authorize app", body, signed_in_as=user["email"], sign_out_url=_sign_out_url(back))


def decision(sim, req: Request) -> Response:
    """POST /oauth/authorize/decision: Allow issues a code, Decline sends error=access_denied."""
    form = req.form()
    user = signed_in_user(sim, req)
    with sim.store.lock:
        consent = sim.store.one("SELECT * FROM consents WHERE txn = ?", (form.get("txn", ""),))
        if consent:
            sim.store.run("DELETE FROM consents WHERE txn = ?", (consent["txn"],))
    if not consent or not user or user["id"] != consent["user_id"]:
        return _error_page("This authorization request has expired. Start again from the app.")
    state = consent["state"] or None
    if form.get("decision") != "allow":
        return redirect(with_query(consent["redirect_uri"], {"error": "access_denied", "state": state}))
    code = secrets.token_urlsafe(24)
    sim.store.run(
        "INSERT INTO codes (code, client_id, user_id, redirect_uri, code_challenge, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            code,
            consent["client_id"],
            user["id"],
            consent["redirect_uri"],
            consent["code_challenge"],
            sim.clock.now() + CODE_LIFETIME,
        ),
    )
    return redirect(with_query(consent["redirect_uri"], {"code": code, "state": state}))


def _signin_page(next_url: str, error: str = "", email: str = "", status: int = 200) -> Response:
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = (
        "<h1>Sign in</h1>" + message + '<form method="post" action="/signin">'
        f'<input type="hidden" name="next" value="{esc(next_url)}">'
        f'<label for="email">Email Address</label><input id="email" name="email" type="email" value="{esc(email)}"'
        ' autocomplete="username" required>'
        '<label for="password">Password</label><input id="password" name="password" type="password"'
        ' autocomplete="current-password" required>'
        '<button type="submit">Sign In</button></form>'
        '<p class="muted">Simulated users: pro@zoomsim.test, basic@zoomsim.test, other@otheraccount.test '
        "(password zoom-password).</p>"
    )
    return page("Sign in", body, status=status)


def _safe_next(url: str) -> str:
    return url if url.startswith("/") and not url.startswith("//") else "/"


def signin(sim, req: Request) -> Response:
    form = req.form()
    next_url = _safe_next(form.get("next", "/"))
    email = form.get("email", "").strip().lower()
    user = sim.store.one("SELECT * FROM users WHERE lower(email) = ?", (email,))
    if not user or not hmac.compare_digest(user["password"], form.get("password", "")):
        return _signin_page(next_url, "Incorrect email or password.", email, status=401)
    sid = secrets.token_urlsafe(24)
    sim.store.run("INSERT INTO signins (sid, user_id, created_at) VALUES (?, ?, ?)", (sid, user["id"], sim.clock.now()))
    return redirect(next_url).header("Set-Cookie", f"{SIGNIN_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax")


def signin_form(sim, req: Request) -> Response:
    return _signin_page(_safe_next(req.query.get("next", "/")))


def logout(sim, req: Request) -> Response:
    sid = req.cookies.get(SIGNIN_COOKIE)
    if sid:
        sim.store.run("DELETE FROM signins WHERE sid = ?", (sid,))
    expire = f"{SIGNIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
    next_url = req.query.get("next")
    if next_url:
        return redirect(_safe_next(next_url)).header("Set-Cookie", expire)
    return page("Signed out", "<h1>You are signed out</h1>").header("Set-Cookie", expire)


def home(sim, req: Request) -> Response:
    user = signed_in_user(sim, req)
    if not user:
        return page("Zoom", '<h1>Zoom (simulated)</h1><p><a href="/signin">Sign in</a></p>')
    body = f"<h1>Zoom (simulated)</h1><p>Signed in as {esc(user['email'])}.</p>"
    return page("Zoom", body, signed_in_as=user["email"], sign_out_url="/logout")


# --- token endpoint -------------------------------------------------------------


def _client(sim, req: Request) -> dict | None:
    header = req.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    app = sim.store.one("SELECT * FROM apps WHERE client_id = ?", (client_id,))
    if not app or not hmac.compare_digest(app["client_secret"], secret):
        return None
    return app


def _params(req: Request) -> dict[str, str]:
    # Zoom accepts the parameters in the query string as well as in the form body.
    return {**req.query, **req.form()}


def _issue(sim, app: dict, user_id: str, scopes: str) -> dict:
    now = sim.clock.now()
    access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    sim.store.run(
        "INSERT INTO tokens (token, kind, client_id, user_id, scopes, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (access, "access", app["client_id"], user_id, scopes, now + ACCESS_LIFETIME, now),
    )
    sim.store.run(
        "INSERT INTO tokens (token, kind, client_id, user_id, scopes, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (refresh, "refresh", app["client_id"], user_id, scopes, now + REFRESH_LIFETIME, now),
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": ACCESS_EXPIRES_IN,
        "scope": scopes,
    }


def _pkce_ok(challenge: str, verifier: str) -> bool:
    if not challenge:
        return True
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(digest, challenge)


def token(sim, req: Request) -> Response:
    """POST /oauth/token: the authorization_code and refresh_token grants of a General App, the
    account_credentials grant of a Server-to-Server app, in the token endpoint's error shapes."""
    params = _params(req)
    grant = params.get("grant_type", "")
    app = _client(sim, req)
    if not app:
        # zoom-api.md: 400 or 401. Reports of Server-to-Server apps show 400; the General App keeps 401.
        return json_response(400 if grant == "account_credentials" else 401, INVALID_CLIENT)
    if (grant == "account_credentials") != (app["kind"] == "s2s"):
        return json_response(400, UNSUPPORTED_GRANT)
    with sim.store.lock:
        if grant == "authorization_code":
            return _exchange_code(sim, app, params)
        if grant == "refresh_token":
            return _refresh(sim, app, params)
        if grant == "account_credentials":
            return _account_token(sim, app, params)
    return json_response(400, UNSUPPORTED_GRANT)


def _account_token(sim, app: dict, params: dict) -> Response:
    """A Server-to-Server app's token: acts for the whole account, one hour, no refresh token."""
    if params.get("account_id", "") != app["account_id"]:
        return json_response(400, INVALID_ACCOUNT)
    now = sim.clock.now()
    access = secrets.token_urlsafe(48)
    sim.store.run(
        "INSERT INTO tokens (token, kind, client_id, user_id, account_id, scopes, expires_at, created_at)"
        " VALUES (?, 'access', ?, '', ?, ?, ?, ?)",
        (access, app["client_id"], app["account_id"], app["scopes"], now + ACCESS_LIFETIME, now),
    )
    return json_response(
        200,
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ACCESS_EXPIRES_IN,
            "scope": app["scopes"],
            "api_url": sim.public_url,
        },
    )


def _exchange_code(sim, app: dict, params: dict) -> Response:
    code = params.get("code", "")
    row = sim.store.one("SELECT * FROM codes WHERE code = ? AND client_id = ?", (code, app["client_id"]))
    if not row or row["used"] or row["expires_at"] <= sim.clock.now():
        return json_response(400, {"reason": f"Invalid authorization code {code}", "error": "invalid_request"})
    if params.get("redirect_uri", "") != row["redirect_uri"]:
        return json_response(400, {"reason": "Redirect URI mismatch.", "error": "invalid_request"})
    # A code is spent by any exchange attempt that got this far, as with a real authorization server.
    sim.store.run("UPDATE codes SET used = 1 WHERE code = ?", (code,))
    if not _pkce_ok(row["code_challenge"], params.get("code_verifier", "")):
        return json_response(400, {"reason": "Invalid code_verifier", "error": "invalid_grant"})
    # Re-authorising revokes the user's earlier tokens for this app.
    sim.store.run(
        "UPDATE tokens SET revoked = 1 WHERE client_id = ? AND user_id = ?", (app["client_id"], row["user_id"])
    )
    return json_response(200, _issue(sim, app, row["user_id"], app["scopes"]))


def _refresh(sim, app: dict, params: dict) -> Response:
    old = sim.store.one(
        "SELECT * FROM tokens WHERE token = ? AND kind = 'refresh' AND client_id = ?",
        (params.get("refresh_token", ""), app["client_id"]),
    )
    if not old or old["revoked"] or old["expires_at"] <= sim.clock.now():
        return json_response(400, INVALID_TOKEN)
    sim.store.run("UPDATE tokens SET revoked = 1 WHERE token = ?", (old["token"],))
    return json_response(200, _issue(sim, app, old["user_id"], old["scopes"]))


def revoke(sim, req: Request) -> Response:
    """POST /oauth/revoke: revokes the whole grant (every token of that user for this app)."""
    app = _client(sim, req)
    if not app:
        return json_response(401, INVALID_CLIENT)
    row = sim.store.one(
        "SELECT * FROM tokens WHERE token = ? AND client_id = ?", (_params(req).get("token", ""), app["client_id"])
    )
    if not row or row["revoked"]:
        return json_response(400, {"reason": "Invalid Token!", "error": "invalid_request"})
    revoke_grant(sim, app["client_id"], row["user_id"])
    return json_response(200, {"status": "success"})


def revoke_grant(sim, client_id: str | None, user_id: str) -> int:
    if client_id is None:
        return sim.store.run("UPDATE tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0", (user_id,))
    return sim.store.run(
        "UPDATE tokens SET revoked = 1 WHERE client_id = ? AND user_id = ? AND revoked = 0", (client_id, user_id)
    )
