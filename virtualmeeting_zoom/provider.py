"""The Zoom Meeting provider: declarations plus the hooks of virtualmeeting.providers.base.Provider."""

import logging
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from virtualmeeting.errors import (
    AuthRevoked,
    ConnectError,
    MeetingNotFound,
    NotReadyYet,
    ProviderError,
    RateLimited,
    RegistrationOff,
)
from virtualmeeting.models import ProviderConfig, ProviderConnection, VirtualMeeting
from virtualmeeting.oauth import LOOPBACK_HOSTS, OAuthApp, TokenError, TokenSet
from virtualmeeting.providers.base import (
    CAPABILITY_REGISTRANTS,
    AccountCheck,
    AccountHost,
    AccountUser,
    ConnectedAccount,
    MeetingSpec,
    ParticipantRecord,
    Provider,
    RecordingRecord,
    RegistrantSpec,
    RemoteMeeting,
    RemoteRegistrant,
)
from virtualmeeting_zoom import oauth
from virtualmeeting_zoom.account import AccountClient, account_check
from virtualmeeting_zoom.client import (
    BAD_CLIENT_MESSAGE,
    CREATE,
    HEAVY,
    LIGHT,
    MEDIUM,
    RECONNECT_MESSAGE,
    TIMEOUT,
    ZoomClient,
    http_session,
    zoom_error_body,
    zoom_error_text,
)
from virtualmeeting_zoom.forms import ZoomSettingsForm
from virtualmeeting_zoom.models import ZoomCreateRequest
from virtualmeeting_zoom.options import (
    LICENCE_BASIC,
    LICENCE_NAMES,
    REDIRECT_LEGACY,
    api_base_url,
    redirect_url,
    zoom_options,
)
from virtualmeeting_zoom.payloads import (
    TOPIC_MAX,
    batch_registrants_body,
    create_body,
    duration_minutes,
    parse_zoom_time,
    participant_record,
    recording_records,
    registrant_body,
    registration_matches,
    remote_meeting,
    remote_registrants,
    update_body,
    zoom_agenda,
)
from virtualmeeting_zoom.scopes import account_scopes_to_list, missing_capability, missing_scopes, scopes_to_list

LIST_PAGE_SIZE = 300
LIST_MAX_PAGES = 20
# Zoom's created_at of a meeting made by a create we sent, around the time we sent it: the clocks of
# Zoom and of our machines differ a little, and a create is applied within the request's timeout.
CREATED_NEAR_SEND = timedelta(minutes=10)
# A lost create answer is looked for at the next attempt, minutes later; a month is ample.
CREATE_REQUESTS_KEPT = timedelta(days=30)
# People named in a missing-scopes warning; the rest are counted ("and 3 more").
PEOPLE_NAMED = 5
# Zoom's batch registration and status change take at most 30 registrants a call.
REGISTRANT_BATCH_MAX = 30
# User types that may not take registrants: Basic, and "None" (no licence at all).
UNLICENSED = (LICENCE_BASIC, 99)

logger = logging.getLogger(__name__)


# Pages of GET /users read for the host search (300 users each).
ACCOUNT_USERS_PAGES = 20


def site_url_warning(site_url: str, debug: bool) -> str:
    parts = urlsplit(site_url)
    if parts.scheme == "https":
        return ""
    if parts.scheme == "http" and debug and parts.hostname in LOOPBACK_HOSTS:
        return ""
    return gettext(
        "SITE_URL is %(site_url)s: Zoom requires an https:// Redirect URL. Set SITE_URL to the site's https "
        "address (plain http is accepted only for localhost or 127.0.0.1 with DEBUG on)."
    ) % {"site_url": repr(site_url)}


