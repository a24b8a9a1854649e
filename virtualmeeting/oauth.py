"""OAuth 2.0 authorization code with PKCE, for every provider (on requests-oauthlib).

A provider declares its app (`OAuthApp`: endpoints, scopes, how the client authenticates at the token
endpoint), the way django-allauth's provider adapters declare theirs; the framework does the rest here:
the authorize URL (state and an S256 PKCE challenge), the code exchange, the refresh (whose refresh token
may rotate: the caller stores the new one, see virtualmeeting.tokens), the revoke, and scope checking.

Token endpoints do not answer like REST APIs, and providers differ: Zoom says `{"reason", "error"}`,
Microsoft `{"error", "error_description", "error_codes"}`. A compliance hook turns every answer that is not
a token into a TokenError carrying the endpoint's own `error`, its words and codes, so callers decide from
those and never from oauthlib's guesses. A 429 or 503 is transient and keeps the wait the endpoint asked for
(Retry-After in seconds or as an HTTP date, or the provider's own header through `OAuthApp.retry_at`); any
other 5xx and a network failure are transient. Tokens and the client secret never reach a log or a message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

import requests
from django.utils import timezone
from oauthlib.oauth2 import WebApplicationClient
from requests_oauthlib import OAuth2Session

logger = logging.getLogger(__name__)


class _Quiet(logging.Filter):
    """requests-oauthlib logs request bodies, headers and tokens at DEBUG: none of that may reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


logging.getLogger("requests_oauthlib.oauth2_session").addFilter(_Quiet())
# A grant narrower than asked, or spelled otherwise (Microsoft answers with full resource URLs), is for
# missing_scopes to judge, not an exception (oauthlib's "Scope has changed" Warning) in the middle of a token call.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

TIMEOUT = (5, 15)  # connect, read (seconds)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
CLIENT_AUTH_BASIC = "basic"  # HTTP Basic with the client id and secret (Zoom)
CLIENT_AUTH_BODY = "body"  # client_id and client_secret in the form body (Microsoft)


@dataclass(frozen=True)
class OAuthApp:
    """A provider's OAuth app, as the framework needs it."""

    authorize_url: str
    token_url: str
    revoke_url: str = ""  # "": the provider has no revoke endpoint
    scopes: tuple[str, ...] = ()  # asked for in the authorize and refresh requests; () sends none (Zoom)
    client_auth: str = CLIENT_AUTH_BASIC
    service: str = ""  # the service's name in log lines ("Zoom", "Microsoft")
    authorize_params: tuple[tuple[str, str], ...] = ()  # more authorize parameters (e.g. ("prompt", "select_account"))
    # The wait a 429 or 503 asked for, read from the answer's headers by the provider's own rule (Zoom's
    # Retry-After and X-RateLimit headers); None: the standard Retry-After.
    retry_at: Callable[[dict, datetime], datetime | None] | None = field(default=None, compare=False)


@dataclass
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime | None  # aware UTC, from expires_in
    scopes: str  # space separated, as granted ("" when the answer names none)
    raw: dict = field(repr=False)  # the whole answer (id_token, ...); never logged


class TokenError(Exception):
    """The token endpoint refused, or could not be reached.

    `error` is the endpoint's code ("invalid_grant"), `reason` its words, `codes` more codes it gave
    (Microsoft's AADSTS numbers); `transient` when asking again later may work, `retry_at` the time the
    endpoint asked to wait until (429, 503).
    """

    def __init__(
        self,
        error: str,
        reason: str = "",
        *,
        status: int | None = None,
        transient: bool = False,
        retry_at: datetime | None = None,
        codes: Iterable[str] = (),
    ):
        super().__init__(f"{error}: {reason}" if reason else error)
        self.error = error
        self.reason = reason
        self.status = status
        self.transient = transient
        self.retry_at = retry_at
        self.codes = [str(code) for code in codes]


