"""One Zoom account for the whole site: a Server-to-Server OAuth app's shared token, its REST client, and
"Test connection".

The account_credentials grant gives a token for the whole account for about an hour and no refresh
token. Every worker and web process uses ONE token, kept in Django's cache (Redis in production),
encrypted like every other token at rest, under a key made of the Account ID and Client ID (never the
secret). It is renewed when less than RENEW_MARGIN is left, and once after Zoom answers 401 (124).
Zoom has been seen to invalidate an account's earlier tokens when it issues a new one, so a renewal
is single-flight: the worker that `add`s the lock key asks Zoom; the others wait for the token it
stores. A token is never logged, and never in an error message.
"""

import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext, gettext_lazy, ngettext

from virtualmeeting.errors import ProviderError, RateLimited
from virtualmeeting.fields import decrypt, encrypt
from virtualmeeting.oauth import TokenError, granted_scopes
from virtualmeeting.providers.base import AccountCheck
from virtualmeeting_zoom import oauth
from virtualmeeting_zoom.client import MEDIUM, ZoomClient, zoom_error_body, zoom_error_text
from virtualmeeting_zoom.options import zoom_options
from virtualmeeting_zoom.scopes import missing_scopes

logger = logging.getLogger(__name__)

RENEW_MARGIN = timedelta(minutes=5)
# The renewing worker holds the lock at most this long (more than the token request's timeouts, 5 + 15 s);
# the others wait for its token at most WAIT_SECONDS, looking every POLL_SECONDS.
LOCK_SECONDS = 30
WAIT_SECONDS = 25
POLL_SECONDS = 0.05

REJECTED_MESSAGE = gettext_lazy(
    "Zoom refused the site's Zoom account token, also a new one: a site admin should check the "
    "Server-to-Server app on the Zoom Meeting settings page (Test connection)."
)
BAD_CLIENT_MESSAGE = gettext_lazy(
    "Zoom did not accept the Client ID and Client secret of the site's Server-to-Server app: copy both again "
    "from the app's App Credentials page in the Zoom Marketplace."
)
BAD_ACCOUNT_MESSAGE = gettext_lazy(
    "Zoom did not accept the Account ID: copy it from the Server-to-Server app's App Credentials page in the Zoom "
    "Marketplace (the app belongs to exactly one Zoom account)."
)
NOT_S2S_MESSAGE = gettext_lazy(
    "This Client ID belongs to a Zoom app that is not a Server-to-Server OAuth app: create one under Develop > "
    "Build App > Server-to-Server OAuth App in the Zoom Marketplace and copy its Client ID and Client secret."
)
NOT_SET_MESSAGE = gettext_lazy(
    "The site's Zoom account is not set up: enter the Account ID, Client ID and Client secret of the "
    "Server-to-Server app on the Zoom Meeting settings page."
)


@dataclass(frozen=True)
class AccountToken:
    access_token: str
    expires_at: float  # unix seconds
    scope: str

    def usable(self, *, stale: str = "") -> bool:
        """Not the token Zoom just refused, and with more than RENEW_MARGIN left."""
        return self.access_token != stale and self.expires_at - time.time() > RENEW_MARGIN.total_seconds()


def is_set_up(config) -> bool:
    return bool(config.account_id and config.account_client_id and config.account_client_secret)


def token_key(config) -> str:
    """The cache key of the account's token: the Account ID and Client ID, hashed to a safe key; never the secret."""
    digest = hashlib.sha256(f"{config.account_id}\n{config.account_client_id}".encode()).hexdigest()[:32]
    return f"virtualmeeting_zoom:account_token:{digest}"


def _cached(key: str) -> AccountToken | None:
    stored = cache.get(key)
    if not isinstance(stored, dict):
        return None
    try:
        return AccountToken(decrypt(stored["token"]), float(stored["expires_at"]), str(stored.get("scope", "")))
    except (KeyError, TypeError, ValueError):
        return None
    except ImproperlyConfigured:
        # Encrypted with a key since removed from FIELD_ENCRYPTION_KEYS: the cache only holds a copy,
        # so ask Zoom for a new token rather than fail every call until this one expires.
        logger.warning("The cached Zoom account token cannot be decrypted with the current keys; asking again.")
        return None


