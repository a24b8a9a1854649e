"""The provider contract.

A provider is mostly declarations plus a few hooks. The framework (sync
service, tasks, connect views) calls only what is defined here; a provider
never imports `seminars`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from virtualmeeting import oauth
from virtualmeeting.errors import AuthRevoked, ConnectError, ProviderError, RateLimited

if TYPE_CHECKING:
    from django import forms

    from virtualmeeting.models import ProviderConfig, ProviderConnection


@dataclass
class RemoteMeeting:
    """What the provider says about a meeting it holds."""

    remote_id: str
    join_url: str
    start: datetime | None = None  # aware UTC
    duration_minutes: int | None = None
    timezone: str = ""
    topic: str = ""
    agenda: str = ""
    password: str = ""
    host_email: str = ""
    registration: bool | None = None  # requires registration; None when the provider does not say
    extra: dict[str, Any] = field(default_factory=dict)


# --- the meeting spec -----------------------------------------------------------------
# Each field of MeetingSpec is declared once, with what the framework does with it (SpecField): the
# VirtualMeeting attribute it is read from (MeetingSpec.of), how it is stored in synced_spec and
# inflight_spec (to_json, from_json), whether a difference is an update (changed_fields), and how it
# is checked against what the provider holds (matches). Serialisation, comparison and spec_of derive
# from these declarations; a provider maps the fields it uses to its own request body.


@dataclass(frozen=True)
class Codec:
    """How a field's value is written in the stored JSON, and read back."""

    dump: Callable[[Any], Any]
    load: Callable[[Any], Any]


TEXT = Codec(dump=str, load=str)
INSTANT = Codec(dump=datetime.isoformat, load=datetime.fromisoformat)  # aware; read back as the same instant
FLAG = Codec(dump=bool, load=bool)
TEXTS = Codec(dump=list, load=tuple)


@dataclass(frozen=True)
class SpecField:
    """What the framework does with one field of MeetingSpec (the field's metadata["spec"])."""

    column: str | None  # the VirtualMeeting attribute MeetingSpec.of reads; None: given to `of` by the caller
    codec: Codec | None  # how synced_spec/inflight_spec store it; None: not stored
    compared: bool  # a difference from the last synced spec is an update
    # Does the meeting the provider holds have this field as the spec wants it? None: not read back.
    read_back: Callable[[RemoteMeeting, MeetingSpec], bool] | None


def spec_field(
    default: Any = MISSING,
    *,
    column: str | None = None,
    codec: Codec | None = None,
    compared: bool = True,
    read_back: Callable[[RemoteMeeting, MeetingSpec], bool] | None = None,
):
    """Declare a MeetingSpec field. A stored field with a default loads rows stored before it existed."""
    declaration = SpecField(column=column, codec=codec, compared=compared, read_back=read_back)
    return field(default=default, metadata={"spec": declaration})


