"""The Zoom REST client: one requests session, timeouts, tokens kept fresh, limits, and error mapping.

Every call goes through `ZoomClient.request`, which
- refreshes the access token when it has less than 5 minutes left, and once
  more on a 401 (Zoom code 124) before retrying the call once (the framework's
  virtualmeeting.tokens, with ZoomProvider's app and words);
- takes a unit of the user's daily create/update quota for create and update
  calls, before sending (a call known to fail is never sent);
- takes a token from the account's shared per-second bucket;
- turns Zoom's answers into the framework's errors (virtualmeeting.errors),
  with messages for people and never a token in them.
"""

import logging
from datetime import timedelta
from functools import lru_cache

import requests
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from virtualmeeting import tokens
from virtualmeeting.errors import AuthRevoked, MeetingNotFound, ProviderError, RateLimited
from virtualmeeting.models import ProviderConnection
from virtualmeeting_zoom import limits, oauth
from virtualmeeting_zoom.options import api_base_url, zoom_options

logger = logging.getLogger(__name__)

TIMEOUT = (5, 15)  # connect, read (seconds)

# Rate-limit categories: Zoom's labels, each one per-second bucket of the account (`_rate` gives its limit).
CREATE = "create"  # Zoom's "Medium": create, list meetings, list registrants, registrant status
MEDIUM = CREATE  # the same bucket: Zoom counts every Medium call of the account together
LIGHT = "light"  # get, update, delete, add one registrant
HEAVY = "heavy"  # batch registration
RATE_OPTIONS = {CREATE: "create_per_second", LIGHT: "light_per_second", HEAVY: "heavy_per_second"}

# Lazy: read when raised, in the language of the request or worker.
RECONNECT_MESSAGE = gettext_lazy("Zoom no longer accepts this connection: reconnect your Zoom account.")
HOST_NOT_ALLOWED_MESSAGE = gettext_lazy(
    "Zoom does not allow this user to host or schedule meetings (Zoom error 3161): "
    "ask the Zoom account's admin to allow meeting scheduling for this user."
)
BAD_CLIENT_MESSAGE = gettext_lazy(
    "Zoom rejected the site's Client ID or Client secret: an admin must check the Zoom Meeting settings."
)


@lru_cache(maxsize=1)
def http_session() -> requests.Session:
    """The one session every REST call uses (connection pooling); each call passes TIMEOUT."""
    session = requests.Session()
    session.headers.update({"Accept": "application/json", "User-Agent": "lms-virtualmeeting-zoom"})
    return session


