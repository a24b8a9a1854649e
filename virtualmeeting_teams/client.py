"""The Microsoft Graph client: one requests session, timeouts, tokens kept fresh, and error mapping.

Every call goes through `GraphClient.request`, which
- refreshes the access token through the framework (virtualmeeting.tokens) when it is about to expire, and
  once more on a 401 before retrying the call once;
- turns Graph's answers into the framework's errors (docs/teams-protocol.md, sections 5 and 6), with
  messages for people and never a token in them.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

import requests
from django.utils import timezone
from django.utils.translation import gettext

from virtualmeeting import tokens
from virtualmeeting.errors import AuthRevoked, MeetingNotFound, ProviderError, RateLimited
from virtualmeeting.models import ProviderConnection
from virtualmeeting_teams.options import graph_base_url, missing_permissions

TIMEOUT = (5, 15)  # connect, read (seconds)


@lru_cache(maxsize=1)
def http_session() -> requests.Session:
    """The one session every Graph call uses (connection pooling); each call passes TIMEOUT."""
    session = requests.Session()
    session.headers.update({"Accept": "application/json", "User-Agent": "lms-virtualmeeting-teams"})
    return session


def meeting_path(remote_id: str) -> str:
    """/me/onlineMeetings/{id}; Graph's ids hold characters such as ':' and '@', so the id is quoted whole."""
    remote_id = str(remote_id or "").strip()
    if not remote_id:
        raise MeetingNotFound(gettext("The stored Teams meeting id is empty."))
    return f"/me/onlineMeetings/{quote(remote_id, safe='')}"


def graph_error(response) -> tuple[str, str]:
    """(error.code, error.message) of a Graph error answer; ("", "") when it has none."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def retry_at_of(response, now: datetime | None = None) -> datetime | None:
    """The time Retry-After names: seconds (what Graph sends) or an HTTP date; None without one."""
    value = (response.headers.get("Retry-After") or "").strip()
    now = now or timezone.now()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class GraphClient:
    """Graph calls on behalf of one connected Microsoft user (delegated permissions, /me)."""

    def __init__(self, *, provider, connection: ProviderConnection):
        self.provider = provider
        self.connection = connection

    def _ready(self) -> None:
        """Before the first send: a usable connection with a token that is not about to expire."""
        if self.connection.status != ProviderConnection.Status.CONNECTED:
            raise AuthRevoked(self.connection.status_message or self.provider.reconnect_message())
        if tokens.needs_refresh(self.connection):
            tokens.connection_tokens_refresh(provider=self.provider, connection=self.connection)

    def _send(self, method: str, path: str, *, json=None, ambiguous: bool):
        try:
            return http_session().request(
                method,
                f"{graph_base_url()}{path}",
                json=json,
                headers={"Authorization": f"Bearer {self.connection.access_token}"},
                timeout=TIMEOUT,
            )
        except requests.ConnectTimeout as exc:
            raise ProviderError(gettext("Microsoft Teams could not be reached in time; will retry.")) from exc
        except requests.Timeout as exc:
            message = gettext("Microsoft Teams did not answer in time; will retry.")
            raise ProviderError(message, ambiguous=ambiguous) from exc
        except requests.RequestException as exc:
            raise ProviderError(
                gettext("Microsoft Teams could not be reached; will retry."), ambiguous=ambiguous
            ) from exc

    def request(self, method: str, path: str, *, json=None, ambiguous: bool = False) -> requests.Response:
        """Send one call (once more after renewing the token on a 401); `ambiguous` marks a create."""
        self._ready()
        response = self._send(method, path, json=json, ambiguous=ambiguous)
        if response.status_code == 401:
            tokens.connection_tokens_refresh(provider=self.provider, connection=self.connection, force=True)
            response = self._send(method, path, json=json, ambiguous=ambiguous)
            if response.status_code == 401:
                raise AuthRevoked(self.provider.reconnect_message())
        if response.status_code >= 400:
            raise self.error_for(response, ambiguous=ambiguous)
        return response

    def error_for(self, response, *, ambiguous: bool = False) -> ProviderError:
        """Graph's error answer as a framework error. The status decides; error.code only refines the words
        (Graph spells the same code differently in different answers: docs/teams-protocol.md, 5)."""
        status = response.status_code
        code, text = graph_error(response)
        if status in (429, 503):
            retry_at = retry_at_of(response)
            if retry_at is not None:
                message = gettext("Microsoft Teams asked to wait (HTTP %(status)s); retrying at the time it gave.") % {
                    "status": status
                }
                return RateLimited(message, retry_at=retry_at, ambiguous=ambiguous and status == 503)
            message = gettext("Microsoft Teams is busy (HTTP %(status)s); will retry.") % {"status": status}
            return ProviderError(message, ambiguous=ambiguous and status == 503)
        if status >= 500:
            message = gettext("Microsoft Teams had a server error (HTTP %(status)s); will retry.") % {"status": status}
            return ProviderError(message, ambiguous=ambiguous)
        if status == 404:
            return MeetingNotFound(gettext("The meeting no longer exists in Microsoft Teams."))
        if status == 403:
            return self._forbidden()
        detail = f"{code}: {text}" if code and text else (code or text or f"HTTP {status}")
        message = gettext("Microsoft Teams refused the request: %(detail)s") % {"detail": detail[:300]}
        return ProviderError(message, permanent=True, code=code or str(status))

    def _forbidden(self) -> ProviderError:
        """A 403: the grant lacks the permission (we can tell from the stored grant), or else the account may not
        make Teams meetings (no licence, a meeting policy, a guest account): Graph does not say which."""
        missing = missing_permissions(self.connection.scopes)
        if missing:
            message = gettext(
                "Microsoft refused: the Teams connection lacks the permission %(permissions)s. A site admin adds it "
                "to the app registration in Microsoft Entra; then reconnect your Microsoft account."
            ) % {"permissions": ", ".join(missing)}
            return ProviderError(message, permanent=True, code="missing_permission")
        message = gettext(
            "Microsoft refused to let this account schedule Teams meetings: it may have no Teams licence, a meeting "
            "policy may forbid it, or it is a guest in the organisation. Ask your Microsoft 365 administrator."
        )
        return ProviderError(message, permanent=True, code="forbidden")