def _store(key: str, token: AccountToken) -> None:
    seconds = max(1, int(token.expires_at - time.time()))
    cache.set(
        key, {"token": encrypt(token.access_token), "expires_at": token.expires_at, "scope": token.scope}, seconds
    )


def account_token_forget(config) -> None:
    """Drop the shared token (the credentials changed): the next call asks Zoom with the new ones."""
    cache.delete(token_key(config))


def _fetch(config) -> AccountToken:
    try:
        answer = oauth.account_token(
            account_id=config.account_id,
            client_id=config.account_client_id,
            client_secret=config.account_client_secret,
        )
    except TokenError as exc:
        raise token_error(exc) from None
    try:
        seconds = int(answer.get("expires_in"))
    except (TypeError, ValueError):
        seconds = 3599
    return AccountToken(str(answer["access_token"]), time.time() + seconds, granted_scopes(answer))


def account_token(config, *, stale: str = "") -> AccountToken:
    """The account's shared token, renewed first when it has less than RENEW_MARGIN left or is `stale` (the
    one Zoom just refused). One worker asks Zoom at a time; the others use what it stores. Raises ProviderError."""
    if not is_set_up(config):
        raise ProviderError(NOT_SET_MESSAGE, permanent=True, code="account_not_set_up")
    key = token_key(config)
    cached = _cached(key)
    if cached and cached.usable(stale=stale):
        return cached
    lock = f"{key}:lock"
    mine = uuid.uuid4().hex
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if cache.add(lock, mine, LOCK_SECONDS):
            try:
                cached = _cached(key)  # another worker may have renewed it while we waited for the lock
                if cached and cached.usable(stale=stale):
                    return cached
                token = _fetch(config)
                _store(key, token)
                return token
            finally:
                if cache.get(lock) == mine:
                    cache.delete(lock)
        time.sleep(POLL_SECONDS)
        cached = _cached(key)
        if cached and cached.usable(stale=stale):
            return cached
        if time.monotonic() > deadline:
            raise ProviderError(gettext("Another worker is getting a Zoom account token; will retry."))


def token_error(exc: TokenError) -> ProviderError:
    """A refusal of the account_credentials grant as a framework error, with the admin's fix in words."""
    if exc.status == 429:
        return RateLimited(gettext("Zoom asked to wait before issuing an account token."), retry_at=exc.retry_at)
    if exc.transient:
        return ProviderError(gettext("Zoom could not be reached for an account token; will retry."))
    logger.info("Zoom refused the account_credentials grant: %s", exc.error)
    if exc.error == "invalid_client":
        return ProviderError(BAD_CLIENT_MESSAGE, permanent=True, code="invalid_client")
    if exc.error == "unsupported_grant_type":
        return ProviderError(NOT_S2S_MESSAGE, permanent=True, code="unsupported_grant_type")
    # Zoom checked the client first: what is left to refuse is the account the app is asked for.
    return ProviderError(BAD_ACCOUNT_MESSAGE, permanent=True, code="invalid_account")