def zoom_error_body(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def zoom_error_text(body: dict) -> str:
    message = str(body.get("message") or "").strip()
    details = [str(item.get("message")) for item in body.get("errors") or [] if isinstance(item, dict)]
    details = [d for d in details if d and d != message]
    if details:
        message = f"{message} ({'; '.join(details)})" if message else "; ".join(details)
    return message


def is_daily_limit(response) -> bool:
    message = str(zoom_error_body(response).get("message") or "")
    return "daily" in response.headers.get("X-RateLimit-Type", "").lower() or "daily" in message.lower()


def rate_limited_error(response) -> RateLimited:
    """A 429 from Zoom: per-second or daily, with the time it ends.

    The time Zoom gives (zoom_retry_at) is kept as it is; only without one is it
    guessed: the next 00:00 UTC for a daily limit told by the message text
    alone, a moment away for a per-second limit.
    """
    now = timezone.now()
    daily = is_daily_limit(response)
    retry_at = limits.zoom_retry_at(response.headers, now)
    if retry_at is None:
        retry_at = limits.quota_next_reset(now) if daily else now + timedelta(seconds=1)
    if daily:
        return limits.daily_limit_error(retry_at, now=now)
    return RateLimited(gettext("Zoom's per-second limit was reached; retrying shortly."), retry_at=retry_at)


class ZoomClient:
    """REST calls on behalf of one connected Zoom user.

    The tokens are the connection's (a General App's user tokens); AccountClient (account.py) keeps
    everything else and takes the site account's shared token instead.
    """

    def __init__(self, *, config, connection: ProviderConnection, provider):
        self.config = config
        self.connection = connection
        self.provider = provider  # the ZoomProvider: its OAuth app and words for the framework's token refresh
        self.options = zoom_options(config)

    @property
    def account_id(self) -> str:
        return str((self.connection.extra or {}).get("account_id") or self.connection.remote_account_id)

    @property
    def quota_user(self) -> str:
        """The Zoom user whose daily create/update budget a call spends (the meeting's host)."""
        return self.connection.remote_account_id

    # --- the token: what AccountClient does differently ---------------------------
    def _access_token(self) -> str:
        return self.connection.access_token

    def _ready(self) -> None:
        """Before the first send: a usable connection with a token that is not about to expire."""
        if self.connection.status != ProviderConnection.Status.CONNECTED:
            raise AuthRevoked(self.connection.status_message or RECONNECT_MESSAGE)
        if tokens.needs_refresh(self.connection):
            tokens.connection_tokens_refresh(provider=self.provider, connection=self.connection)

    def _renew(self) -> None:
        """Zoom answered 401 (124): a new token, once."""
        tokens.connection_tokens_refresh(provider=self.provider, connection=self.connection, force=True)

    def _rejected(self) -> ProviderError:
        """Zoom answered 401 again with the renewed token."""
        return AuthRevoked(RECONNECT_MESSAGE)

    def _rate(self, category: str) -> float:
        return float(self.options[RATE_OPTIONS[category]])

    def _send(self, method: str, path: str, *, params=None, json=None, ambiguous: bool):
        try:
            return http_session().request(
                method,
                f"{api_base_url()}{path}",
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._access_token()}"},
                timeout=TIMEOUT,
            )
        except requests.ConnectTimeout as exc:
            raise ProviderError(gettext("Zoom could not be reached in time; will retry.")) from exc
        except requests.Timeout as exc:
            raise ProviderError(gettext("Zoom did not answer in time; will retry."), ambiguous=ambiguous) from exc
        except requests.RequestException as exc:
            raise ProviderError(gettext("Zoom could not be reached; will retry."), ambiguous=ambiguous) from exc

    def request(
        self,
        method: str,
        path: str,
        *,
        category: str,
        params=None,
        json=None,
        counted: bool = False,
        ambiguous: bool = False,
        meeting_budget: bool = True,
        refusal=None,
    ) -> requests.Response:
        """Send one call; `counted` takes a daily create/update unit first; `ambiguous` marks a create.

        `meeting_budget=False`: a daily 429 to this call is a limit of its own (Zoom limits registrant calls
        per registrant and day), so the host's 100 meeting creates/updates stay open. `refusal(body)`
        names a refusal particular to the call (an error, or None for the general mapping of error_for).
        """
        self._ready()
        refreshed = False
        while True:
            limits.rate_acquire(account_id=self.account_id, category=category, rate=self._rate(category))
            if counted and not refreshed:
                # After the per-second wait, so a call given back for that wait does not use a daily unit.
                limits.daily_quota_reserve(self.quota_user)
            response = self._send(method, path, params=params, json=json, ambiguous=ambiguous)
            if response.status_code != 401 or zoom_error_body(response).get("code") == 4711:
                break
            if refreshed:
                raise self._rejected()
            self._renew()
            refreshed = True
        if response.status_code >= 400:
            error = self.error_for(response, ambiguous=ambiguous, meeting_budget=meeting_budget, refusal=refusal)
            if counted and response.status_code == 429 and isinstance(error, RateLimited) and not error.daily:
                limits.daily_quota_release(self.quota_user)
            raise error
        if counted:
            self._observe_daily_quota(response)
        return response

    def _observe_daily_quota(self, response) -> None:
        # Other apps of the same Zoom user use the same 100 a day; Zoom's count wins over ours.
        if "daily" not in response.headers.get("X-RateLimit-Type", "").lower():
            return
        remaining = response.headers.get("X-RateLimit-Remaining", "").strip()
        if remaining.isdigit():
            limits.daily_quota_observe(self.quota_user, int(remaining))

    def error_for(
        self, response, *, ambiguous: bool = False, meeting_budget: bool = True, refusal=None
    ) -> ProviderError:
        """Zoom's error answer as a framework error (see zoom-api.md's table)."""
        status = response.status_code
        body = zoom_error_body(response)
        code = body.get("code")
        text = zoom_error_text(body)
        if status == 429:
            error = rate_limited_error(response)
            if error.daily and meeting_budget:
                # Zoom's own time, not error.retry_at: a midnight we guessed must not look like Zoom's answer.
                resumes_at = limits.zoom_retry_at(response.headers, timezone.now())
                limits.daily_quota_exhaust(self.quota_user, resumes_at=resumes_at)
            return error
        if status >= 500:
            message = gettext("Zoom had a server error (HTTP %(status)s); will retry.") % {"status": status}
            return ProviderError(message, ambiguous=ambiguous)
        particular = refusal(body) if refusal else None
        if particular is not None:
            return particular
        if code == 4711:
            message = gettext(
                "The Zoom app lacks scopes this site needs (%(detail)s): "
                "add them to the app in the Zoom Marketplace, then reconnect."
            ) % {"detail": text or gettext("Zoom error %(code)s") % {"code": 4711}}
            return ProviderError(message, permanent=True, code="4711")
        if code in (1001, 1010):
            return ProviderError(oauth.PRIVATE_APP_MESSAGE, permanent=True, code=str(code))
        if code == 3161:
            return ProviderError(HOST_NOT_ALLOWED_MESSAGE, permanent=True, code="3161")
        if code in (1114, 1115):
            # An alternative host who cannot be one (not an active user of the account, or not licensed).
            message = gettext(
                "Zoom refused an alternative host of this meeting (%(detail)s): choose the room's alternative hosts "
                "again."
            ) % {"detail": text or gettext("Zoom error %(code)s") % {"code": code}}
            return ProviderError(message, permanent=True, code=str(code))
        if code == 3001 or (status == 404 and code is None):
            return MeetingNotFound(gettext("The meeting no longer exists in Zoom."))
        if code == 3002:
            message = gettext("The Zoom meeting is in progress; it will be deleted after it ends.")
            return ProviderError(message, code="3002")
        if code:
            detail = gettext("%(text)s (Zoom error %(code)s)") % {"text": text, "code": code}
        else:
            detail = text or f"HTTP {status}"
        message = gettext("Zoom refused the request: %(detail)s") % {"detail": detail}
        return ProviderError(message, permanent=True, code=str(code or status))