def retry_after(headers, now: datetime) -> datetime | None:
    """The time a standard Retry-After header names (delta-seconds or an HTTP date), or None."""
    value = str(headers.get("Retry-After", "") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.utc)
    return max(moment, now)


def allow_local_http(url: str) -> None:
    """oauthlib insists on https; a simulator on this machine (http://127.0.0.1:...) is allowed."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def _body_of(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def raise_for_token_error(app: OAuthApp, response):
    """Any answer of a token endpoint that is not a token, as a TokenError (the compliance hook)."""
    status = response.status_code
    service = app.service or "The provider"
    body = _body_of(response)
    if status in (429, 503):
        now = timezone.now()
        retry_at = (app.retry_at or retry_after)(response.headers, now) or (
            now + timedelta(seconds=1) if status == 429 else None
        )
        error = "rate_limited" if status == 429 else "temporarily_unavailable"
        raise TokenError(
            str(body.get("error") or error),
            f"{service} answered HTTP {status}",
            status=status,
            transient=True,
            retry_at=retry_at,
        )
    if status >= 500:
        raise TokenError("server_error", f"{service} answered HTTP {status}", status=status, transient=True)
    if status >= 400 or body.get("error") or not body.get("access_token"):
        raise TokenError(
            str(body.get("error") or f"http_{status}"),
            str(body.get("reason") or body.get("error_description") or body.get("message") or ""),
            status=status,
            codes=[str(code) for code in body.get("error_codes") or [] if isinstance(code, int | str)],
        )
    return response


def _session(app: OAuthApp, client_id: str, redirect_uri: str | None = None) -> OAuth2Session:
    session = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=list(app.scopes) or None)
    session.register_compliance_hook("access_token_response", lambda response: raise_for_token_error(app, response))
    session.register_compliance_hook("refresh_token_response", lambda response: raise_for_token_error(app, response))
    return session


def _call(app: OAuthApp, call):
    service = app.service or "The provider"
    try:
        return call()
    except requests.Timeout as exc:
        raise TokenError("timeout", f"{service} did not answer in time", transient=True) from exc
    except requests.RequestException as exc:
        raise TokenError("connection_error", f"{service} could not be reached", transient=True) from exc


def _basic_auth(client_id: str, client_secret: str) -> requests.auth.HTTPBasicAuth:
    # As UTF-8 bytes: requests encodes text as latin-1 and would fail on any other character a secret may hold.
    return requests.auth.HTTPBasicAuth(client_id.encode(), client_secret.encode())


def granted_scopes(token: dict) -> str:
    """The granted scopes as a space separated string (oauthlib turns it into a list)."""
    scope = token.get("scope") or ""
    if isinstance(scope, list | tuple | set):
        return " ".join(str(item) for item in scope)
    return str(scope)


def token_expiry(token: dict) -> datetime | None:
    """Aware UTC expiry from `expires_in` (seconds)."""
    try:
        seconds = int(token.get("expires_in"))
    except (TypeError, ValueError):
        return None
    return timezone.now() + timedelta(seconds=seconds)


def token_set(token: dict) -> TokenSet:
    return TokenSet(
        access_token=str(token.get("access_token") or ""),
        refresh_token=str(token.get("refresh_token") or ""),
        expires_at=token_expiry(token),
        scopes=granted_scopes(token),
        raw=dict(token),
    )


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE verifier and its S256 challenge (oauthlib's helpers)."""
    client = WebApplicationClient(None)
    verifier = client.create_code_verifier(64)
    return verifier, client.create_code_challenge(verifier, "S256")


def authorization_url(app: OAuthApp, *, client_id: str, redirect_uri: str, state: str, code_challenge: str) -> str:
    """Where the person signs in and consents: the app's authorize URL with the state and an S256 challenge."""
    allow_local_http(app.authorize_url)
    session = _session(app, client_id, redirect_uri)
    url, _state = session.authorization_url(
        app.authorize_url,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method="S256",
        **dict(app.authorize_params),
    )
    return url