class AccountClient(ZoomClient):
    """REST calls with the site account's shared token, for `host` (a Zoom user id or email of the account):
    the daily create/update budget spent is the host's; the per-second buckets the account's."""

    def __init__(self, *, config, host: str = ""):
        self.config = config
        self.connection = None
        self.host = host
        self.options = zoom_options(config)
        self.token: AccountToken | None = None

    @property
    def account_id(self) -> str:
        return self.config.account_id

    @property
    def quota_user(self) -> str:
        return self.host

    def _access_token(self) -> str:
        return self.token.access_token

    def _ready(self) -> None:
        self.token = account_token(self.config)

    def _renew(self) -> None:
        self.token = account_token(self.config, stale=self.token.access_token)

    def _rejected(self) -> ProviderError:
        return ProviderError(REJECTED_MESSAGE, permanent=True, code="account_rejected")

    def error_for(self, response, **kwargs) -> ProviderError:
        body = zoom_error_body(response)
        code = body.get("code")
        if code == 4711:
            # Zoom names the scopes: "Invalid access token, does not contain scopes:[user:read:list_users:admin]."
            named = re.search(r"scopes:\[([^\]]*)\]", str(body.get("message") or ""))
            scopes = [scope.strip() for scope in named.group(1).split(",") if scope.strip()] if named else []
            text = _missing_scopes_message(scopes) if scopes else zoom_error_text(body) or "4711"
            return ProviderError(text, permanent=True, code="4711")
        if code in (1001, 1010):
            # For an account token this is not a private app: the user is not (or no longer) in the account.
            if self.host:
                message = gettext(
                    "The host %(host)s is not an active user of the site's Zoom account (Zoom error %(code)s): "
                    "choose another host for the room"
                )
                return ProviderError(message % {"host": self.host, "code": code}, permanent=True, code=str(code))
            message = gettext("This Zoom user is not an active user of the site's Zoom account (Zoom error %(code)s).")
            return ProviderError(message % {"code": code}, permanent=True, code=str(code))
        return super().error_for(response, **kwargs)


def _missing_scopes_message(missing: list[str]) -> str:
    return ngettext(
        "Zoom accepted the app, but it lacks the scope %(scopes)s: add it on the app's Scopes page in the Zoom "
        "Marketplace, then test again.",
        "Zoom accepted the app, but it lacks the scopes %(scopes)s: add them on the app's Scopes page in the Zoom "
        "Marketplace, then test again.",
        len(missing),
    ) % {"scopes": ", ".join(missing)}


def account_check(config) -> AccountCheck:
    """ "Test connection": a new token with the saved credentials (stored as the shared one), its scopes against
    those the site needs, and the first page of the account's active users. Words for the admin, and the field."""
    if not is_set_up(config):
        missing = [
            name for name in ("account_id", "account_client_id", "account_client_secret") if not getattr(config, name)
        ]
        return AccountCheck(False, str(NOT_SET_MESSAGE), missing[0])
    # A new token, not the cached one: the saved secret may be wrong while an older token still works.
    try:
        token = _fetch(config)
    except ProviderError as exc:
        return AccountCheck(False, _check_words(exc), _CHECK_FIELDS.get(exc.code, ""))
    _store(token_key(config), token)
    missing = missing_scopes(token.scope, account=True)
    if missing:
        return AccountCheck(False, _missing_scopes_message(missing))
    client = AccountClient(config=config)
    client.token = token
    try:
        response = client.request("GET", "/users", category=MEDIUM, params={"status": "active", "page_size": 30})
    except ProviderError as exc:
        return AccountCheck(False, _users_refusal(exc))
    count = zoom_error_body(response).get("total_records")
    if not isinstance(count, int):
        count = len(zoom_error_body(response).get("users") or [])
    message = ngettext(
        "Connected to the Zoom account: %(count)d active user.",
        "Connected to the Zoom account: %(count)d active users.",
        count,
    ) % {"count": count}
    return AccountCheck(True, message)


# Which settings field a refused grant points at.
_CHECK_FIELDS = {
    "invalid_client": "account_client_secret",
    "unsupported_grant_type": "account_client_id",
    "invalid_account": "account_id",
}


def _check_words(exc: ProviderError) -> str:
    if exc.code in _CHECK_FIELDS:
        return exc.message
    if isinstance(exc, RateLimited):
        return gettext("Zoom is answering too many requests just now: test again in a minute.")
    return gettext(
        "Zoom could not be reached: check that this server can open https connections to zoom.us and "
        "api.zoom.us, then test again."
    )


def _users_refusal(exc: ProviderError) -> str:
    if exc.code in ("4711", "account_rejected") or isinstance(exc, RateLimited):
        return exc.message
    if exc.permanent:
        return gettext("Zoom refused to list the account's users: %(detail)s") % {"detail": exc.message}
    return _check_words(exc)