class ZoomProvider(Provider):
    id = "zoom"
    name = "Zoom Meeting"
    service_name = "Zoom"
    needs_connection = True
    settings_form_class = ZoomSettingsForm
    # Zoom's hosts (a simulator's in development and tests), read as vm_settings.ZOOM_OAUTH_BASE_URL and so on.
    settings_defaults = {"ZOOM_OAUTH_BASE_URL": "https://zoom.us", "ZOOM_API_BASE_URL": "https://api.zoom.us/v2"}
    supports_participants = True
    supports_recordings = True
    supports_account = True

    # --- site configuration -------------------------------------------------
    def is_configured(self) -> bool:
        """Rooms can use Zoom: the General App is set (trainers connect their own accounts), or new rooms use the
        site's account and its Server-to-Server app is set (an organisation may register no General App)."""
        in_site_account = self.config.hosting == ProviderConfig.Hosting.ACCOUNT and self.account_is_configured()
        return self._app_is_configured() or in_site_account

    def _app_is_configured(self) -> bool:
        """The General App's credentials are set: people can connect their own Zoom accounts."""
        return bool(self.config.client_id and self.config.client_secret)

    def health_warnings(self) -> list[str]:
        warnings = []
        site_warning = site_url_warning(settings.SITE_URL, settings.DEBUG)
        if site_warning:
            warnings.append(site_warning)
        credentials_warning = self._credentials_warning()
        if credentials_warning:
            warnings.append(credentials_warning)
        if not self.config.webhook_secret:
            warnings.append(
                gettext(
                    "No webhook secret token: meetings changed or deleted by hand in Zoom are only noticed when "
                    "the host next uses them."
                )
            )
        warnings.extend(self._scope_warnings())
        return warnings

    def check_account(self) -> AccountCheck:
        """Test connection of the Server-to-Server app: a token, its scopes, the account's active users."""
        return account_check(self.config)

    def account_user(self, email: str) -> AccountUser | None:
        """GET /users/{email or id} with the site account's token (Light): the account's user, else None."""
        email = (email or "").strip()
        if not email or "/" in email:
            return None
        client = AccountClient(config=self.config)
        try:
            response = client.request("GET", f"/users/{quote(email, safe='@')}", category=LIGHT)
        except MeetingNotFound:
            return None  # 404 without a code: no such user
        except ProviderError as exc:
            if exc.code in ("1001", "1010"):
                return None
            raise
        body = zoom_error_body(response)
        if not body.get("id"):
            raise ProviderError(gettext("Zoom's answer could not be read; will retry."))
        return self._account_user_of(body, email=str(body.get("email") or email))

    def account_users(self) -> list[AccountUser]:
        """GET /users?status=active&page_size=300 (Medium), every page (next_page_token), at most
        ACCOUNT_USERS_PAGES pages."""
        client = AccountClient(config=self.config)
        users, token = [], ""
        for _page in range(ACCOUNT_USERS_PAGES):
            params = {"status": "active", "page_size": 300}
            if token:
                params["next_page_token"] = token
            body = zoom_error_body(client.request("GET", "/users", category=MEDIUM, params=params))
            listed = body.get("users")
            if not isinstance(listed, list):
                raise ProviderError(gettext("Zoom's answer could not be read; will retry."))
            users.extend(
                self._account_user_of(row, email=str(row.get("email") or ""))
                for row in listed
                if isinstance(row, dict) and row.get("id")
            )
            token = body.get("next_page_token") or ""
            if not isinstance(token, str) or not token:
                break
        return users

    def _account_user_of(self, body: dict, *, email: str) -> AccountUser:
        name = " ".join(str(part) for part in (body.get("first_name"), body.get("last_name")) if part).strip()
        licence = body.get("type")
        return AccountUser(
            remote_id=str(body["id"]),
            email=email,
            name=name or str(body.get("display_name") or ""),
            active=body.get("status", "active") == "active",
            licence=_licence_words(licence),
            capacity=self._capacity_of(licence),
            licensed={LICENCE_BASIC: False, 2: True, 3: True, 99: False}.get(licence) if _is_type(licence) else None,
        )

    def _credentials_warning(self) -> str:
        if not (self.config.client_id or self.config.client_secret):
            if self.config.hosting == ProviderConfig.Hosting.ACCOUNT and self.account_is_configured():
                return ""  # no General App is wanted: rooms are made in the site's account
            return gettext(
                "Client ID and Client secret not set: copy them from the app's App Credentials in the Zoom "
                "Marketplace. Trainers cannot connect to Zoom until then."
            )
        if not self.config.client_id:
            return gettext(
                "Client ID not set: copy it from the app's App Credentials in the Zoom Marketplace. "
                "Trainers cannot connect to Zoom until then."
            )
        if not self.config.client_secret:
            return gettext(
                "Client secret not set: copy it from the app's App Credentials in the Zoom Marketplace. "
                "Trainers cannot connect to Zoom until then."
            )
        return ""

    def closed_window_hint(self) -> str:
        # An unpublished app refuses other accounts' users on Zoom's own page, which never comes back to us.
        return gettext(
            "If Zoom said that the app can only be authorized by users of the account that created it, this "
            "site's Zoom app is private to another Zoom account: sign in to Zoom with a user of that account, "
            "or have the app published in the Zoom Marketplace."
        )

    def _scope_warnings(self) -> list[str]:
        return [
            _missing_scopes_warning(missing, people)
            for missing, people in self.connections_missing_scopes(missing_scopes)
        ]

    def redirect_uri(self, request=None) -> str:
        """The Redirect URL for OAuth the site's Zoom app has registered (the admin's choice on the settings page).

        Zoom refuses an authorize or token request whose redirect_uri the app has not registered, so
        this one URL is sent in both.
        """
        return redirect_url(legacy=zoom_options(self.config)["redirect_url"] == REDIRECT_LEGACY)

    def settings_context(self, request) -> dict:
        """What Zoom's settings page shows besides the framework's (form, warnings, Redirect URL): the webhook URL,
        the scopes."""
        granular_scopes, classic_scopes = scopes_to_list()
        account_granular_scopes, account_classic_scopes = account_scopes_to_list()
        return {
            "account_granular_scopes": account_granular_scopes,
            "account_classic_scopes": account_classic_scopes,
            "account_client_secret_set": bool(self.config.account_client_secret),
            "webhook_url": settings.SITE_URL.rstrip("/") + reverse("virtualmeeting_zoom:webhook"),
            "granular_scopes": granular_scopes,
            "classic_scopes": classic_scopes,
            "meeting_defaults": zoom_options(self.config),
            "client_secret_set": bool(self.config.client_secret),
            "webhook_secret_set": bool(self.config.webhook_secret),
        }

    # --- per-user connection: the framework's OAuth (virtualmeeting.oauth) with Zoom's app and words ----------
    # The framework sends self.redirect_uri() (the URL the app has registered; both route to the framework's
    # callback) and keeps it with the state, so the token request repeats exactly what the authorize sent.
    def oauth_app(self) -> OAuthApp:
        return oauth.zoom_app()

    def authorization_url(self, *, redirect_uri: str, state: str, code_challenge: str) -> str:
        if not self._app_is_configured():
            raise _not_set_up()
        return super().authorization_url(redirect_uri=redirect_uri, state=state, code_challenge=code_challenge)

    def complete_connection(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        if not self._app_is_configured():
            raise _not_set_up()
        return super().complete_connection(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)

    def missing_scopes(self, granted: str) -> list[str]:
        """Zoom grants granular scopes or (older apps) classic ones: scopes.missing_scopes knows both."""
        return missing_scopes(granted)

    def missing_scopes_error(self, missing: list[str]) -> ConnectError:
        values = {"missing": ", ".join(missing)}
        return ConnectError(
            gettext(
                "The Zoom app does not grant the scopes this site needs. Missing: %(missing)s. "
                "Ask a site admin to add them to the app in the Zoom Marketplace, then connect again."
            )
            % values,
            admin_message=gettext(
                "The Zoom app does not grant the scopes this site needs. Missing: %(missing)s. "
                "Add them to the app in the Zoom Marketplace (the Zoom Meeting settings page lists them), "
                "then connect again."
            )
            % values,
        )

    def connect_error(self, exc: TokenError) -> ConnectError:
        """Zoom's refusals of the code exchange in words for the person (and the site admin)."""
        if exc.status == 429:
            return ConnectError(
                gettext("Zoom is answering too many requests just now. Please connect again in a moment.")
            )
        if exc.transient:
            return ConnectError(gettext("Zoom could not be reached. Please try again in a moment."))
        if oauth.is_private_app_refusal(exc.reason):
            return ConnectError(oauth.PRIVATE_APP_MESSAGE)
        if exc.error == "invalid_client":
            return ConnectError(
                gettext(
                    "Zoom rejected this site's Client ID or Client secret. Ask a site admin to check the Zoom Meeting "
                    "settings."
                ),
                admin_message=gettext(
                    "Zoom rejected this site's Client ID or Client secret. Check them on the Zoom Meeting settings "
                    "page (Site administration) against the app in the Zoom Marketplace."
                ),
            )
        if exc.error in ("invalid_grant", "invalid_request"):
            return ConnectError(
                gettext(
                    "Zoom did not accept the sign-in (the code may have expired or been used already). "
                    "Please connect again."
                )
            )
        return ConnectError(gettext("Zoom refused the connection (%(error)s).") % {"error": exc.error})

    def refresh_error(self, exc: TokenError) -> ProviderError:
        """A refused or failed refresh at Zoom's token endpoint."""
        if exc.status == 429:
            # Zoom's token endpoint asked for a wait: keep it; the grant itself is fine.
            return RateLimited(gettext("Zoom asked to wait before refreshing the access token."), retry_at=exc.retry_at)
        if exc.transient:
            return ProviderError(gettext("Zoom could not refresh the access token just now; will retry."))
        if exc.error == "invalid_client":
            return ProviderError(BAD_CLIENT_MESSAGE, permanent=True, code="invalid_client")
        logger.info("Zoom refused a token refresh: %s", exc.error)
        # invalid_grant (revoked, rotated away, expired) and any other refusal: only a new connect helps.
        return AuthRevoked(RECONNECT_MESSAGE)

    def reconnect_message(self) -> str:
        return str(RECONNECT_MESSAGE)

    def read_account(self, token: TokenSet) -> ConnectedAccount:
        """GET /users/me: who connected, shown as "First Last (email)"."""
        me = self._read_me(token.access_token)
        name = " ".join(part for part in (me.get("first_name"), me.get("last_name")) if part).strip()
        return ConnectedAccount(
            remote_account_id=str(me["id"]),
            name=name or me.get("display_name") or me.get("email", ""),
            email=me.get("email", ""),
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=token.expires_at,
            scopes=token.scopes,
            extra={"type": me.get("type"), "account_id": me.get("account_id", "")},
        )

    def _read_me(self, access_token: str) -> dict:
        try:
            response = http_session().get(
                f"{api_base_url()}/users/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
            )
        except requests.RequestException:
            raise ConnectError(gettext("Zoom could not be reached. Please try again in a moment.")) from None
        body = zoom_error_body(response)
        if response.status_code == 200 and body.get("id"):
            return body
        code = body.get("code")
        if code in (1001, 1010) or oauth.is_private_app_refusal(body.get("message", "")):
            raise ConnectError(oauth.PRIVATE_APP_MESSAGE)
        if code == 4711:
            values = {"detail": zoom_error_text(body)}
            raise ConnectError(
                gettext(
                    "The Zoom app lacks a scope this site needs (%(detail)s). Ask a site admin to add it "
                    "to the app in the Zoom Marketplace, then connect again."
                )
                % values,
                admin_message=gettext(
                    "The Zoom app lacks a scope this site needs (%(detail)s). Add it to the app in the Zoom "
                    "Marketplace (the Zoom Meeting settings page lists them), then connect again."
                )
                % values,
            )
        if response.status_code >= 500:
            raise ConnectError(gettext("Zoom had a problem reading your account. Please try again in a moment."))
        raise ConnectError(
            gettext("Zoom did not let this site read your account: %(reason)s")
            % {"reason": zoom_error_text(body) or response.status_code}
        )

    def disconnect(self, connection: ProviderConnection) -> None:
        """Revoke the access token at Zoom (best effort: the framework deletes our copy either way)."""
        if self._app_is_configured():
            super().disconnect(connection)

    def meeting_capacity(self, connection: ProviderConnection) -> int | None:
        """Participants a meeting of this host holds: Basic and Pro 100, Business 300 (configurable)."""
        return self._capacity_of((connection.extra or {}).get("type"))

    def _capacity_of(self, licence) -> int | None:
        options = zoom_options(self.config)
        if licence == LICENCE_BASIC:
            return int(options["capacity_basic"])
        if licence in LICENCE_NAMES and licence != 99:
            return int(options["capacity_licensed"])
        return None

    def remote_matches(self, remote: RemoteMeeting, spec: MeetingSpec) -> bool:
        """Compare with what we would have sent: Zoom keeps at most 200 characters of a topic.

        The agenda counts too: attendees read it in Zoom's invitation, so a hand edit (or a meeting
        made before agendas stopped carrying an internal marker) is put back to the event's details.
        So do the registration settings: manual approval, or Zoom's registrant mails switched back on
        (they would go to addresses nobody reads), are put back as well.
        """
        ours = replace(spec, topic=(spec.topic or "Meeting")[:TOPIC_MAX])
        return (
            super().remote_matches(remote, ours)
            and (remote.agenda or "").strip() == zoom_agenda(spec.agenda)
            and registration_matches(remote.extra.get("registration_settings") or {}, spec)
        )

    # --- meetings -----------------------------------------------------------
    def _client(self, connection: ProviderConnection | AccountHost | None) -> ZoomClient:
        if isinstance(connection, AccountHost):
            return AccountClient(config=self.config, host=connection.host)
        if connection is None:
            raise ProviderError(gettext("Zoom meetings need the owner's connected Zoom account."), permanent=True)
        return ZoomClient(config=self.config, connection=connection, provider=self)

    @staticmethod
    def _user_path(connection: ProviderConnection | AccountHost) -> str:
        """The user a meeting is made for: the connected user ("me"), or the site account's host."""
        if isinstance(connection, AccountHost):
            return f"/users/{quote(connection.host, safe='@')}"
        return "/users/me"

    @staticmethod
    def _zoom_user(connection: ProviderConnection | AccountHost) -> str:
        return connection.host if isinstance(connection, AccountHost) else connection.remote_account_id

    @staticmethod
    def _meeting_id(remote_id: str) -> str:
        remote_id = str(remote_id or "").strip()
        if not remote_id.isdigit():
            raise MeetingNotFound(gettext("The stored Zoom meeting id is not valid."))
        return quote(remote_id)

    def _meeting_path(self, remote_id: str) -> str:
        return f"/meetings/{self._meeting_id(remote_id)}"

    def create_meeting(self, *, connection: ProviderConnection | None, spec: MeetingSpec) -> RemoteMeeting:
        """Create the meeting; the create is remembered first (not in the meeting) for find_meeting."""
        client = self._client(connection)
        body = create_body(spec, client.options)
        sent = self._remember_create(connection, spec, body)
        try:
            response = client.request(
                "POST",
                f"{self._user_path(connection)}/meetings",
                category=CREATE,
                json=body,
                counted=True,
                ambiguous=True,
            )
        except ProviderError as exc:
            if not exc.ambiguous:
                sent.delete()  # refused or never sent: Zoom made nothing to find
            raise
        try:
            return remote_meeting(response.json())
        except (ValueError, KeyError, TypeError):
            # Zoom said 201 but the answer is unreadable: the meeting probably exists.
            raise ProviderError(
                gettext("Zoom's answer to the create could not be read; will check and retry."), ambiguous=True
            ) from None

    def update_meeting(
        self, *, connection: ProviderConnection | None, remote_id: str, spec: MeetingSpec, previous: MeetingSpec | None
    ) -> RemoteMeeting | None:
        """PATCH only what changed since `previous`; no call (and no quota used) when nothing did."""
        changes = update_body(spec, previous)
        if not changes:
            return None
        client = self._client(connection)
        client.request("PATCH", self._meeting_path(remote_id), category=LIGHT, json=changes, counted=True)
        return None

    def delete_meeting(self, *, connection: ProviderConnection | None, remote_id: str) -> None:
        self._delete(self._client(connection), remote_id)

    def delete_meeting_as_account(self, *, remote_id: str, connection: ProviderConnection | None = None) -> None:
        """DELETE /meetings/{id} with the account token: it reaches every meeting of the site's account, whoever
        made it. A meeting of a personal connection in another Zoom account is out of its reach: refused here."""
        theirs = (connection.extra or {}).get("account_id", "") if connection is not None else ""
        if theirs and theirs != self.config.account_id:
            raise ProviderError(
                gettext("The meeting belongs to another Zoom account than the site's."),
                permanent=True,
                code="other_account",
            )
        self._delete(AccountClient(config=self.config), remote_id)

    def _delete(self, client: ZoomClient, remote_id: str) -> None:
        try:
            client.request(
                "DELETE", self._meeting_path(remote_id), category=LIGHT, params={"schedule_for_reminder": "false"}
            )
        except MeetingNotFound:
            return  # already gone (deleted in Zoom, or expired)
        except ProviderError as exc:
            if exc.code == "3007":
                return  # the meeting has ended: nothing left to delete
            raise

    def _get(self, client: ZoomClient, remote_id: str) -> dict:
        response = client.request("GET", self._meeting_path(remote_id), category=LIGHT)
        body = zoom_error_body(response)
        if "id" not in body:
            raise ProviderError(gettext("Zoom's answer could not be read; will retry."))
        return body

    def get_meeting(self, *, connection: ProviderConnection | None, remote_id: str) -> RemoteMeeting:
        return remote_meeting(self._get(self._client(connection), remote_id))

    def host_url(self, *, connection: ProviderConnection | None, remote_id: str) -> str:
        """Zoom's start_url carries the host's token and expires in about 2 hours: always fetched fresh."""
        start_url = self._get(self._client(connection), remote_id).get("start_url")
        if not start_url:
            raise ProviderError(gettext("Zoom did not give a start link for this meeting; try again in a moment."))
        return start_url

    # --- registrants: personal join links -----------------------------------------------
    supports_registrants = True
    registrant_batch_size = REGISTRANT_BATCH_MAX

    def registrants_unavailable(self, connection: ProviderConnection | None) -> str:
        """Why this host's meetings give no personal links ("" when they do); no call is made.

        Zoom takes registrants only for a licensed host: the user type /users/me gave at connect (or a
        refusal recorded since). An unknown type is tried, and Zoom's answer decides. A grant without
        the registrant scopes makes meetings as before, with the shared link.
        """
        reason = super().registrants_unavailable(connection)
        if reason:
            return reason
        if connection is None:
            return gettext("Personal join links need the owner's connected Zoom account.")
        if isinstance(connection, AccountHost):
            return ""  # the host's licence is not known without a call: Zoom's answer decides
        if (connection.extra or {}).get("type") in UNLICENSED:
            return _unlicensed_reason()
        lacking = missing_capability(connection.scopes).get(CAPABILITY_REGISTRANTS)
        if lacking:
            return ngettext(
                "Reconnect to enable personal join links: the Zoom connection lacks the scope %(scopes)s "
                "(a site admin may first need to add it to the Zoom app).",
                "Reconnect to enable personal join links: the Zoom connection lacks the scopes %(scopes)s "
                "(a site admin may first need to add them to the Zoom app).",
                len(lacking),
            ) % {"scopes": ", ".join(lacking)}
        return ""

    def register(
        self, *, connection: ProviderConnection | None, remote_id: str, people: list[RegistrantSpec]
    ) -> list[RemoteRegistrant]:
        """One person: POST registrants (Light); several: POST batch_registrants (Heavy, at most 30).

        Approved at once, with Zoom's confirmation mail off. Zoom answers an address it already holds
        with that registration; one held but not approved (cancelled, denied, or waiting for the host)
        is approved and asked for again, so each answer carries a join link. Registrant calls are not
        meeting creates or updates: the host's 100 a day stay untouched.
        """
        if len(people) > self.registrant_batch_size:
            raise ValueError(f"Zoom registers at most {self.registrant_batch_size} people a call.")
        if not people:
            return []
        client = self._client(connection)
        path = self._meeting_path(remote_id)
        found = self._register_call(client, path, people)
        waiting = {registrant.email.lower(): registrant for registrant in found if not registrant.join_url}
        if waiting:
            self._set_status(client, path, "approve", [registrant.registrant_id for registrant in waiting.values()])
            again = self._register_call(client, path, [person for person in people if person.email.lower() in waiting])
            approved = {registrant.email.lower(): registrant for registrant in again}
            found = [approved.get(registrant.email.lower(), registrant) for registrant in found]
        return [registrant for registrant in found if registrant.join_url]

    def _register_call(self, client: ZoomClient, path: str, people: list[RegistrantSpec]) -> list[RemoteRegistrant]:
        if len(people) == 1:
            person = people[0]
            body = {**registrant_body(person), "auto_approve": True}
            response = self._registrant_request(
                client, "POST", f"{path}/registrants", category=LIGHT, json=body, ambiguous=True
            )
            # The answer names the registrant but not the address: it is the one sent.
            answer = {**zoom_error_body(response), "email": person.email}
            return remote_registrants([answer], id_field="registrant_id")
        response = self._registrant_request(
            client,
            "POST",
            f"{path}/batch_registrants",
            category=HEAVY,
            json=batch_registrants_body(people),
            ambiguous=True,
        )
        return remote_registrants(zoom_error_body(response).get("registrants"), id_field="registrant_id")

    def list_registrants(self, *, connection: ProviderConnection | None, remote_id: str) -> list[RemoteRegistrant]:
        """GET registrants?status=approved, every page (Medium): the recovery after a lost answer."""
        client = self._client(connection)
        return self._approved_registrants(client, self._meeting_path(remote_id))

    def _approved_registrants(self, client: ZoomClient, path: str) -> list[RemoteRegistrant]:
        params = {"status": "approved", "page_size": LIST_PAGE_SIZE}
        found = []
        for _ in range(LIST_MAX_PAGES):
            response = self._registrant_request(client, "GET", f"{path}/registrants", category=MEDIUM, params=params)
            body = zoom_error_body(response)
            found.extend(r for r in remote_registrants(body.get("registrants"), id_field="id") if r.join_url)
            token = body.get("next_page_token")
            if not token:
                break
            params = {**params, "next_page_token": token}
        return found

    def cancel_registrants(
        self, *, connection: ProviderConnection | None, remote_id: str, registrant_ids: list[str]
    ) -> None:
        """PUT registrants/status {action: cancel} (Medium, at most 30); a registrant already gone is no error.

        Zoom changes nothing when it does not know one of them, so then the ones it still holds are
        cancelled in a second call.
        """
        if len(registrant_ids) > self.registrant_batch_size:
            raise ValueError(f"Zoom changes at most {self.registrant_batch_size} registrants a call.")
        if not registrant_ids:
            return
        client = self._client(connection)
        path = self._meeting_path(remote_id)
        try:
            self._set_status(client, path, "cancel", registrant_ids)
        except ProviderError as exc:
            if exc.code != REGISTRANT_UNKNOWN:
                raise
            held = {registrant.registrant_id for registrant in self._approved_registrants(client, path)}
            still = [registrant_id for registrant_id in registrant_ids if registrant_id in held]
            if still:
                self._set_status(client, path, "cancel", still)

    def _set_status(self, client: ZoomClient, path: str, action: str, registrant_ids: list[str]) -> None:
        body = {"action": action, "registrants": [{"id": registrant_id} for registrant_id in registrant_ids]}
        self._registrant_request(client, "PUT", f"{path}/registrants/status", category=MEDIUM, json=body)

    def _registrant_request(self, client: ZoomClient, method: str, path: str, **kwargs):
        """A registrant call: its own bucket, never the daily meeting budget, and Zoom's registrant refusals."""
        try:
            return client.request(method, path, meeting_budget=False, refusal=_registrant_refusal, **kwargs)
        except ProviderError as exc:
            if exc.code == UNLICENSED_CODE and client.connection is not None:
                _record_unlicensed(client.connection)
            raise

    def _remember_create(self, connection, spec: MeetingSpec, body: dict) -> ZoomCreateRequest:
        now = timezone.now()
        ZoomCreateRequest.objects.filter(sent_at__lt=now - CREATE_REQUESTS_KEPT).delete()
        return ZoomCreateRequest.objects.create(
            marker=spec.marker,
            zoom_user_id=self._zoom_user(connection),
            topic=body["topic"],
            start=spec.start.replace(microsecond=0),  # Zoom keeps whole seconds
            duration=duration_minutes(spec),
            sent_at=now,
        )

    def find_meeting(self, *, connection: ProviderConnection | None, marker: str) -> RemoteMeeting | None:
        """The meeting a create for `marker` made when its answer was lost, or None.

        Attendees read a meeting's agenda (and topic) in Zoom's invitation, so nothing internal goes
        into the meeting. The other carriers Zoom offers do not hold up: `settings.custom_keys` is not
        accepted by the create (OpenAPI: update only), so it would need the create's answer, the very
        thing that was lost, plus a PATCH from the daily budget; `tracking_fields` must first be
        defined by the account's admin, are shown to hosts, and neither appears in the list call.
        Instead each create is remembered before it is sent (ZoomCreateRequest), and the meeting is
        recognised among the host's upcoming meetings by what was sent (topic, start, duration) and
        Zoom's created_at near the time it was sent: all fields of the list call, so one Medium call per
        300 meetings and no per-meeting GET. Meetings another of our rows already holds are left out;
        of several matches, the one created nearest the send wins.
        """
        if not marker:
            return None
        client = self._client(connection)
        sent = list(ZoomCreateRequest.objects.filter(marker=marker, zoom_user_id=self._zoom_user(connection)))
        if not sent:
            return None
        matches = {}
        for listed in self._upcoming(client, self._user_path(connection)):
            distance = _sent_distance(listed, sent)
            if distance is not None:
                matches[str(listed["id"])] = distance
        held = VirtualMeeting.objects.filter(provider=self.id, remote_id__in=list(matches)).exclude(marker=marker)
        for remote_id in held.values_list("remote_id", flat=True):
            matches.pop(remote_id, None)
        # The old meeting of a move (this row's too: same topic and start, maybe the same Zoom user) is never it.
        moving = VirtualMeeting.objects.filter(provider=self.id, old_remote_id__in=list(matches))
        for remote_id in moving.values_list("old_remote_id", flat=True):
            matches.pop(remote_id, None)
        for remote_id in sorted(matches, key=matches.get):
            try:
                return self.get_meeting(connection=connection, remote_id=remote_id)
            except MeetingNotFound:
                continue  # deleted since it was listed
        return None

    # --- attendance and recordings ---------------------------------------------------
    def missing_capability_scopes(self, connection: ProviderConnection | None) -> dict[str, list[str]]:
        """The scopes the grant lacks for attendance and recordings, in the grant's own model."""
        if isinstance(connection, AccountHost):
            return {}  # the account's token holds what Test connection checked; Zoom's answer decides the rest
        return missing_capability(connection.scopes if connection else "")

    def _past_participants_path(self, remote_id: str, occurrence: str) -> str:
        if not occurrence:
            return f"/past_meetings/{self._meeting_id(remote_id)}/participants"
        encoded = quote(occurrence, safe="")
        if occurrence.startswith("/") or "//" in occurrence:
            encoded = quote(encoded, safe="")  # Zoom: such a uuid must be encoded twice
        return f"/past_meetings/{encoded}/participants"

    def past_participants(
        self, *, connection: ProviderConnection | None, remote_id: str, occurrence: str
    ) -> list[ParticipantRecord]:
        """GET /past_meetings/{uuid}/participants, all pages (Medium; the meeting id for the latest occurrence).

        Zoom answers 404 (3001, "not end") until it has the data, some minutes after the end: NotReadyYet.
        """
        client = self._client(connection)
        path = self._past_participants_path(remote_id, occurrence)
        params = {"page_size": LIST_PAGE_SIZE}
        records = []
        for _ in range(LIST_MAX_PAGES):
            try:
                response = client.request("GET", path, category=CREATE, params=params)
            except MeetingNotFound:
                raise NotReadyYet(
                    message=gettext(
                        "Zoom has no participants for this meeting yet (they appear minutes after it ends)."
                    )
                ) from None
            body = zoom_error_body(response)
            for item in body.get("participants") or []:
                record = participant_record(item)
                if record is not None:
                    records.append(record)
            token = body.get("next_page_token")
            if not token:
                break
            params = {**params, "next_page_token": token}
        return records

    def recordings(self, *, connection: ProviderConnection | None, remote_id: str) -> list[RecordingRecord]:
        """GET /meetings/{id}/recordings (Light): the latest occurrence's finished files.

        Zoom answers 3301 ("no recording") both for a meeting that was not recorded and while a cloud
        recording is processed: NotReadyYet when the site records to the cloud, else none.
        """
        client = self._client(connection)
        try:
            response = client.request("GET", f"{self._meeting_path(remote_id)}/recordings", category=LIGHT)
        except MeetingNotFound:
            return []
        except ProviderError as exc:
            if exc.code != "3301":
                raise
            if zoom_options(self.config)["auto_recording"] == "cloud":
                raise NotReadyYet(message=gettext("Zoom has not finished processing the recording yet.")) from None
            return []
        return recording_records(zoom_error_body(response))

    def _upcoming(self, client: ZoomClient, user_path: str):
        params = {"type": "upcoming", "page_size": LIST_PAGE_SIZE}
        for _ in range(LIST_MAX_PAGES):
            response = client.request("GET", f"{user_path}/meetings", category=MEDIUM, params=params)
            body = zoom_error_body(response)
            for listed in body.get("meetings") or []:
                if isinstance(listed, dict) and "id" in listed:
                    yield listed
            token = body.get("next_page_token")
            if not token:
                return
            params = {**params, "next_page_token": token}


def _sent_distance(listed: dict, sent: list[ZoomCreateRequest]) -> timedelta | None:
    """How far a listed meeting's created_at is from the send of a create it matches; None if it matches none."""
    created = parse_zoom_time(listed.get("created_at"))
    start = parse_zoom_time(listed.get("start_time"))
    if created is None or start is None:
        return None
    distances = [
        abs(created - request.sent_at)
        for request in sent
        if str(listed.get("topic") or "").strip() == request.topic.strip()
        and start == request.start
        and listed.get("duration") == request.duration
        and abs(created - request.sent_at) <= CREATED_NEAR_SEND
    ]
    return min(distances, default=None)


REGISTRANT_UNKNOWN = "registrant_not_found"
UNLICENSED_CODE = "unlicensed"


def _is_type(licence) -> bool:
    return isinstance(licence, int) and not isinstance(licence, bool)


def _licence_words(licence) -> str:
    """Zoom's user `type` in words (zoom-api.md: 1 Basic, 2 Licensed, 3 On-prem)."""
    words = {LICENCE_BASIC: gettext("Basic"), 2: gettext("Licensed"), 3: gettext("On-prem"), 99: gettext("None")}
    return words.get(licence, "") if _is_type(licence) else ""


def _unlicensed_reason() -> str:
    return gettext(
        "The host's Zoom account is not licensed (Basic): Zoom gives personal join links only for licensed hosts, "
        "so everyone uses the shared link. Reconnect to Zoom once the account is licensed."
    )


def _registrant_refusal(body: dict) -> ProviderError | None:
    """Zoom's refusals of registrant calls as framework errors; None leaves the general mapping (client.error_for).

    A meeting gone (3001) stays MeetingNotFound; "registration is off" (404 to an add, 300 to a list
    or status change) never does, as the meeting exists and only needs its settings put back.
    """
    code = body.get("code")
    message = str(body.get("message") or "").lower()
    if code == 300 and "not found" in message:  # the spec's 300 "Meeting ... is not found or has expired"
        return MeetingNotFound(gettext("The meeting no longer exists in Zoom."))
    if code == 200 or "paid user" in message:
        return ProviderError(_unlicensed_reason(), permanent=True, code=UNLICENSED_CODE)
    if code in (300, 404) and "registration" in message:
        text = gettext(
            "The Zoom meeting does not require registration (it may have been changed in Zoom); "
            "personal join links will be tried again."
        )
        return RegistrationOff(text)
    if code == 404 and "registrant" in message:
        return ProviderError(gettext("Zoom does not know one of these registrants."), code=REGISTRANT_UNKNOWN)
    if code == 3043:
        text = gettext("Zoom refused the registration: the meeting has reached its maximum number of registrants.")
        return ProviderError(text, permanent=True, code="3043")
    if code == 3038:
        text = gettext("The Zoom meeting is over: Zoom takes no more registrations for it.")
        return ProviderError(text, permanent=True, code="3038")
    if code == 4711:
        text = gettext(
            "Zoom refused personal join links: the Zoom connection lacks a scope (%(detail)s). Reconnect to "
            "enable personal join links (a site admin may first need to add the scope to the Zoom app)."
        ) % {"detail": zoom_error_text(body) or "4711"}
        return ProviderError(text, permanent=True, code="4711")
    return None


def _record_unlicensed(connection: ProviderConnection) -> None:
    """Zoom said the host is not licensed: remember it, so no more meetings ask for registration (no call is
    wasted) and the trainer reads why. Connecting again reads the licence afresh."""
    extra = dict(connection.extra or {})
    if extra.get("type") in UNLICENSED:
        return
    extra["type"] = LICENCE_BASIC
    connection.extra = extra
    ProviderConnection.objects.filter(pk=connection.pk).update(extra=extra)


def _not_set_up() -> ConnectError:
    return ConnectError(
        gettext("Zoom Meeting is not set up yet: a site admin must enter the Client ID and secret."),
        admin_message=gettext(
            "Zoom Meeting is not set up yet: enter the Client ID and secret on the Zoom Meeting settings page "
            "(Site administration)."
        ),
    )


def _missing_scopes_warning(missing, people: list[str]) -> str:
    """What the settings page says about trainers whose grant lacks scopes: the first few named, the rest counted."""
    names = ", ".join(people[:PEOPLE_NAMED])
    if len(people) > PEOPLE_NAMED:
        more = len(people) - PEOPLE_NAMED
        names = ngettext("%(names)s and %(count)d more", "%(names)s and %(count)d more", more) % {
            "names": names,
            "count": more,
        }
    values = {"people": names, "scopes": ", ".join(missing)}
    if len(people) == 1:
        return (
            ngettext(
                "The Zoom grant of %(people)s lacks the scope %(scopes)s: add it to the app in the Zoom Marketplace, "
                "then ask this trainer to connect again.",
                "The Zoom grant of %(people)s lacks the scopes %(scopes)s: add them to the app in the Zoom Marketplace, "
                "then ask this trainer to connect again.",
                len(missing),
            )
            % values
        )
    return (
        ngettext(
            "The Zoom grant of %(people)s lacks the scope %(scopes)s: add it to the app in the Zoom Marketplace, "
            "then ask these trainers to connect again.",
            "The Zoom grant of %(people)s lacks the scopes %(scopes)s: add them to the app in the Zoom Marketplace, "
            "then ask these trainers to connect again.",
            len(missing),
        )
        % values
    )
