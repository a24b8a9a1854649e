"""The Microsoft Teams provider: declarations plus the hooks of virtualmeeting.providers.base.Provider.

The protocol is in docs/teams-protocol.md. Connect is the framework's OAuth flow (virtualmeeting.oauth) with
Microsoft's endpoints; meetings are Graph online meetings of the signed-in user (/me/onlineMeetings).
"""

import secrets
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from virtualmeeting.errors import ConnectError, MeetingNotFound, ProviderError
from virtualmeeting.models import ProviderConnection
from virtualmeeting.oauth import OAuthApp, TokenError, TokenSet
from virtualmeeting.providers.base import AccountHost, ConnectedAccount, MeetingSpec, Provider, RemoteMeeting
from virtualmeeting_teams.client import TIMEOUT, GraphClient, graph_error, http_session, meeting_path
from virtualmeeting_teams.forms import TeamsSettingsForm
from virtualmeeting_teams.models import TeamsCreateRequest
from virtualmeeting_teams.options import (
    PERMISSIONS,
    REQUIRED_SCOPES,
    SCOPES,
    SETTINGS_DEFAULTS,
    auth_base_url,
    graph_base_url,
    missing_permissions,
    tenant_of,
)
from virtualmeeting_teams.payloads import create_body, remote_meeting, subject_of, update_body

# A lost create answer is repeated at the next attempt, minutes later; a month is ample.
CREATE_REQUESTS_KEPT = timedelta(days=30)
# People named in a missing-permission warning; the rest are counted ("and 3 more").
PEOPLE_NAMED = 5
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

RECONNECT_MESSAGE = gettext_lazy("Microsoft no longer accepts this connection: reconnect your Microsoft account.")
BAD_SECRET_MESSAGE = gettext_lazy(
    "Microsoft rejected the site's Application (client) ID or client secret: a site admin must check the "
    "Microsoft Teams settings."
)
EXPIRED_SECRET_MESSAGE = gettext_lazy(
    "The client secret of the site's Microsoft app has expired: a site admin must create a new one in Microsoft "
    "Entra (Certificates & secrets) and enter it on the Microsoft Teams settings page."
)


def _codes(exc: TokenError) -> set[str]:
    """The AADSTS numbers of a token refusal, as strings ("7000222")."""
    return {str(code).removeprefix("AADSTS") for code in (getattr(exc, "codes", None) or [])}


