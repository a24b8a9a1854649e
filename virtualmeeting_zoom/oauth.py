"""Zoom's OAuth endpoints: authorize URL, code exchange, refresh, revoke (requests-oauthlib).

The token endpoint does not answer like the REST API: its errors are
`{"reason": "...", "error": "invalid_grant"}` with HTTP 400 (older reports:
401). A response hook turns every non-success answer into a TokenError
carrying Zoom's `error` and `reason`, so callers decide from those and never
from oauthlib's guesses. Tokens and the client secret never reach a log or a
message.
"""

import logging
import os
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.utils import timezone
from django.utils.translation import gettext_lazy
from requests_oauthlib import OAuth2Session

from virtualmeeting_zoom import limits
from virtualmeeting_zoom.options import oauth_base_url

logger = logging.getLogger(__name__)

TIMEOUT = (5, 15)  # connect, read (seconds)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}

PRIVATE_APP_MESSAGE = gettext_lazy(
    "This Zoom app is private to another Zoom account: publish the app in the Zoom Marketplace, "
    "or connect with a user of the same Zoom account."
)
# Words in Zoom's token/authorize answers for a user outside a private (unpublished) app's account.
_PRIVATE_APP_HINTS = ("not belong to", "same account", "unpublished", "not been published", "private app")


class TokenError(Exception):
    """The token endpoint refused or could not be reached. `error` is Zoom's code, e.g. "invalid_grant"."""

    def __init__(
        self, error: str, reason: str = "", *, status: int | None = None, transient: bool = False, retry_at=None
    ):
        super().__init__(f"{error}: {reason}" if reason else error)
        self.error = error
        self.reason = reason
        self.status = status
        self.transient = transient
        self.retry_at = retry_at  # Zoom asked to wait until then (429)


def is_private_app_refusal(text: str) -> bool:
    text = (text or "").lower()
    return any(hint in text for hint in _PRIVATE_APP_HINTS)


def _allow_local_http(url: str) -> None:
    """oauthlib insists on https; a simulator on this machine (http://127.0.0.1:...) is allowed."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def _raise_for_token_error(response):
    if response.status_code == 429:
        # Too many requests: not a verdict on the grant. The wait Zoom gives is kept, else a short one.
        now = timezone.now()
        retry_at = limits.zoom_retry_at(response.headers, now) or now + timedelta(seconds=1)
        raise TokenError("rate_limited", "Zoom answered HTTP 429", status=429, transient=True, retry_at=retry_at)
    if response.status_code >= 500:
        raise TokenError(
            "server_error", f"Zoom answered HTTP {response.status_code}", status=response.status_code, transient=True
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code >= 400 or body.get("error") or not body.get("access_token"):
        raise TokenError(
            str(body.get("error") or f"http_{response.status_code}"),
            str(body.get("reason") or body.get("error_description") or body.get("message") or ""),
            status=response.status_code,
        )
    return response


def _session(client_id: str, redirect_uri: str | None = None) -> OAuth2Session:
    # No scope: Zoom takes the scopes from the app's Marketplace configuration and has rejected a scope parameter.
    session = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=None)
    session.register_compliance_hook("access_token_response", _raise_for_token_error)
    session.register_compliance_hook("refresh_token_response", _raise_for_token_error)
    return session


def _token_call(call):
    try:
        return call()
    except requests.Timeout as exc:
        raise TokenError("timeout", "Zoom did not answer in time", transient=True) from exc
    except requests.RequestException as exc:
        raise TokenError("connection_error", "Zoom could not be reached", transient=True) from exc


def token_expiry(token: dict):
    """Aware UTC expiry from `expires_in` (Zoom: 3599 or 3600 seconds)."""
    try:
        seconds = int(token.get("expires_in"))
    except (TypeError, ValueError):
        return None
    return timezone.now() + timedelta(seconds=seconds)


def granted_scopes(token: dict) -> str:
    """The granted scopes as Zoom's space separated string (oauthlib turns it into a list)."""
    scope = token.get("scope") or ""
    if isinstance(scope, list | tuple | set):
        return " ".join(str(item) for item in scope)
    return str(scope)


def authorization_url(*, client_id: str, redirect_uri: str, state: str, code_challenge: str) -> str:
    url = f"{oauth_base_url()}/oauth/authorize"
    _allow_local_http(url)
    session = _session(client_id, redirect_uri)
    uri, _ = session.authorization_url(url, state=state, code_challenge=code_challenge, code_challenge_method="S256")
    return uri


def _basic_auth(client_id: str, client_secret: str) -> requests.auth.HTTPBasicAuth:
    # As UTF-8 bytes: requests encodes text as latin-1 and would fail on any other character a secret may hold.
    return requests.auth.HTTPBasicAuth(client_id.encode(), client_secret.encode())


def exchange_code(*, client_id: str, client_secret: str, code: str, redirect_uri: str, code_verifier: str) -> dict:
    """Authorization code -> token dict (Basic auth, form body, PKCE verifier). Raises TokenError."""
    url = f"{oauth_base_url()}/oauth/token"
    _allow_local_http(url)
    session = _session(client_id, redirect_uri)
    return _token_call(
        lambda: session.fetch_token(
            url,
            code=code,
            code_verifier=code_verifier,
            auth=_basic_auth(client_id, client_secret),
            include_client_id=False,
            timeout=TIMEOUT,
        )
    )


def refresh(*, client_id: str, client_secret: str, refresh_token: str) -> dict:
    """A new token pair. Zoom rotates refresh tokens: the one passed in dies. Raises TokenError."""
    url = f"{oauth_base_url()}/oauth/token"
    _allow_local_http(url)
    session = _session(client_id)
    return _token_call(
        lambda: session.refresh_token(
            url,
            refresh_token=refresh_token,
            auth=_basic_auth(client_id, client_secret),
            timeout=TIMEOUT,
        )
    )


def revoke(*, client_id: str, client_secret: str, access_token: str) -> bool:
    """Revoke at Zoom, best effort: True when Zoom confirmed, False on any failure (logged without the token)."""
    url = f"{oauth_base_url()}/oauth/revoke"
    try:
        response = requests.post(
            url, data={"token": access_token}, auth=_basic_auth(client_id, client_secret), timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        logger.warning("Zoom token revoke failed: %s", type(exc).__name__)
        return False
    if response.status_code != 200:
        logger.warning("Zoom token revoke answered HTTP %s", response.status_code)
        return False
    return True


def account_token(*, account_id: str, client_id: str, client_secret: str) -> dict:
    """A Server-to-Server app's token for its account (the account_credentials grant): acts for every user of
    the account for about an hour, with no refresh token. Raises TokenError in the token endpoint's terms.

    zoom-api.md gives the grant in the query string; the parameters go in the form body, which Zoom's token
    endpoint reads as well (and which Zoom's own guides now ask for).
    """
    url = f"{oauth_base_url()}/oauth/token"
    data = {"grant_type": "account_credentials", "account_id": account_id}
    auth = _basic_auth(client_id, client_secret)
    response = _token_call(lambda: requests.post(url, data=data, auth=auth, timeout=TIMEOUT))
    return _raise_for_token_error(response).json()
