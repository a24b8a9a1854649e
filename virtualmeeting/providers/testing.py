"""A deterministic provider for tests and the demo: "Test Meeting".

Its "remote" meetings, call counters and scripted failures live in Django's
cache (Redis when REDIS_URL is set, else a file cache), so a Celery worker
process and the test that drives it see the same state. Enabled only when
listed in VIRTUALMEETING["PROVIDERS"].

Tests script it through the class methods:

    TestProvider.reset()                              # a clean slate (a new namespace)
    TestProvider.fail_next("create", "ambiguous")     # the next create applies, then its answer is lost
    TestProvider.calls("create")                      # how many creates were attempted
    TestProvider.meetings()                           # what the "remote" holds
    TestProvider.script_participants("3", "uuid-1", records, not_ready=2)  # past participants, after 2 "not yet"
    TestProvider.script_recordings("3", records)      # the meeting's recording files
    TestProvider.require_scopes("attendance", ["participants:read"])  # connections without it lack attendance
    TestProvider.registrants(remote_id)               # a meeting's registrants (cancelled ones too)

Failure kinds: transient, ambiguous (request applied, answer lost), hang
(request applied, then the call sleeps `seconds`: a worker to kill),
rate_limited (per-second, `seconds` until retry), rate_limited_daily (until
`retry_at` if given, as a provider's Retry-After says, else 00:00 UTC), auth_revoked, permanent, not_found; for "connect": connect_error;
for "authorize": denied (the consent screen's "Decline"). Registrant calls are "register",
"list_registrants" and "cancel_registrants" (three people a call, so batches are exercised); "account_delete" is
a delete made with the site account (offered once the config has the account's credentials); a
connection whose `extra` says {"licence": "basic"} gives no personal links, like Zoom's Basic hosts;
"register" fails with "unlicensed" by refusing for good and writing that on the connection (a host
found Basic), and with RegistrationOff while the meeting does not require registration.

The connect flow needs no consent page: `authorization_url` answers at once
with a redirect to the callback carrying a one-time code, and
`complete_connection` checks the PKCE verifier against the challenge it was
given, like a real authorization server.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.utils import timezone
from django.utils.translation import gettext

from virtualmeeting.errors import (
    AuthRevoked,
    ConnectError,
    MeetingNotFound,
    NotReadyYet,
    ProviderError,
    RateLimited,
    RegistrationOff,
)
from virtualmeeting.forms import ProviderSettingsForm, SecretField
from virtualmeeting.providers.base import (
    ConnectedAccount,
    MeetingSpec,
    ParticipantRecord,
    Provider,
    RecordingRecord,
    RegistrantSpec,
    RemoteMeeting,
    RemoteRegistrant,
)

PREFIX = "vmtest"
# Processes that share this environment variable (a test and the worker it starts) share one "remote".
NAMESPACE_ENV = "VIRTUALMEETING_TEST_NAMESPACE"
KEEP = 7 * 24 * 3600  # cache timeout of the simulated remote's keys
SPEC_FIELDS = ("topic", "start", "duration_minutes", "timezone", "agenda", "registration")


class TestSettingsForm(ProviderSettingsForm):
    client_id = forms.CharField(label="Client ID", max_length=255, required=False)
    client_secret = SecretField(label="Client secret")
    meeting_capacity = forms.IntegerField(label="Meeting capacity", min_value=1, required=False)

    option_fields = ("meeting_capacity",)


def next_midnight_utc(now: datetime | None = None) -> datetime:
    now = (now or timezone.now()).astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


@lru_cache(maxsize=1)
def _cache():
    """The default cache (Redis when REDIS_URL is set), or a file cache of our own that never culls.

    Django's file cache culls a third of its entries past MAX_ENTRIES (300), which would make
    "remote" meetings vanish at random on a busy development machine.
    """
    default = caches["default"]
    if not isinstance(default, FileBasedCache):
        return default
    location = Path(getattr(settings, "VAR_DIR", settings.BASE_DIR / "var")) / "virtualmeeting-test-provider"
    return FileBasedCache(str(location), {"TIMEOUT": KEEP, "OPTIONS": {"MAX_ENTRIES": 10_000_000}})


def _namespace() -> str:
    return os.environ.get(NAMESPACE_ENV, "shared")


def _key(name: str) -> str:
    return f"{PREFIX}:{_namespace()}:{name}"


def _incr(name: str) -> int:
    key = _key(name)
    _cache().add(key, 0, KEEP)
    value = _cache().incr(key)
    # Some backends implement incr as get + set with the default timeout: keep the key.
    _cache().touch(key, KEEP)
    return value


class TestProvider(Provider):
    """A provider whose "remote" is the cache. Deterministic; failures on demand."""

    __test__ = False  # not a pytest test class

    id = "test"
    name = "Test Meeting"
    service_name = "Test Meeting"
    needs_connection = True
    settings_form_class = TestSettingsForm
    supports_participants = True
    supports_recordings = True
    supports_registrants = True
    registrant_batch_size = 3

    # --- scripting, for tests ------------------------------------------------------
    @classmethod
    def reset(cls) -> None:
        """Start a fresh, empty "remote" for this process and the processes it starts (a new namespace)."""
        os.environ[NAMESPACE_ENV] = uuid.uuid4().hex

    @classmethod
    def fail_next(
        cls, operation: str, kind: str, *, times: int = 1, seconds: float = 1, retry_at: datetime | None = None
    ) -> None:
        """The next `times` calls of `operation` ("create", "update", ..., or "any") fail with `kind`."""
        failures = _cache().get(_key("failures")) or []
        failure = {"operation": operation, "kind": kind, "seconds": seconds}
        if retry_at is not None:
            failure["retry_at"] = retry_at.isoformat()
        failures.extend(dict(failure) for _ in range(times))
        _cache().set(_key("failures"), failures, KEEP)

    @classmethod
    def calls(cls, operation: str) -> int:
        """How many times `operation` was called (failed calls included)."""
        return _cache().get(_key(f"calls:{operation}")) or 0

    @classmethod
    def meetings(cls) -> list[dict]:
        """The meetings the "remote" holds now, oldest first."""
        last = _cache().get(_key("next_id")) or 0
        found = _cache().get_many([_key(f"meeting:{n}") for n in range(1, last + 1)])
        return [found[key] for key in sorted(found, key=lambda k: int(k.rsplit(":", 1)[1]))]

    @classmethod
    def registrants(cls, remote_id: str) -> list[dict]:
        """The registrants the "remote" holds for a meeting, cancelled ones too, oldest first."""
        last = _cache().get(_key(f"registrants:{remote_id}")) or 0
        found = _cache().get_many([_key(f"registrant:{remote_id}:{n}") for n in range(1, last + 1)])
        return [found[key] for key in sorted(found, key=lambda k: int(k.rsplit(":", 1)[1]))]

    @classmethod
    def last_update_fields(cls) -> list[str]:
        """The fields the last update sent."""
        return _cache().get(_key("last_update_fields")) or []

    @classmethod
    def remote_delete(cls, remote_id: str) -> None:
        """Delete a meeting behind the product's back (as a person would in the provider's app)."""
        _cache().delete(_key(f"meeting:{remote_id}"))

    @classmethod
    def remote_edit(cls, remote_id: str, **fields) -> None:
        """Change a meeting behind the product's back."""
        meeting = _cache().get(_key(f"meeting:{remote_id}"))
        meeting.update(fields)
        _cache().set(_key(f"meeting:{remote_id}"), meeting, KEEP)

    @classmethod
    def set_account(cls, *, remote_account_id: str, name: str, email: str) -> None:
        """Who the next connect flow connects."""
        _cache().set(_key("account"), {"id": remote_account_id, "name": name, "email": email}, KEEP)

    @classmethod
    def script_participants(
        cls, remote_id: str, occurrence: str, records: list[ParticipantRecord], *, not_ready: int = 0
    ) -> None:
        """What `past_participants` answers for the meeting's occurrence, after `not_ready` NotReadyYet.

        The occurrence scripted last is also the meeting's latest (asked for as ""). Unscripted: NotReadyYet.
        """
        _cache().set(_key(f"participants:{remote_id}:{occurrence}"), {"records": records, "not_ready": not_ready}, KEEP)
        _cache().set(_key(f"participants-latest:{remote_id}"), occurrence, KEEP)

    @classmethod
    def script_recordings(cls, remote_id: str, records: list[RecordingRecord], *, not_ready: int = 0) -> None:
        """What `recordings` answers for the meeting, after `not_ready` NotReadyYet. Unscripted: none ([])."""
        _cache().set(_key(f"recordings:{remote_id}"), {"records": records, "not_ready": not_ready}, KEEP)

    @classmethod
    def require_scopes(cls, capability: str, scopes: list[str]) -> None:
        """From now on a connection whose scopes lack these lacks `capability` (by default nothing is required)."""
        required = _cache().get(_key("required_scopes")) or {}
        required[capability] = list(scopes)
        _cache().set(_key("required_scopes"), required, KEEP)

    # --- the simulated remote ----------------------------------------------------
    def _call(self, operation: str) -> dict | None:
        """Count the call and return the scripted failure for it, if any."""
        _incr(f"calls:{operation}")
        failures = _cache().get(_key("failures")) or []
        for index, failure in enumerate(failures):
            if failure["operation"] in (operation, "any"):
                del failures[index]
                _cache().set(_key("failures"), failures, KEEP)
                return failure
        return None

    @staticmethod
    def _raise(failure: dict | None, *, applied: bool) -> None:
        if failure is None:
            return
        kind = failure["kind"]
        if kind == "ambiguous" and applied:
            raise ProviderError("The connection to Test Meeting was lost before it answered.", ambiguous=True)
        if kind == "hang" and applied:
            time.sleep(failure["seconds"])
            return
        if applied:
            return
        if kind == "transient":
            raise ProviderError("Test Meeting is temporarily unavailable.")
        if kind == "rate_limited":
            retry_at = timezone.now() + timedelta(seconds=failure["seconds"])
            raise RateLimited("Test Meeting asks to slow down.", retry_at=retry_at)
        if kind == "rate_limited_daily":
            given = failure.get("retry_at")
            retry_at = datetime.fromisoformat(given) if given else next_midnight_utc()
            raise RateLimited("Test Meeting's daily limit is reached.", retry_at=retry_at, daily=True)
        if kind == "auth_revoked":
            raise AuthRevoked("The Test Meeting account no longer authorises this site.")
        if kind == "permanent":
            raise ProviderError("Test Meeting refused the meeting settings", permanent=True, code="invalid")
        if kind == "not_found":
            raise MeetingNotFound()
        if kind == "connect_error":
            raise ConnectError("Test Meeting could not confirm your account. Please try again.")

    def _check_connection(self, connection) -> str:
        if connection is None or not connection.access_token:
            raise AuthRevoked("The Test Meeting account is not connected.")
        return connection.remote_account_id

    def _load(self, remote_id: str) -> dict:
        meeting = _cache().get(_key(f"meeting:{remote_id}"))
        if meeting is None:
            raise MeetingNotFound()
        return meeting

    def _store(self, meeting: dict) -> None:
        _cache().set(_key(f"meeting:{meeting['remote_id']}"), meeting, KEEP)

    @staticmethod
    def _fields(spec: MeetingSpec) -> dict:
        return {
            "topic": spec.topic,
            "start": spec.start.astimezone(UTC).isoformat(),
            "duration_minutes": int((spec.finish - spec.start).total_seconds() // 60),
            "timezone": spec.timezone,
            "agenda": spec.agenda,
            "registration": spec.registration,
        }

    @staticmethod
    def _remote(meeting: dict) -> RemoteMeeting:
        return RemoteMeeting(
            remote_id=meeting["remote_id"],
            join_url=meeting["join_url"],
            start=datetime.fromisoformat(meeting["start"]),
            duration_minutes=meeting["duration_minutes"],
            timezone=meeting["timezone"],
            topic=meeting["topic"],
            agenda=meeting["agenda"],
            password=meeting["password"],
            host_email=meeting["host_email"],
            registration=meeting.get("registration", False),
            extra={"marker": meeting["marker"]},
        )

    # --- the provider contract -------------------------------------------------------
    def is_configured(self) -> bool:
        return True

    def health_warnings(self) -> list[str]:
        if not self.config.client_secret:
            return ["No client secret is set (the test provider works without one)."]
        return []

    def settings_context(self, request) -> dict:
        return {"test_note": "Meetings of this provider exist only in this site's cache."}

    def meeting_capacity(self, connection) -> int | None:
        return self.config.options.get("meeting_capacity")

    def authorization_url(self, *, redirect_uri: str, state: str, code_challenge: str) -> str:
        failure = self._call("authorize")
        if failure and failure["kind"] == "denied":
            return f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}"
        code = secrets.token_urlsafe(16)
        _cache().set(_key(f"code:{code}"), code_challenge, 600)
        return f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"

    def complete_connection(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        self._raise(self._call("connect"), applied=False)
        challenge = _cache().get(_key(f"code:{code}"))
        _cache().delete(_key(f"code:{code}"))
        expected = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge is None or challenge != expected:
            raise ConnectError("Test Meeting did not accept the sign-in (the code is invalid or was used already).")
        account = _cache().get(_key("account")) or {
            "id": "test-user-1",
            "name": "Test User",
            "email": "test@example.com",
        }
        return ConnectedAccount(
            remote_account_id=account["id"],
            name=account["name"],
            email=account["email"],
            access_token=f"test-access-{secrets.token_hex(8)}",
            refresh_token=f"test-refresh-{secrets.token_hex(8)}",
            expires_at=timezone.now() + timedelta(hours=1),
            scopes="meeting:write meeting:read",
        )

    def disconnect(self, connection) -> None:
        self._call("disconnect")

    # --- a site account: only deleting as the account (the old meeting of a move whose connection is gone) ---
    @property
    def supports_account(self) -> bool:
        """Offered once an Account ID is saved on the test provider's config (tests set it)."""
        return bool(self.config.account_id)

    def delete_meeting_as_account(self, *, remote_id: str, connection=None) -> None:
        """Delete any meeting of the "remote" with the site account ("account_delete" calls, failures on demand)."""
        failure = self._call("account_delete")
        self._raise(failure, applied=False)
        _cache().delete(_key(f"meeting:{remote_id}"))
        self._raise(failure, applied=True)

    def create_meeting(self, *, connection, spec: MeetingSpec) -> RemoteMeeting:
        account = self._check_connection(connection)
        failure = self._call("create")
        self._raise(failure, applied=False)
        remote_id = str(_incr("next_id"))
        meeting = {
            "remote_id": remote_id,
            "account": account,
            "marker": spec.marker,
            "join_url": f"https://meet.test.invalid/j/{remote_id}",
            "password": f"pw{remote_id}",
            "host_email": connection.email,
            **self._fields(spec),
        }
        self._store(meeting)
        self._raise(failure, applied=True)
        return self._remote(meeting)

    def update_meeting(self, *, connection, remote_id: str, spec: MeetingSpec, previous: MeetingSpec | None):
        self._check_connection(connection)
        failure = self._call("update")
        self._raise(failure, applied=False)
        meeting = self._load(remote_id)
        wanted = self._fields(spec)
        before = self._fields(previous) if previous else {}
        changed = [name for name in SPEC_FIELDS if before.get(name) != wanted[name]]
        meeting.update({name: wanted[name] for name in changed})
        self._store(meeting)
        _cache().set(_key("last_update_fields"), changed, KEEP)
        self._raise(failure, applied=True)
        return self._remote(meeting)

    def delete_meeting(self, *, connection, remote_id: str) -> None:
        self._check_connection(connection)
        failure = self._call("delete")
        self._raise(failure, applied=False)
        _cache().delete(_key(f"meeting:{remote_id}"))
        self._raise(failure, applied=True)

    def get_meeting(self, *, connection, remote_id: str) -> RemoteMeeting:
        self._check_connection(connection)
        self._raise(self._call("get"), applied=False)
        return self._remote(self._load(remote_id))

    def find_meeting(self, *, connection, marker: str) -> RemoteMeeting | None:
        account = self._check_connection(connection)
        self._raise(self._call("find"), applied=False)
        for meeting in self.meetings():
            if meeting["marker"] == marker and meeting["account"] == account:
                return self._remote(meeting)
        return None

    def host_url(self, *, connection, remote_id: str) -> str:
        self._check_connection(connection)
        self._raise(self._call("host_url"), applied=False)
        self._load(remote_id)
        return f"https://meet.test.invalid/s/{remote_id}?zak={secrets.token_urlsafe(12)}"

    def _scripted(self, name: str, *, default=None) -> list:
        script = _cache().get(_key(name))
        if script is None:
            if default is None:
                raise NotReadyYet()
            return default
        if script["not_ready"] > 0:
            script["not_ready"] -= 1
            _cache().set(_key(name), script, KEEP)
            raise NotReadyYet(retry_after=60)
        return list(script["records"])

    def past_participants(self, *, connection, remote_id: str, occurrence: str) -> list[ParticipantRecord]:
        self._check_connection(connection)
        self._raise(self._call("participants"), applied=False)
        occurrence = occurrence or _cache().get(_key(f"participants-latest:{remote_id}"))
        if occurrence is None:
            raise NotReadyYet()
        return self._scripted(f"participants:{remote_id}:{occurrence}")

    def recordings(self, *, connection, remote_id: str) -> list[RecordingRecord]:
        self._check_connection(connection)
        self._raise(self._call("recordings"), applied=False)
        return self._scripted(f"recordings:{remote_id}", default=[])

    def missing_capability_scopes(self, connection) -> dict[str, list[str]]:
        granted = set((connection.scopes if connection else "").split())
        required = _cache().get(_key("required_scopes")) or {}
        missing = {capability: [s for s in scopes if s not in granted] for capability, scopes in required.items()}
        return {capability: scopes for capability, scopes in missing.items() if scopes}

    # --- registrants ------------------------------------------------------------------------
    def registrants_unavailable(self, connection) -> str:
        if reason := super().registrants_unavailable(connection):
            return reason
        if connection is not None and connection.extra.get("licence") == "basic":
            return gettext("The host's Test Meeting account is Basic: personal links need a licensed host.")
        return ""

    @staticmethod
    def _registrant(record: dict) -> RemoteRegistrant:
        return RemoteRegistrant(
            registrant_id=record["registrant_id"], email=record["email"], join_url=record["join_url"]
        )

    def _registrant_for(self, remote_id: str, person: RegistrantSpec) -> dict:
        """The registrant with this address (approved again if it was cancelled), or a new one."""
        index = _key(f"registrant-email:{remote_id}:{person.email.lower()}")
        number = _cache().get(index)
        if number is None:
            candidate = _incr(f"registrants:{remote_id}")
            number = candidate if _cache().add(index, candidate, KEEP) else _cache().get(index)
        key = _key(f"registrant:{remote_id}:{number}")
        record = _cache().get(key) or {
            "registrant_id": f"{remote_id}-{number}",
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "join_url": f"https://meet.test.invalid/w/{remote_id}?tk={secrets.token_urlsafe(12)}",
        }
        record["status"] = "approved"
        _cache().set(key, record, KEEP)
        return record

    def register(self, *, connection, remote_id: str, people: list[RegistrantSpec]) -> list[RemoteRegistrant]:
        self._check_connection(connection)
        failure = self._call("register")
        if failure and failure["kind"] == "unlicensed":
            # The host turns out to be Basic: remembered on the connection, as Zoom's provider does.
            connection.extra = {**(connection.extra or {}), "licence": "basic"}
            type(connection).objects.filter(pk=connection.pk).update(extra=connection.extra)
            raise ProviderError("Test Meeting takes registrants for licensed hosts only.", permanent=True)
        self._raise(failure, applied=False)
        meeting = self._load(remote_id)
        if len(people) > self.registrant_batch_size:
            raise ProviderError("Test Meeting takes at most 3 registrants a call.", permanent=True)
        if self.registrants_unavailable(connection):
            raise ProviderError("This Test Meeting meeting does not take registrants.", permanent=True)
        if not meeting.get("registration"):
            raise RegistrationOff("This Test Meeting meeting does not require registration.")
        records = [self._registrant_for(remote_id, person) for person in people]
        self._raise(failure, applied=True)
        return [self._registrant(record) for record in records]

    def list_registrants(self, *, connection, remote_id: str) -> list[RemoteRegistrant]:
        self._check_connection(connection)
        self._raise(self._call("list_registrants"), applied=False)
        self._load(remote_id)
        return [self._registrant(r) for r in self.registrants(remote_id) if r["status"] == "approved"]

    def cancel_registrants(self, *, connection, remote_id: str, registrant_ids: list[str]) -> None:
        self._check_connection(connection)
        failure = self._call("cancel_registrants")
        self._raise(failure, applied=False)
        self._load(remote_id)
        if len(registrant_ids) > self.registrant_batch_size:
            raise ProviderError("Test Meeting takes at most 3 registrants a call.", permanent=True)
        for registrant_id in registrant_ids:
            key = _key(f"registrant:{remote_id}:{registrant_id.rsplit('-', 1)[-1]}")
            record = _cache().get(key)
            if record is not None and record["registrant_id"] == registrant_id:
                record["status"] = "cancelled"
                _cache().set(key, record, KEEP)
        self._raise(failure, applied=True)