def whole_minutes(spec: MeetingSpec) -> int:
    """The spec's duration in whole minutes, rounded up."""
    return -(-int((spec.finish - spec.start).total_seconds()) // 60)


# The read-back checks: a provider that does not say (None, or "" for a zone) is taken to match.
def _same_topic(remote: RemoteMeeting, spec: MeetingSpec) -> bool:
    return remote.topic == spec.topic


def _same_start(remote: RemoteMeeting, spec: MeetingSpec) -> bool:
    return remote.start is None or remote.start == spec.start


def _same_duration(remote: RemoteMeeting, spec: MeetingSpec) -> bool:
    return remote.duration_minutes is None or remote.duration_minutes == whole_minutes(spec)


def _same_zone(remote: RemoteMeeting, spec: MeetingSpec) -> bool:
    return not remote.timezone or remote.timezone == spec.timezone


def _same_registration(remote: RemoteMeeting, spec: MeetingSpec) -> bool:
    return remote.registration is None or remote.registration == spec.registration


@dataclass(frozen=True)
class MeetingSpec:
    """The desired state of one meeting, as the product wants it to be.

    Adding a field: declare it here with `spec_field` (see virtualmeeting/README.md, "Adding a field to the
    meeting spec"), then map it in the providers that send it.
    """

    topic: str = spec_field(column="topic", codec=TEXT, read_back=_same_topic)
    start: datetime = spec_field(column="start", codec=INSTANT, read_back=_same_start)  # aware, UTC
    finish: datetime = spec_field(column="finish", codec=INSTANT, read_back=_same_duration)  # aware, UTC
    timezone: str = spec_field(column="time_zone", codec=TEXT, read_back=_same_zone)  # IANA, e.g. "Europe/London"
    agenda: str = spec_field("", column="agenda", codec=TEXT)
    # The meeting requires registration, so each registrant gets a personal join link
    # (Zoom: approve automatically, the provider's own registration emails off). Given to `of`: whether
    # the host can take registrants is the provider's to say (sync.registration_wanted).
    registration: bool = spec_field(False, codec=FLAG, read_back=_same_registration)
    # Site account: emails of the account's users who may also start the meeting (Zoom's alternative hosts).
    # A provider without them ignores this.
    alternative_hosts: tuple[str, ...] = spec_field((), column="alternative_hosts", codec=TEXTS)
    # The product's own reference for this meeting (internal: never shown to attendees). A provider
    # keeps whatever it needs, on our side, to recognise the meeting a create made when the answer
    # was lost (Zoom: what was sent and when), so `find_meeting` can adopt it. Kept on the row, not in
    # the stored spec, and never an update.
    marker: str = spec_field("", column="marker", compared=False)

    @classmethod
    def declarations(cls) -> list[tuple[str, SpecField]]:
        """Each field's name and declaration, in order."""
        return [(f.name, f.metadata["spec"]) for f in fields(cls)]

    @classmethod
    def of(cls, meeting, *, registration: bool = False) -> MeetingSpec:
        """The desired spec of a VirtualMeeting; `registration` as `sync.registration_wanted` decides."""
        values = {}
        for f in fields(cls):
            column = f.metadata["spec"].column
            if column:
                value = getattr(meeting, column)
                values[f.name] = tuple(value or ()) if isinstance(f.default, tuple) else value
        return cls(**values, registration=registration)

    def to_json(self) -> dict:
        """The spec as VirtualMeeting.synced_spec and inflight_spec store it (the marker is the row's own)."""
        return {
            name: declared.codec.dump(getattr(self, name)) for name, declared in self.declarations() if declared.codec
        }

    @classmethod
    def from_json(cls, data: dict, *, marker: str) -> MeetingSpec | None:
        """A stored spec, or None when none is stored. A field missing from an older row takes its default."""
        if not data:
            return None
        values = {
            name: declared.codec.load(data[name])
            for name, declared in cls.declarations()
            if declared.codec and name in data
        }
        return cls(**values, marker=marker)

    def changed_fields(self, previous: MeetingSpec | None) -> frozenset[str]:
        """The compared fields that differ from `previous` (every one of them without a previous spec).

        Times compare as instants (an offset written differently is the same time).
        """
        return frozenset(
            name
            for name, declared in self.declarations()
            if declared.compared and (previous is None or getattr(self, name) != getattr(previous, name))
        )

    def matches(self, remote: RemoteMeeting) -> bool:
        """Does the meeting the provider holds have every field that is read back as this spec wants it?"""
        return all(declared.read_back(remote, self) for _, declared in self.declarations() if declared.read_back)


@dataclass(frozen=True)
class RegistrantSpec:
    """One person to register for a meeting."""

    key: str  # the framework's row key (MeetingRegistrant.pk as str): stable, unique
    email: str  # unique per registrant in the meeting; never the person's real address
    first_name: str
    last_name: str


@dataclass
class RemoteRegistrant:
    """A registrant the provider holds."""

    registrant_id: str
    email: str
    join_url: str = field(repr=False)  # personal: a secret, never logged


@dataclass(frozen=True)
class ParticipantRecord:
    """One join..leave interval of one device in a meeting occurrence, as the provider reports it."""

    participant_key: str  # the provider's per-device participant id (Zoom: participant_uuid, else user_id, else id)
    name: str
    email: str = ""  # often empty (people outside the host's account)
    registrant_id: str = ""
    joined_at: datetime | None = None  # aware UTC; None when the provider gave no times: present, minutes unknown
    left_at: datetime | None = None  # None while in the meeting
    leave_reason: str = ""
    # The person's own account at the provider when they signed in (Zoom: their user id), else "":
    # how the meeting's host is told from the other participants (selectors.meeting_participants).
    account_id: str = ""


@dataclass(frozen=True)
class RecordingRecord:
    """One recording file of a meeting occurrence."""

    remote_id: str  # the file id
    file_type: str  # MP4, M4A, TRANSCRIPT, ...
    recording_type: str  # shared_screen_with_speaker_view, audio_only, ...
    play_url: str
    share_url: str = ""
    passcode: str = ""  # a secret: stored encrypted, never logged
    recording_start: datetime | None = None
    recording_end: datetime | None = None
    occurrence: str = ""  # the occurrence it belongs to (Zoom: the meeting uuid)


# Capabilities a connection may lack scopes for (missing_capability_scopes).
CAPABILITY_ATTENDANCE = "attendance"
CAPABILITY_RECORDINGS = "recordings"
CAPABILITY_REGISTRANTS = "registrants"


@dataclass(frozen=True)
class AccountCheck:
    """What "Test connection" found about the site's account: words for the site admin, and the settings
    field they concern ("": the account as a whole), so the page shows them next to it."""

    ok: bool
    message: str
    field: str = ""


@dataclass(frozen=True)
class AccountHost:
    """A meeting of the site's account (ProviderConfig.hosting "account"), hosted by `host`: the provider's id of
    a user of the organisation's account. The sync gives it to the meeting hooks in place of a ProviderConnection
    (the `connection` argument), so every hook acts with the site account's credentials for that host."""

    host: str


@dataclass(frozen=True)
class AccountUser:
    """A user of the site's account, as `account_user` found them."""

    remote_id: str  # what AccountHost.host takes
    email: str
    name: str = ""
    active: bool = True
    licence: str = ""  # the user's licence in words ("Basic", "Licensed"), for staff choosing a host
    capacity: int | None = None  # participants a meeting of this host holds, when known
    licensed: bool | None = (
        None  # a paid licence (Zoom: Licensed or On-prem, what alternative hosts need); None: unknown
    )


@dataclass
class ConnectedAccount:
    """The result of a finished connect flow: who connected and the tokens."""

    remote_account_id: str
    name: str
    email: str
    access_token: str
    refresh_token: str
    expires_at: datetime | None
    scopes: str = ""  # space separated, as granted
    extra: dict[str, Any] = field(default_factory=dict)  # licence type, account id, ...


class Provider(ABC):
    """Base class for meeting providers. Subclasses set the declarations and fill in the hooks."""

    id: str = ""
    name: str = ""  # shown in the "Add virtual room link" dropdown, e.g. "Zoom Meeting"
    service_name: str = ""  # the service in sentences, e.g. "Zoom" ("waiting for Zoom's daily limit")
    needs_connection: bool = False  # True: each room owner connects their own account (OAuth)
    # Called as settings_form_class(data=None, *, config); its save() writes into the ProviderConfig.
    # virtualmeeting.forms.ProviderSettingsForm is a base that handles write-only secrets.
    settings_form_class: type[forms.Form] | None = None
    # The provider's own Django settings (e.g. the hosts it calls) and their defaults, read through
    # virtualmeeting.conf.vm_settings (vm_settings.ZOOM_API_BASE_URL): the site sets the name to override.
    settings_defaults: dict[str, Any] = {}

    def __init__(self, config: ProviderConfig):
        self.config = config

    # --- site configuration -------------------------------------------------
    def is_configured(self) -> bool:
        """True when the site-level settings are complete enough to use the provider."""
        return True

    def health_warnings(self) -> list[str]:
        """Plain-language problems with the site configuration, for the settings page."""
        return []

    def settings_context(self, request) -> dict[str, Any]:
        """Extra template context for this provider's settings page (e.g. webhook URLs to copy)."""
        return {}

    # --- one account for the whole site (ProviderConfig.hosting "account") -------------
    supports_account: bool = False  # offers "Test connection" of the site's account on the settings page

    def account_is_configured(self) -> bool:
        """The site's account can be used: the provider offers one and its credentials are saved (whichever
        hosting new rooms get)."""
        config = self.config
        return self.supports_account and bool(
            config.account_id and config.account_client_id and config.account_client_secret
        )

    def check_account(self) -> AccountCheck:
        """Ask the provider, with the saved site account's credentials, for a token and the account's users,
        and say in plain words what is wrong (the "Test connection" button). Never raises for a refusal."""
        return AccountCheck(False, gettext("%(name)s has no site account to test.") % {"name": self.name})

    def account_user(self, email: str) -> AccountUser | None:
        """The user of the site's account with this email (one call), or None when the account has no such user.

        Raises ProviderError when the provider cannot be asked now (its message says why, for staff).
        """
        raise ProviderError(
            gettext("%(name)s has no site account.") % {"name": self.name}, permanent=True, code="unsupported"
        )

    def account_users(self) -> list[AccountUser]:
        """The active users of the site's account (paged by the provider; every page).

        Raises ProviderError when the provider cannot be asked now (its message says why, for staff).
        """
        raise ProviderError(
            gettext("%(name)s has no site account.") % {"name": self.name}, permanent=True, code="unsupported"
        )

    def delete_meeting_as_account(self, *, remote_id: str, connection: ProviderConnection | None = None) -> None:
        """Delete a meeting of the site's account with the account's own credentials, whoever it was made by or
        for (the sync's way to delete the old meeting of a move when the connection it lives in is gone).

        `connection`: the no longer usable connection the meeting was made with, when it is still known (a
        provider may tell from it that the meeting is outside the site's account). A meeting already gone is
        no error. Raises ProviderError (permanent when the account cannot delete it).
        """
        raise ProviderError(
            gettext("%(name)s has no site account.") % {"name": self.name}, permanent=True, code="unsupported"
        )

    @property
    def service(self) -> str:
        """The service's own name in sentences ("Zoom's daily limit"): `service_name`, else `name`."""
        return self.service_name or self.name

    # --- per-user connection (OAuth authorization code + PKCE) -----------------
    def redirect_uri(self, request=None) -> str:
        """The OAuth redirect URI sent in the authorize and token requests, and shown to admins to register.

        The framework's callback by default; a provider whose apps may have registered another URL
        (Zoom: the old LMS's) overrides it.
        """
        return settings.SITE_URL.rstrip("/") + reverse("virtualmeeting:auth_callback", args=[self.id])

    # A provider with per-user connections declares its OAuth app (virtualmeeting.oauth) and how to read the
    # connected account; the framework then runs the flow: authorize URL, code exchange, scope check, refresh
    # (virtualmeeting.tokens), revoke. A provider overrides the hooks below only for what is particular to it.
    required_scopes: tuple[str, ...] = ()  # a grant lacking any of them is refused at connect (missing_scopes)

    def oauth_app(self) -> oauth.OAuthApp | None:
        """The provider's OAuth app (endpoints, scopes, client authentication); None: no per-user connections."""
        return None

    def oauth_client(self) -> tuple[str, str]:
        """(client id, client secret) of the site's app."""
        return self.config.client_id, self.config.client_secret

    def missing_scopes(self, granted: str) -> list[str]:
        """The scopes this site needs that a grant lacks ([] when none)."""
        return oauth.missing_scopes(granted, self.required_scopes)

    def connections_missing_scopes(
        self, missing: Callable[[str], list[str]] | None = None
    ) -> list[tuple[tuple[str, ...], list[str]]]:
        """The connected people whose grant lacks scopes, grouped: (the scopes missing, the people's names sorted),
        in the order of the scopes; `missing(granted)` says what a grant lacks (by default `missing_scopes`). For the
        settings page's warnings."""
        from virtualmeeting.models import ProviderConnection

        missing = missing or self.missing_scopes
        by_missing: dict[tuple[str, ...], list[str]] = {}
        connections = ProviderConnection.objects.filter(
            provider=self.id, status=ProviderConnection.Status.CONNECTED
        ).select_related("user")
        for connection in connections:
            lacking = tuple(missing(connection.scopes))
            if lacking:
                user = connection.user
                by_missing.setdefault(lacking, []).append(user.get_full_name() or user.get_username())
        return [(lacking, sorted(people)) for lacking, people in sorted(by_missing.items())]

    def read_account(self, token: oauth.TokenSet) -> ConnectedAccount:
        """Who connected (one call to the provider with the new access token), with the tokens.

        Raises ConnectError with a message for the person."""
        raise ConnectError(gettext("%(name)s does not use per-user connections.") % {"name": self.name})

    def reconnect_message(self) -> str:
        """What the owner of a connection the provider no longer accepts is told."""
        return gettext("%(service)s no longer accepts this connection: reconnect your %(service)s account.") % {
            "service": self.service
        }

    def connect_error(self, exc: oauth.TokenError) -> ConnectError:
        """A refused or failed code exchange, in words for the person connecting."""
        values = {"service": self.service}
        if exc.transient:
            return ConnectError(gettext("%(service)s could not be reached. Please try again in a moment.") % values)
        if exc.error == "invalid_client":
            return ConnectError(
                gettext("%(service)s rejected this site's app settings. Ask a site admin to check them.") % values
            )
        if exc.error in ("invalid_grant", "invalid_request"):
            return ConnectError(
                gettext(
                    "%(service)s did not accept the sign-in (it may have expired or been used already). "
                    "Please connect again."
                )
                % values
            )
        return ConnectError(gettext("%(service)s refused the connection (%(error)s).") % {**values, "error": exc.error})

    def missing_scopes_error(self, missing: list[str]) -> ConnectError:
        """A grant that lacks scopes this site needs, in words for the person (and the site admin)."""
        values = {"service": self.service, "missing": ", ".join(missing)}
        return ConnectError(
            gettext(
                "The %(service)s app does not grant the permissions this site needs. Missing: %(missing)s. Ask a "
                "site admin to add them to the app, then connect again."
            )
            % values
        )

    def refresh_error(self, exc: oauth.TokenError) -> ProviderError:
        """A refused or failed refresh: wait when the endpoint asked to, retry a transient failure, and otherwise
        only a new connect helps."""
        if exc.retry_at is not None:
            return RateLimited(
                gettext("%(service)s asked to wait before renewing the access token.") % {"service": self.service},
                retry_at=exc.retry_at,
            )
        if exc.transient:
            return ProviderError(
                gettext("%(service)s could not renew the access token just now; will retry.")
                % {"service": self.service}
            )
        return AuthRevoked(self.reconnect_message())

    def authorization_url(self, *, redirect_uri: str, state: str, code_challenge: str) -> str:
        app = self.oauth_app()
        if app is None:
            raise ConnectError(gettext("%(name)s does not use per-user connections.") % {"name": self.name})
        client_id, _secret = self.oauth_client()
        return oauth.authorization_url(
            app, client_id=client_id, redirect_uri=redirect_uri, state=state, code_challenge=code_challenge
        )

    def complete_connection(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        """Exchange the code, check the granted scopes (a grant lacking some is revoked and refused), and read the
        account. Raises ConnectError with a message for the person."""
        app = self.oauth_app()
        if app is None:
            raise ConnectError(gettext("%(name)s does not use per-user connections.") % {"name": self.name})
        client_id, client_secret = self.oauth_client()
        try:
            token = oauth.exchange_code(
                app,
                client_id=client_id,
                client_secret=client_secret,
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
            )
        except oauth.TokenError as exc:
            raise self.connect_error(exc) from None
        missing = self.missing_scopes(token.scopes)
        if missing:
            oauth.revoke(app, client_id=client_id, client_secret=client_secret, token=token.access_token)
            raise self.missing_scopes_error(missing)
        return self.read_account(token)

    def disconnect(self, connection: ProviderConnection) -> None:
        """Revoke the connection's access token at the provider (best effort: the framework forgets it either way)."""
        app = self.oauth_app()
        if app is not None and app.revoke_url:
            client_id, client_secret = self.oauth_client()
            oauth.revoke(app, client_id=client_id, client_secret=client_secret, token=connection.access_token)

    def closed_window_hint(self) -> str:
        """What can stop a sign-in on the provider's own pages, which then never send the person back.

        Shown in our dialog when the sign-in window is closed without an answer (we cannot see the
        provider's page); "" when there is nothing to add to "the window was closed".
        """
        return ""

    def describe_account(self, connection: ProviderConnection) -> str:
        """How the connected account is shown next to the Connect button: "Name (email)"."""
        if connection.email:
            return f"{connection.name} ({connection.email})"
        return connection.name

    def meeting_capacity(self, connection: ProviderConnection) -> int | None:
        """How many participants the connected account's meetings hold, if known."""
        return None

    def remote_matches(self, remote: RemoteMeeting, spec: MeetingSpec) -> bool:
        """Does what the provider holds match the spec (each field MeetingSpec reads back)?

        Used after a hand edit at the provider to decide whether to restore our
        state. Durations are whole minutes rounded up; a provider that shortens
        topics overrides this to compare what it would have sent.
        """
        return spec.matches(remote)

    # --- meetings -----------------------------------------------------------
    @abstractmethod
    def create_meeting(self, *, connection: ProviderConnection | None, spec: MeetingSpec) -> RemoteMeeting:
        """Create the meeting in the owner's account and return what the provider holds.

        Nothing internal may reach the meeting (attendees read its topic and agenda in the invitation):
        before sending, record on our side what `find_meeting(marker=spec.marker)` needs to recognise
        this meeting if the answer is lost.
        """

    @abstractmethod
    def update_meeting(
        self, *, connection: ProviderConnection | None, remote_id: str, spec: MeetingSpec, previous: MeetingSpec | None
    ) -> RemoteMeeting | None:
        """Bring the remote meeting to `spec`. `previous` is the last spec synced, so only changes are sent.

        Raises MeetingNotFound when the meeting is gone at the provider.
        """

    @abstractmethod
    def delete_meeting(self, *, connection: ProviderConnection | None, remote_id: str) -> None:
        """Delete the meeting. A meeting that is already gone counts as deleted (no error)."""

    @abstractmethod
    def get_meeting(self, *, connection: ProviderConnection | None, remote_id: str) -> RemoteMeeting:
        """Read the meeting. Raises MeetingNotFound when it is gone at the provider."""

    def find_meeting(self, *, connection: ProviderConnection | None, marker: str) -> RemoteMeeting | None:
        """The meeting a create for `marker` made when its answer was lost (recognised by what the
        provider recorded before sending), or None."""
        return None

    @abstractmethod
    def host_url(self, *, connection: ProviderConnection | None, remote_id: str) -> str:
        """A fresh URL that starts the meeting as its host (fetched at click time)."""

    # --- registrants: personal join links (optional) ------------------------------------
    supports_registrants: bool = False
    registrant_batch_size: int = 1  # most people one register() or cancel_registrants() call takes

    def _no_registrants(self) -> ProviderError:
        message = gettext("%(service)s does not support registrants.") % {"service": self.service}
        return ProviderError(message, permanent=True, code="unsupported")

    def registrants_unavailable(self, connection: ProviderConnection | None) -> str:
        """Why this host's meetings give no personal links, in words for the trainer; "" when they do.

        Overrides call super() first: it answers for a provider without registrants. No call is made here.
        """
        if not self.supports_registrants:
            return gettext("%(service)s gives no personal join links: everyone uses the shared link.") % {
                "service": self.service
            }
        return ""

    def register(
        self, *, connection: ProviderConnection | None, remote_id: str, people: list[RegistrantSpec]
    ) -> list[RemoteRegistrant]:
        """Register `people` (at most registrant_batch_size) in one call, approved, with no provider email.

        Returns what the provider holds for each, matched by email; an address already
        registered gives the existing registrant. Raises MeetingNotFound when the meeting is gone.
        """
        raise self._no_registrants()

    def list_registrants(self, *, connection: ProviderConnection | None, remote_id: str) -> list[RemoteRegistrant]:
        """Every approved registrant of the meeting (all pages): the recovery after a lost answer."""
        raise self._no_registrants()

    def cancel_registrants(
        self, *, connection: ProviderConnection | None, remote_id: str, registrant_ids: list[str]
    ) -> None:
        """Cancel these registrants (at most registrant_batch_size) in one call; one already gone is no error."""
        raise self._no_registrants()

    # --- attendance and recordings (optional capabilities; the defaults say "not supported") ------
    supports_participants: bool = False
    supports_recordings: bool = False

    def past_participants(
        self, *, connection: ProviderConnection | None, remote_id: str, occurrence: str
    ) -> list[ParticipantRecord]:
        """Every join..leave interval of a past occurrence of the meeting ("" : the latest one).

        Raises NotReadyYet while the provider has no data yet (the reconcile poll asks again later).
        """
        message = gettext("%(service)s does not report meeting participants.") % {"service": self.service}
        raise ProviderError(message, permanent=True, code="unsupported")

    def recordings(self, *, connection: ProviderConnection | None, remote_id: str) -> list[RecordingRecord]:
        """The recording files of the meeting's latest occurrence ([] when it has none).

        Raises NotReadyYet while recordings are expected but not processed yet.
        """
        message = gettext("%(service)s does not report meeting recordings.") % {"service": self.service}
        raise ProviderError(message, permanent=True, code="unsupported")

    def missing_capability_scopes(self, connection: ProviderConnection | None) -> dict[str, list[str]]:
        """Capability ("attendance", "recordings", ...) -> the scopes the connection lacks for it.

        {} when nothing is missing. Meetings keep being made either way; the owner is told to
        reconnect to enable what is missing.
        """
        return {}
