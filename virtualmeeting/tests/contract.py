"""The contract every meeting provider must pass.

Use it like allauth's provider test mixin: subclass `ProviderContract` in the
provider's tests (the class name must start with "Test" for pytest) and give

fixtures
    provider      a Provider instance, configured
    connection    a usable ProviderConnection of the meeting owner (None if
                  the provider needs no connection), or an AccountHost: the
                  provider's meetings in the site's account, for that host
                  (run the contract once per way the provider offers)

hooks (methods)
    remote_exists(remote_id) -> bool      does the remote hold this meeting now?
    sent_update_fields() -> set[str]      what the last update sent, named
                                          topic, start, duration, timezone, agenda
    make_gone(remote_id)                  delete the meeting behind the provider's back
    fail_next(operation, kind)            the next `operation` call ("create", "get",
                                          ...) fails with `kind`, one of ERROR_KINDS
    host_url_requests() -> int            remote requests made for host URLs so far

and, for a provider that supports participants or recordings,
    script_participants(remote_id, occurrence, records, not_ready=0)
                                          the provider will list these ParticipantRecords
                                          for the occurrence (and as the latest, ""),
                                          after `not_ready` answers of "no data yet"
    script_recordings(remote_id, records) the provider will list these RecordingRecords

A provider that supports registrants (personal join links) also subclasses
`RegistrantsContract`; its cases need no hook, only the provider's own calls.

The same tests then run against the test provider (virtualmeeting/tests) and
Zoom (stubbed with `responses`).
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from virtualmeeting.errors import AuthRevoked, MeetingNotFound, NotReadyYet, ProviderError, RateLimited
from virtualmeeting.providers.base import (
    AccountHost,
    MeetingSpec,
    ParticipantRecord,
    RecordingRecord,
    RegistrantSpec,
    RemoteMeeting,
    RemoteRegistrant,
)

ERROR_KINDS = ("transient", "rate_limited", "rate_limited_daily", "auth_revoked", "permanent", "not_found")
CAPABILITIES = {"attendance", "recordings", "registrants"}
OCCURRENCE = "Vg8IdgluR5WDeWIkpJlElQ=="


def contract_spec(**overrides) -> MeetingSpec:
    start = (timezone.now() + timedelta(days=7)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    values = {
        "topic": "Safety training: Session 1",
        "start": start,
        "finish": start + timedelta(minutes=60),
        "timezone": "Europe/London",
        "agenda": "Bring your helmet.",
        "marker": "vm-contract-marker-1",
    }
    values.update(overrides)
    return MeetingSpec(**values)


class ProviderContract:
    # --- hooks the provider's test class fills in --------------------------------------
    def remote_exists(self, remote_id: str) -> bool:
        raise AssertionError("The provider's contract test must define remote_exists().")

    def sent_update_fields(self) -> set[str]:
        raise AssertionError("The provider's contract test must define sent_update_fields().")

    def make_gone(self, remote_id: str) -> None:
        raise AssertionError("The provider's contract test must define make_gone().")

    def fail_next(self, operation: str, kind: str) -> None:
        raise AssertionError("The provider's contract test must define fail_next().")

    def host_url_requests(self) -> int:
        raise AssertionError("The provider's contract test must define host_url_requests().")

    def script_participants(self, remote_id: str, occurrence: str, records, *, not_ready: int = 0) -> None:
        raise AssertionError("A provider that supports participants must define script_participants().")

    def script_recordings(self, remote_id: str, records) -> None:
        raise AssertionError("A provider that supports recordings must define script_recordings().")

    # --- the contract ------------------------------------------------------------------------
    def _create(self, provider, connection, **overrides) -> tuple[MeetingSpec, RemoteMeeting]:
        spec = contract_spec(**overrides)
        return spec, provider.create_meeting(connection=connection, spec=spec)

    def test_declarations(self, provider):
        assert provider.id and provider.name
        assert provider.service
        assert isinstance(provider.needs_connection, bool)
        if provider.settings_form_class is not None:
            form = provider.settings_form_class(config=provider.config)
            assert hasattr(form, "save")

    def test_create_returns_the_meeting(self, provider, connection):
        spec, remote = self._create(provider, connection)
        assert remote.remote_id
        assert remote.join_url.startswith("http")
        assert self.remote_exists(remote.remote_id)

    def test_get_reads_what_was_created(self, provider, connection):
        spec, created = self._create(provider, connection)
        remote = provider.get_meeting(connection=connection, remote_id=created.remote_id)
        assert remote.remote_id == created.remote_id
        assert remote.topic == spec.topic
        assert remote.start == spec.start
        assert remote.duration_minutes == 60
        assert remote.timezone in ("", spec.timezone)  # "": the provider keeps no zone (Graph: two instants)
        assert remote.join_url

    def test_update_sends_only_what_changed(self, provider, connection):
        spec, created = self._create(provider, connection)
        changed = MeetingSpec(**{**spec.__dict__, "topic": "Renamed: Session 1"})

        provider.update_meeting(connection=connection, remote_id=created.remote_id, spec=changed, previous=spec)

        assert self.sent_update_fields() == {"topic"}
        remote = provider.get_meeting(connection=connection, remote_id=created.remote_id)
        assert remote.topic == "Renamed: Session 1"
        assert remote.start == spec.start

    def test_alternative_hosts_are_sent_or_ignored_never_an_error(self, provider, connection):
        """A provider that has alternative hosts sends them; one that has not ignores them. A change of them alone
        is an update of the same meeting, touching nothing else."""
        spec, created = self._create(provider, connection, alternative_hosts=("alt.host@example.com",))
        assert self.remote_exists(created.remote_id)
        changed = MeetingSpec(**{**spec.__dict__, "alternative_hosts": ("other.host@example.com",)})

        provider.update_meeting(connection=connection, remote_id=created.remote_id, spec=changed, previous=spec)

        assert self.sent_update_fields() <= {"settings"}
        remote = provider.get_meeting(connection=connection, remote_id=created.remote_id)
        assert (remote.remote_id, remote.topic, remote.start) == (created.remote_id, spec.topic, spec.start)

    def test_update_without_previous_sends_everything(self, provider, connection):
        spec, created = self._create(provider, connection)
        later = MeetingSpec(
            **{
                **spec.__dict__,
                "start": spec.start + timedelta(hours=2),
                "finish": spec.finish + timedelta(hours=2, minutes=30),
            }
        )

        provider.update_meeting(connection=connection, remote_id=created.remote_id, spec=later, previous=None)

        assert {"topic", "start", "duration", "timezone"} <= self.sent_update_fields()
        remote = provider.get_meeting(connection=connection, remote_id=created.remote_id)
        assert remote.start == later.start
        assert remote.duration_minutes == 90

    def test_update_of_a_missing_meeting_raises_not_found(self, provider, connection):
        spec, created = self._create(provider, connection)
        self.make_gone(created.remote_id)
        with pytest.raises(MeetingNotFound):
            provider.update_meeting(connection=connection, remote_id=created.remote_id, spec=spec, previous=None)

    def test_get_of_a_missing_meeting_raises_not_found(self, provider, connection):
        spec, created = self._create(provider, connection)
        self.make_gone(created.remote_id)
        with pytest.raises(MeetingNotFound):
            provider.get_meeting(connection=connection, remote_id=created.remote_id)

    def test_delete(self, provider, connection):
        spec, created = self._create(provider, connection)
        provider.delete_meeting(connection=connection, remote_id=created.remote_id)
        assert not self.remote_exists(created.remote_id)

    def test_delete_of_a_meeting_already_gone_is_not_an_error(self, provider, connection):
        spec, created = self._create(provider, connection)
        self.make_gone(created.remote_id)
        provider.delete_meeting(connection=connection, remote_id=created.remote_id)
        assert not self.remote_exists(created.remote_id)

    def test_find_by_marker(self, provider, connection):
        spec, created = self._create(provider, connection, marker="vm-contract-find-me")
        found = provider.find_meeting(connection=connection, marker="vm-contract-find-me")
        assert found is not None
        assert found.remote_id == created.remote_id
        assert provider.find_meeting(connection=connection, marker="vm-contract-someone-else") is None

    def test_host_url_is_fetched_fresh_each_time(self, provider, connection):
        spec, created = self._create(provider, connection)
        before = self.host_url_requests()
        first = provider.host_url(connection=connection, remote_id=created.remote_id)
        second = provider.host_url(connection=connection, remote_id=created.remote_id)
        assert first.startswith("http") and second.startswith("http")
        assert self.host_url_requests() == before + 2

    def test_host_url_of_a_missing_meeting_raises_not_found(self, provider, connection):
        spec, created = self._create(provider, connection)
        self.make_gone(created.remote_id)
        with pytest.raises(MeetingNotFound):
            provider.host_url(connection=connection, remote_id=created.remote_id)

    @pytest.mark.parametrize("kind", ERROR_KINDS)
    def test_errors_carry_intent(self, provider, connection, kind):
        operation = "get" if kind == "not_found" else "create"
        remote_id = ""
        if operation == "get":
            remote_id = self._create(provider, connection)[1].remote_id
        self.fail_next(operation, kind)
        with pytest.raises(ProviderError) as excinfo:
            if operation == "create":
                provider.create_meeting(connection=connection, spec=contract_spec())
            else:
                provider.get_meeting(connection=connection, remote_id=remote_id)
        exc = excinfo.value
        expected = {
            "transient": lambda: type(exc) is ProviderError and not exc.permanent,
            "permanent": lambda: type(exc) is ProviderError and exc.permanent,
            "rate_limited": lambda: isinstance(exc, RateLimited) and not exc.daily and exc.retry_at.tzinfo is not None,
            "rate_limited_daily": lambda: (
                isinstance(exc, RateLimited) and exc.daily and exc.retry_at == _next_midnight_utc()
            ),
            # A user's grant revoked: reconnect. The site account's token refused even when renewed: nobody has
            # a connection to renew, the site admin must fix the app (permanent, in words).
            "auth_revoked": lambda: (
                type(exc) is ProviderError and exc.permanent
                if isinstance(connection, AccountHost)
                else isinstance(exc, AuthRevoked)
            ),
            "not_found": lambda: isinstance(exc, MeetingNotFound),
        }[kind]
        assert expected(), f"{kind}: got {exc!r}"
        assert exc.message
        if connection is not None:
            for secret in (getattr(connection, "access_token", ""), getattr(connection, "refresh_token", "")):
                assert not secret or secret not in str(exc)

    # --- registrants (optional: the cases are in RegistrantsContract) ------------------------------
    def test_registrants_are_declared(self, provider, connection):
        assert isinstance(provider.supports_registrants, bool)
        assert isinstance(provider.registrant_batch_size, int) and provider.registrant_batch_size >= 1
        reason = provider.registrants_unavailable(connection)
        assert isinstance(reason, str)
        if provider.supports_registrants:
            return  # the cases are in RegistrantsContract
        assert reason  # the trainer is told why there are no personal links
        for call in (
            lambda: provider.register(connection=connection, remote_id="1", people=[registrant(1)]),
            lambda: provider.list_registrants(connection=connection, remote_id="1"),
            lambda: provider.cancel_registrants(connection=connection, remote_id="1", registrant_ids=["r1"]),
        ):
            with pytest.raises(ProviderError) as excinfo:
                call()
            assert excinfo.value.permanent

    # --- attendance and recordings (optional capabilities) -------------------------------------
    def test_capabilities_are_declared(self, provider, connection):
        assert isinstance(provider.supports_participants, bool)
        assert isinstance(provider.supports_recordings, bool)
        missing = provider.missing_capability_scopes(connection)
        assert isinstance(missing, dict) and set(missing) <= CAPABILITIES
        assert all(scopes and all(isinstance(s, str) and s for s in scopes) for scopes in missing.values())

    def test_past_participants_give_every_interval(self, provider, connection):
        if not provider.supports_participants:
            with pytest.raises(ProviderError) as excinfo:
                provider.past_participants(connection=connection, remote_id="1", occurrence="")
            assert excinfo.value.permanent
            return
        spec, created = self._create(provider, connection)
        joined = spec.start + timedelta(minutes=2)
        people = [
            ParticipantRecord("dev-1", "Ann Learner", "", "reg-1", joined, joined + timedelta(minutes=38)),
            ParticipantRecord("dev-2", "Ann Learner", "", "reg-1", joined + timedelta(minutes=43), spec.finish),
            ParticipantRecord("dev-3", "Guest by phone", "", "", joined, joined + timedelta(minutes=5)),
        ]
        self.script_participants(created.remote_id, OCCURRENCE, people)

        for occurrence in (OCCURRENCE, ""):  # "" : the latest occurrence
            listed = provider.past_participants(
                connection=connection, remote_id=created.remote_id, occurrence=occurrence
            )
            assert sorted((p.name, p.registrant_id, p.joined_at, p.left_at) for p in listed) == sorted(
                (p.name, p.registrant_id, p.joined_at, p.left_at) for p in people
            )
            assert len({p.participant_key for p in listed}) == 3 and all(p.participant_key for p in listed)

    def test_past_participants_not_ready_yet(self, provider, connection):
        if not provider.supports_participants:
            return  # test_past_participants_give_every_interval checks the refusal
        spec, created = self._create(provider, connection)
        person = ParticipantRecord("dev-1", "Ann", "", "", spec.start, spec.finish)
        self.script_participants(created.remote_id, OCCURRENCE, [person], not_ready=1)
        with pytest.raises(NotReadyYet) as excinfo:
            provider.past_participants(connection=connection, remote_id=created.remote_id, occurrence=OCCURRENCE)
        assert not excinfo.value.permanent and excinfo.value.message
        listed = provider.past_participants(connection=connection, remote_id=created.remote_id, occurrence=OCCURRENCE)
        assert [p.name for p in listed] == ["Ann"]

    def test_recordings_are_listed_with_their_passcode(self, provider, connection):
        if not provider.supports_recordings:
            with pytest.raises(ProviderError) as excinfo:
                provider.recordings(connection=connection, remote_id="1")
            assert excinfo.value.permanent
            return
        spec, created = self._create(provider, connection)
        files = [
            RecordingRecord(
                "file-1", "MP4", "shared_screen_with_speaker_view", "https://rec.example/play/1", "", "Pass1",
                spec.start, spec.finish, OCCURRENCE,
            ),
            RecordingRecord(
                "file-2", "M4A", "audio_only", "https://rec.example/play/2", "", "Pass1",
                spec.start, spec.finish, OCCURRENCE,
            ),
        ]  # fmt: skip
        self.script_recordings(created.remote_id, files)
        listed = provider.recordings(connection=connection, remote_id=created.remote_id)
        assert sorted(
            (r.remote_id, r.file_type, r.play_url, r.passcode, r.recording_start, r.occurrence) for r in listed
        ) == sorted((r.remote_id, r.file_type, r.play_url, r.passcode, r.recording_start, r.occurrence) for r in files)


def registrant(number: int) -> RegistrantSpec:
    return RegistrantSpec(
        key=str(number),
        email=f"vm-r{number}-c0ffee@registrants.invalid",
        first_name=f"Learner{number}",
        last_name="Doe",
    )


class RegistrantsContract:
    """The registrant cases, for a provider with `supports_registrants` (subclass it beside ProviderContract).

    Uses the `provider` and `connection` fixtures and ProviderContract's `_create`.
    """

    def _registered_meeting(self, provider, connection) -> str:
        spec, created = self._create(provider, connection, registration=True)
        return created.remote_id

    def _listed(self, provider, connection, remote_id) -> dict[str, RemoteRegistrant]:
        return {r.email.lower(): r for r in provider.list_registrants(connection=connection, remote_id=remote_id)}

    def test_a_meeting_can_require_registration(self, provider, connection):
        remote_id = self._registered_meeting(provider, connection)
        remote = provider.get_meeting(connection=connection, remote_id=remote_id)
        assert remote.registration in (True, None)  # None: the provider does not say
        assert provider.remote_matches(remote, contract_spec(registration=True))
        assert self._listed(provider, connection, remote_id) == {}

    def test_register_one(self, provider, connection):
        remote_id = self._registered_meeting(provider, connection)

        [made] = provider.register(connection=connection, remote_id=remote_id, people=[registrant(1)])

        assert made.registrant_id
        assert made.email.lower() == registrant(1).email
        assert made.join_url.startswith("http")
        assert made.join_url not in repr(made)  # a secret, never in logs
        listed = self._listed(provider, connection, remote_id)
        assert listed[registrant(1).email].registrant_id == made.registrant_id
        assert listed[registrant(1).email].join_url == made.join_url

    def test_register_a_full_batch(self, provider, connection):
        remote_id = self._registered_meeting(provider, connection)
        people = [registrant(n) for n in range(1, provider.registrant_batch_size + 1)]

        made = provider.register(connection=connection, remote_id=remote_id, people=people)

        assert sorted(r.email.lower() for r in made) == sorted(p.email for p in people)
        assert len({r.registrant_id for r in made}) == len({r.join_url for r in made}) == len(people)
        listed = self._listed(provider, connection, remote_id)
        assert {email: r.registrant_id for email, r in listed.items()} == {
            r.email.lower(): r.registrant_id for r in made
        }

    def test_the_same_address_twice_is_one_registrant(self, provider, connection):
        remote_id = self._registered_meeting(provider, connection)
        [first] = provider.register(connection=connection, remote_id=remote_id, people=[registrant(1)])

        [again] = provider.register(connection=connection, remote_id=remote_id, people=[registrant(1)])

        assert again.registrant_id == first.registrant_id
        assert [r.registrant_id for r in provider.list_registrants(connection=connection, remote_id=remote_id)] == [
            first.registrant_id
        ]

    def test_cancel(self, provider, connection):
        remote_id = self._registered_meeting(provider, connection)
        made = provider.register(connection=connection, remote_id=remote_id, people=[registrant(1), registrant(2)])
        gone = next(r for r in made if r.email.lower() == registrant(1).email)

        provider.cancel_registrants(connection=connection, remote_id=remote_id, registrant_ids=[gone.registrant_id])

        assert set(self._listed(provider, connection, remote_id)) == {registrant(2).email}
        # Cancelling one already cancelled is no error.
        provider.cancel_registrants(connection=connection, remote_id=remote_id, registrant_ids=[gone.registrant_id])
        assert set(self._listed(provider, connection, remote_id)) == {registrant(2).email}

    def test_registrants_of_a_missing_meeting_raise_not_found(self, provider, connection):
        remote_id = self._registered_meeting(provider, connection)
        self.make_gone(remote_id)
        with pytest.raises(MeetingNotFound):
            provider.register(connection=connection, remote_id=remote_id, people=[registrant(1)])
        with pytest.raises(MeetingNotFound):
            provider.list_registrants(connection=connection, remote_id=remote_id)


def _next_midnight_utc() -> datetime:
    now = timezone.now().astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