class TeamsProvider(Provider):
    id = "teams"
    name = "Microsoft Teams"
    service_name = "Microsoft Teams"
    needs_connection = True
    settings_form_class = TeamsSettingsForm
    # Microsoft's hosts (a simulator's in development), read as vm_settings.TEAMS_AUTH_BASE_URL and so on.
    settings_defaults = SETTINGS_DEFAULTS
    required_scopes = REQUIRED_SCOPES

    # --- site configuration -------------------------------------------------
    def is_configured(self) -> bool:
        return bool(self.config.client_id and self.config.client_secret)

    def health_warnings(self) -> list[str]:
        warnings = []
        if not self.is_configured():
            warnings.append(
                gettext(
                    "Application (client) ID and client secret not set: register an app in Microsoft Entra (App "
                    "registrations) and copy them here. Trainers cannot connect to Microsoft Teams until then."
                )
            )
        site_warning = self._site_url_warning()
        if site_warning:
            warnings.append(site_warning)
        warnings.extend(self._permission_warnings())
        return warnings

    def _site_url_warning(self) -> str:
        parts = urlsplit(settings.SITE_URL)
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
            return ""  # Microsoft accepts http:// redirect URIs only for localhost
        return gettext(
            "SITE_URL is %(site_url)s: Microsoft requires an https:// Redirect URL (plain http only for "
            "localhost). Set SITE_URL to the site's https address."
        ) % {"site_url": repr(settings.SITE_URL)}

    def _permission_warnings(self) -> list[str]:
        return [
            _missing_warning(missing, people)
            for missing, people in self.connections_missing_scopes(missing_permissions)
        ]

    def settings_context(self, request) -> dict:
        return {
            "permissions": PERMISSIONS,
            "client_secret_set": bool(self.config.client_secret),
            "tenant": tenant_of(self.config),
        }

    def closed_window_hint(self) -> str:
        # Microsoft's "Need admin approval" page never sends the person back to us.
        return gettext(
            "If Microsoft said that the app needs an administrator's approval, an administrator of your "
            "organisation must first grant consent to this site's app in Microsoft Entra."
        )

    # --- per-user connection (the framework's OAuth flow with Microsoft's endpoints) ----------
    def oauth_app(self) -> OAuthApp | None:
        base = f"{auth_base_url()}/{tenant_of(self.config)}/oauth2/v2.0"
        return OAuthApp(
            authorize_url=f"{base}/authorize",
            token_url=f"{base}/token",
            scopes=SCOPES,
            client_auth="body",
            service="Microsoft",
        )

    def oauth_client(self) -> tuple[str, str]:
        return self.config.client_id, self.config.client_secret

    def authorization_url(self, *, redirect_uri: str, state: str, code_challenge: str) -> str:
        if not self.is_configured():
            raise _not_set_up()
        return super().authorization_url(redirect_uri=redirect_uri, state=state, code_challenge=code_challenge)

    def complete_connection(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        if not self.is_configured():
            raise _not_set_up()
        return super().complete_connection(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)

    def read_account(self, token: TokenSet) -> ConnectedAccount:
        """GET /me: who connected, shown as "name (email)" (mail, else userPrincipalName)."""
        try:
            response = http_session().get(
                f"{graph_base_url()}/me",
                headers={"Authorization": f"Bearer {token.access_token}"},
                timeout=TIMEOUT,
            )
        except requests.RequestException:
            raise ConnectError(gettext("Microsoft could not be reached. Please try again in a moment.")) from None
        try:
            me = response.json() if response.status_code == 200 else {}
        except ValueError:
            me = {}
        if not isinstance(me, dict) or not me.get("id"):
            raise _read_me_error(response)
        email = me.get("mail") or me.get("userPrincipalName") or ""
        return ConnectedAccount(
            remote_account_id=str(me["id"]),
            name=me.get("displayName") or email,
            email=email,
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=token.expires_at,
            scopes=token.scopes or " ".join(SCOPES),  # no scope in the answer: as requested
            extra={"userPrincipalName": me.get("userPrincipalName") or ""},
        )

    def missing_scopes(self, granted: str) -> list[str]:
        """The required permissions a grant lacks, in any of Microsoft's spellings; an answer naming no scope is
        for the scopes requested (docs/teams-protocol.md, 1)."""
        return missing_permissions(granted) if granted.strip() else []

    def missing_scopes_error(self, missing: list[str]) -> ConnectError:
        return _missing_permission_error(missing)

    def reconnect_message(self) -> str:
        return str(RECONNECT_MESSAGE)

    def connect_error(self, exc: TokenError) -> ConnectError:
        """A refused code exchange in words (docs/teams-protocol.md, "Token endpoint errors")."""
        codes = _codes(exc)
        if exc.retry_at is not None or exc.status == 429:
            return ConnectError(gettext("Microsoft is busy just now. Please connect again in a moment."))
        if exc.transient:
            return ConnectError(gettext("Microsoft could not be reached. Please try again in a moment."))
        if exc.error == "invalid_client":
            admin = EXPIRED_SECRET_MESSAGE if "7000222" in codes else BAD_SECRET_MESSAGE
            return ConnectError(
                gettext(
                    "Microsoft rejected this site's app settings. Ask a site admin to check the Microsoft Teams settings."
                ),
                admin_message=admin,
            )
        if codes & {"90094", "65001", "90095"} or exc.error == "consent_required":
            return ConnectError(
                gettext(
                    "Your organisation requires an administrator to approve this site's Microsoft app. Ask your "
                    "Microsoft 365 administrator to grant consent, then connect again."
                )
            )
        if exc.error == "unauthorized_client" or codes & {"700016", "50194"}:
            return ConnectError(
                gettext("Microsoft does not know this site's app in your organisation. Ask a site admin to check it."),
                admin_message=gettext(
                    "Microsoft does not know the app in this tenant: check the Application (client) ID, and for an "
                    "app registered for one organisation only set Tenant to its Directory (tenant) ID."
                ),
            )
        if exc.error in ("invalid_grant", "invalid_request"):
            return ConnectError(
                gettext(
                    "Microsoft did not accept the sign-in (it may have expired or been used already). "
                    "Please connect again."
                )
            )
        return ConnectError(gettext("Microsoft refused the connection (%(error)s).") % {"error": exc.error})

    def refresh_error(self, exc: TokenError) -> ProviderError:
        """A refused client secret is the site admin's to fix (permanent, in words); invalid_grant (consent
        revoked, refresh token expired or revoked), interaction_required (MFA, Conditional Access) and any other
        refusal need a new sign-in (the framework's AuthRevoked); a wait or a transient failure as the framework's."""
        if not exc.transient and exc.retry_at is None and exc.error == "invalid_client":
            message = EXPIRED_SECRET_MESSAGE if "7000222" in _codes(exc) else BAD_SECRET_MESSAGE
            return ProviderError(message, permanent=True, code="invalid_client")
        return super().refresh_error(exc)

    # --- meetings -----------------------------------------------------------
    def _client(self, connection) -> GraphClient:
        if connection is None or isinstance(connection, AccountHost):
            message = gettext("Microsoft Teams meetings need the owner's connected Microsoft account.")
            raise ProviderError(message, permanent=True, code="no_connection")
        return GraphClient(provider=self, connection=connection)

    def create_meeting(self, *, connection: ProviderConnection | None, spec: MeetingSpec) -> RemoteMeeting:
        """createOrGet with a fresh external id, remembered before sending, so a lost answer can be repeated
        (find_meeting) and give the same meeting, never a second one."""
        client = self._client(connection)
        body = create_body(spec, external_id=f"{spec.marker}.{secrets.token_hex(6)}")
        sent = self._remember_create(connection, spec, body)
        try:
            return self._create_or_get(client, body)
        except ProviderError as exc:
            if not exc.ambiguous:
                sent.delete()  # refused or never sent: Graph made nothing to find
            raise

    def _create_or_get(self, client: GraphClient, body: dict) -> RemoteMeeting:
        response = client.request("POST", "/me/onlineMeetings/createOrGet", json=body, ambiguous=True)
        try:
            return remote_meeting(response.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError(
                gettext("Microsoft Teams' answer to the create could not be read; will check and retry."),
                ambiguous=True,
            ) from None

    def _remember_create(self, connection, spec: MeetingSpec, body: dict) -> TeamsCreateRequest:
        now = timezone.now()
        TeamsCreateRequest.objects.filter(sent_at__lt=now - CREATE_REQUESTS_KEPT).delete()
        return TeamsCreateRequest.objects.create(
            marker=spec.marker, remote_user=connection.remote_account_id, body=body, sent_at=now
        )

    def find_meeting(self, *, connection: ProviderConnection | None, marker: str) -> RemoteMeeting | None:
        """The meeting the last create for `marker` made when its answer was lost: that createOrGet repeated.

        Graph answers it with the meeting made for the same user and external id (200), or makes it now (201)
        if the lost call never arrived; either way the row gets exactly one meeting.
        """
        if not marker:
            return None
        client = self._client(connection)
        sent = (
            TeamsCreateRequest.objects.filter(marker=marker, remote_user=connection.remote_account_id)
            .order_by("-sent_at", "-pk")
            .first()
        )
        if sent is None:
            return None
        return self._create_or_get(client, sent.body)

    def update_meeting(
        self, *, connection: ProviderConnection | None, remote_id: str, spec: MeetingSpec, previous: MeetingSpec | None
    ) -> RemoteMeeting | None:
        """PATCH only what changed since `previous` (subject; both times when either moved), in place: the
        meeting keeps its id and join URL. No call when nothing Graph holds changed."""
        changes = update_body(spec, previous)
        if not changes:
            return None
        response = self._client(connection).request("PATCH", meeting_path(remote_id), json=changes)
        try:
            return remote_meeting(response.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # applied (200); the join URL we hold stays right

    def delete_meeting(self, *, connection: ProviderConnection | None, remote_id: str) -> None:
        try:
            self._client(connection).request("DELETE", meeting_path(remote_id))
        except MeetingNotFound:
            return  # already gone

    def get_meeting(self, *, connection: ProviderConnection | None, remote_id: str) -> RemoteMeeting:
        response = self._client(connection).request("GET", meeting_path(remote_id))
        try:
            return remote_meeting(response.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError(gettext("Microsoft Teams' answer could not be read; will retry.")) from None

    def host_url(self, *, connection: ProviderConnection | None, remote_id: str) -> str:
        """Teams has no separate start link: the organizer joins with the join URL, signed in. It is read at
        click time, so a meeting deleted in Teams is noticed at the click."""
        remote = self.get_meeting(connection=connection, remote_id=remote_id)
        if not remote.join_url:
            raise ProviderError(gettext("Microsoft Teams did not give a join link for this meeting; try again."))
        return remote.join_url

    def remote_matches(self, remote: RemoteMeeting, spec: MeetingSpec) -> bool:
        """Compare with what we would have sent (a topic is sent as "Meeting" when empty)."""
        return super().remote_matches(remote, replace(spec, topic=subject_of(spec)))


def _not_set_up() -> ConnectError:
    return ConnectError(
        gettext("Microsoft Teams is not set up yet: a site admin must enter the app's client ID and secret."),
        admin_message=gettext(
            "Microsoft Teams is not set up yet: enter the Application (client) ID and client secret on the "
            "Microsoft Teams settings page (Site administration)."
        ),
    )


def _missing_permission_error(missing: list[str]) -> ConnectError:
    values = {"missing": ", ".join(missing)}
    return ConnectError(
        gettext(
            "Microsoft did not grant the permissions this site needs. Missing: %(missing)s. Ask a site admin to add "
            "them to the app registration, then connect again."
        )
        % values,
        admin_message=gettext(
            "Microsoft did not grant the permissions this site needs. Missing: %(missing)s. Add them as delegated "
            "Microsoft Graph permissions of the app registration in Microsoft Entra (the Microsoft Teams settings "
            "page lists them), then connect again."
        )
        % values,
    )


def _read_me_error(response) -> ConnectError:
    if response.status_code == 403:
        return _missing_permission_error(["User.Read"])
    if response.status_code >= 500 or response.status_code == 429:
        return ConnectError(gettext("Microsoft had a problem reading your account. Please try again in a moment."))
    code, _ = graph_error(response)
    return ConnectError(
        gettext("Microsoft did not let this site read your account (%(reason)s).")
        % {"reason": code or f"HTTP {response.status_code}"}
    )


def _missing_warning(missing, people: list[str]) -> str:
    """The settings page's words about trainers whose grant lacks permissions: the first few named."""
    names = ", ".join(people[:PEOPLE_NAMED])
    if len(people) > PEOPLE_NAMED:
        more = len(people) - PEOPLE_NAMED
        names = ngettext("%(names)s and %(count)d more", "%(names)s and %(count)d more", more) % {
            "names": names,
            "count": more,
        }
    return ngettext(
        "The Microsoft grant of %(people)s lacks the permission %(permissions)s: add it to the app registration, "
        "then ask them to connect again.",
        "The Microsoft grant of %(people)s lacks the permissions %(permissions)s: add them to the app registration, "
        "then ask them to connect again.",
        len(missing),
    ) % {"people": names, "permissions": ", ".join(missing)}