def _client_credentials(app: OAuthApp, client_id: str, client_secret: str) -> dict:
    """How fetch_token and refresh_token are told who the client is."""
    if app.client_auth == CLIENT_AUTH_BODY:
        return {"include_client_id": True, "client_secret": client_secret}
    return {"include_client_id": False, "auth": _basic_auth(client_id, client_secret)}


def exchange_code(
    app: OAuthApp, *, client_id: str, client_secret: str, code: str, redirect_uri: str, code_verifier: str
) -> TokenSet:
    """Authorization code -> tokens (the PKCE verifier with it). Raises TokenError."""
    allow_local_http(app.token_url)
    session = _session(app, client_id, redirect_uri)
    token = _call(
        app,
        lambda: session.fetch_token(
            app.token_url,
            code=code,
            code_verifier=code_verifier,
            timeout=TIMEOUT,
            **_client_credentials(app, client_id, client_secret),
        ),
    )
    return token_set(token)


def refresh(app: OAuthApp, *, client_id: str, client_secret: str, refresh_token: str) -> TokenSet:
    """A new token pair. The refresh token may rotate (Zoom's always does, Microsoft's may): store the new one.
    Raises TokenError."""
    allow_local_http(app.token_url)
    session = _session(app, client_id)
    if app.client_auth == CLIENT_AUTH_BODY:
        credentials = {"client_id": client_id, "client_secret": client_secret}
    else:
        credentials = {"auth": _basic_auth(client_id, client_secret)}
    token = _call(
        app, lambda: session.refresh_token(app.token_url, refresh_token=refresh_token, timeout=TIMEOUT, **credentials)
    )
    return token_set(token)


def token_request(app: OAuthApp, *, client_id: str, client_secret: str, data: dict) -> dict:
    """Another grant at the token endpoint (e.g. client_credentials, Zoom's account_credentials), with the app's
    client authentication: the answer, a token. Raises TokenError like the code exchange."""
    allow_local_http(app.token_url)
    data = dict(data)
    auth = None
    if app.client_auth == CLIENT_AUTH_BODY:
        data.update(client_id=client_id, client_secret=client_secret)
    else:
        auth = _basic_auth(client_id, client_secret)
    response = _call(app, lambda: requests.post(app.token_url, data=data, auth=auth, timeout=TIMEOUT))
    return raise_for_token_error(app, response).json()


def revoke(app: OAuthApp, *, client_id: str, client_secret: str, token: str) -> bool:
    """Revoke `token` at the provider, best effort: True when it confirmed; False on any failure (logged without
    the token) or when the provider has no revoke endpoint."""
    if not app.revoke_url or not token:
        return False
    service = app.service or "provider"
    data = {"token": token}
    auth = None
    if app.client_auth == CLIENT_AUTH_BODY:
        data.update(client_id=client_id, client_secret=client_secret)
    else:
        auth = _basic_auth(client_id, client_secret)
    try:
        response = requests.post(app.revoke_url, data=data, auth=auth, timeout=TIMEOUT)
    except requests.RequestException as exc:
        logger.warning("%s token revoke failed: %s", service, type(exc).__name__)
        return False
    if response.status_code != 200:
        logger.warning("%s token revoke answered HTTP %s", service, response.status_code)
        return False
    return True


def _scope_name(scope: str) -> str:
    """A scope as providers spell it in several ways ("OnlineMeetings.ReadWrite",
    "https://graph.microsoft.com/OnlineMeetings.ReadWrite", URL-encoded), compared by its last part, any case."""
    return unquote(scope).rstrip("/").rsplit("/", 1)[-1].casefold()


def missing_scopes(granted: str, required: Iterable[str]) -> list[str]:
    """The `required` scopes the grant lacks, in the order required (spelling and case do not matter)."""
    have = {_scope_name(scope) for scope in (granted or "").replace(",", " ").split()}
    return [scope for scope in required if _scope_name(scope) not in have]
