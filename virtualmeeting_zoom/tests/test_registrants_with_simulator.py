"""The Zoom provider's registrant calls against the Zoom simulator (simulators.zoom), which follows zoom-api.md.

The `responses` tests (test_registrants.py) pin the requests; these check that the simulator, built
from the same sheet by another hand, agrees: the meeting's registration settings, the add and batch
answers, the listing, the cancellation, the licence rule and the scope names, with no Zoom mail and
no daily unit spent on registrants.
"""

import io
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse

from bench.harness import connect_trainer
from simulators.zoom.server import start_server
from virtualmeeting.errors import ProviderError
from virtualmeeting.models import MeetingRegistrant, ProviderConnection, VirtualMeeting
from virtualmeeting.providers.base import MeetingSpec, RegistrantSpec
from virtualmeeting.registrants import registrants_sync
from virtualmeeting.registry import get_provider
from virtualmeeting.services import RegistrantPerson, meeting_put, registrants_set
from virtualmeeting.sync import meeting_sync


@pytest.fixture
def zoom_sim(tmp_path, settings):
    callback = settings.SITE_URL + reverse("virtualmeeting:auth_callback", args=["zoom"])
    server = start_server(port=0, db_path=str(tmp_path / "zoomsim.sqlite3"), redirect_uri=callback)
    settings.ZOOM_OAUTH_BASE_URL = server.oauth_base_url
    settings.ZOOM_API_BASE_URL = server.api_base_url
    settings.REDIS_URL = ""  # the rate buckets in the database: this test touches no Redis
    yield server
    server.stop()


@pytest.fixture
def provider(zoom_sim, db):
    call_command("virtualmeeting_zoom_configure", simulator=zoom_sim.url, stdout=io.StringIO())
    return get_provider("zoom")


def host(zoom_sim, user, email: str) -> ProviderConnection:
    connect_trainer(user, zoom_email=email, sim_url=zoom_sim.url)
    return ProviderConnection.objects.get(user=user, provider="zoom")


def meeting_spec(**overrides) -> MeetingSpec:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    values = {
        "topic": "Safety training: Session 1",
        "start": start,
        "finish": start + timedelta(hours=1),
        "timezone": "Europe/London",
        "registration": True,
        "marker": "vm-sim-registrants",
    }
    values.update(overrides)
    return MeetingSpec(**values)


def person(n: int) -> RegistrantSpec:
    return RegistrantSpec(key=str(n), email=f"vm-r{n}-0a1b2c3d@lms.example", first_name=f"Learner{n}", last_name="Lee")


def test_personal_links_from_the_simulator(zoom_sim, provider, trainer):
    connection = host(zoom_sim, trainer, "pro@zoomsim.test")
    assert connection.extra["type"] == 2
    assert provider.registrants_unavailable(connection) == ""  # the simulator grants the registrant scopes we name

    remote = provider.create_meeting(connection=connection, spec=meeting_spec())
    read = provider.get_meeting(connection=connection, remote_id=remote.remote_id)
    assert read.registration is True
    assert provider.remote_matches(read, meeting_spec())

    [first] = provider.register(connection=connection, remote_id=remote.remote_id, people=[person(1)])
    batch = provider.register(connection=connection, remote_id=remote.remote_id, people=[person(2), person(3)])
    assert [r.email for r in batch] == [person(2).email, person(3).email]
    # A retry after a lost answer gives the same registrations, not new ones.
    again = provider.register(connection=connection, remote_id=remote.remote_id, people=[person(1), person(2)])
    assert {r.registrant_id for r in again} == {first.registrant_id, batch[0].registrant_id}

    listed = provider.list_registrants(connection=connection, remote_id=remote.remote_id)
    assert {(r.registrant_id, r.join_url) for r in listed} == {(r.registrant_id, r.join_url) for r in [first, *batch]}
    assert requests.get(first.join_url, timeout=10).status_code == 200  # the person's own link works

    provider.cancel_registrants(
        connection=connection, remote_id=remote.remote_id, registrant_ids=[first.registrant_id, "unknown-id"]
    )
    statuses = {r["id"]: r["status"] for r in zoom_sim.registrants(remote.remote_id)}
    assert statuses == {
        first.registrant_id: "cancelled",
        batch[0].registrant_id: "approved",
        batch[1].registrant_id: "approved",
    }
    assert [r.registrant_id for r in provider.list_registrants(connection=connection, remote_id=remote.remote_id)] == [
        r.registrant_id for r in batch
    ]

    # A person cancelled and wanted again under the same address gets their registration (and link) back.
    [back] = provider.register(connection=connection, remote_id=remote.remote_id, people=[person(1)])
    assert (back.registrant_id, back.join_url) == (first.registrant_id, first.join_url)

    assert zoom_sim.emails(remote.remote_id) == []  # Zoom wrote to nobody
    assert zoom_sim.quota("pro@zoomsim.test")["used"] == 1  # the create alone; registrants spend no daily unit


def test_registration_switched_off_and_back_on(zoom_sim, provider, trainer):
    connection = host(zoom_sim, trainer, "pro@zoomsim.test")
    remote = provider.create_meeting(connection=connection, spec=meeting_spec())
    provider.update_meeting(
        connection=connection,
        remote_id=remote.remote_id,
        spec=meeting_spec(registration=False),
        previous=meeting_spec(),
    )
    with pytest.raises(ProviderError) as caught:
        provider.register(connection=connection, remote_id=remote.remote_id, people=[person(1)])
    assert caught.value.code == "registration_off" and not caught.value.permanent
    read = provider.get_meeting(connection=connection, remote_id=remote.remote_id)
    assert not provider.remote_matches(read, meeting_spec())  # the check puts it back...
    provider.update_meeting(connection=connection, remote_id=remote.remote_id, spec=meeting_spec(), previous=None)
    assert provider.register(connection=connection, remote_id=remote.remote_id, people=[person(1)])  # ...and it works


def test_a_basic_host_is_refused_by_the_simulator_too(zoom_sim, provider, trainer):
    connection = host(zoom_sim, trainer, "basic@zoomsim.test")
    assert connection.extra["type"] == 1
    assert "licensed" in provider.registrants_unavailable(connection)
    remote = provider.create_meeting(connection=connection, spec=meeting_spec())
    with pytest.raises(ProviderError) as caught:
        provider.register(connection=connection, remote_id=remote.remote_id, people=[person(1), person(2)])
    assert caught.value.permanent and caught.value.code == "unlicensed"


# --- the registrants sync with Zoom's refusals ---------------------------------------------------------
def wanted_meeting(trainer) -> VirtualMeeting:
    """A meeting asking for personal links, made in the simulator by the framework's sync."""
    spec = meeting_spec()
    meeting = meeting_put(
        reference="ref:sim",
        provider="zoom",
        owner=trainer,
        topic=spec.topic,
        start=spec.start,
        finish=spec.finish,
        time_zone=spec.timezone,
        personal_links=True,
    )
    assert meeting_sync(meeting.pk) == ["create"]
    return VirtualMeeting.objects.get(pk=meeting.pk)


def learners(*numbers):
    return [RegistrantPerson(key=f"booking:{n}", first_name=f"Learner{n}", last_name="Lee") for n in numbers]


def test_registration_switched_off_in_zoom_is_put_back_before_the_learners_are_registered(
    zoom_sim, provider, trainer, django_capture_on_commit_callbacks
):
    connection = host(zoom_sim, trainer, "pro@zoomsim.test")
    meeting = wanted_meeting(trainer)
    assert meeting.registration is True
    # Someone turns registration off in Zoom; no webhook tells us.
    provider.update_meeting(
        connection=connection,
        remote_id=meeting.remote_id,
        spec=MeetingSpec.of(meeting, registration=False),
        previous=MeetingSpec.of(meeting, registration=True),
    )
    registrants_set(reference="ref:sim", people=learners(1, 2))

    with django_capture_on_commit_callbacks(execute=True):
        # The batch is refused; the meeting's sync puts registration back, then wakes the registrants.
        assert registrants_sync(meeting.pk) == ["waiting (registration off)"]

    assert provider.get_meeting(connection=connection, remote_id=meeting.remote_id).registration is True
    rows = MeetingRegistrant.objects.filter(meeting=meeting)
    assert {(row.status, row.attempts, row.last_error) for row in rows} == {
        (MeetingRegistrant.Status.REGISTERED, 0, "")
    }
    held = {r["id"]: r for r in zoom_sim.registrants(meeting.remote_id)}
    assert {row.remote_id for row in rows} == set(held) and len(held) == 2
    assert zoom_sim.emails(meeting.remote_id) == []


def test_a_host_zoom_refuses_as_unlicensed_gets_the_shared_link_without_a_registration_form(
    zoom_sim, provider, trainer, django_capture_on_commit_callbacks
):
    connection = host(zoom_sim, trainer, "pro@zoomsim.test")
    meeting = wanted_meeting(trainer)
    zoom_sim.edit_user("pro@zoomsim.test", type=1)  # the licence lapsed after the meeting was made
    registrants_set(reference="ref:sim", people=learners(1, 2))

    with django_capture_on_commit_callbacks(execute=True):
        assert registrants_sync(meeting.pk) == ["unsupported"]

    # Nobody on the shared link meets Zoom's registration form: the meeting no longer requires registration.
    assert provider.get_meeting(connection=connection, remote_id=meeting.remote_id).registration is False
    meeting = VirtualMeeting.objects.get(pk=meeting.pk)
    assert (meeting.status, meeting.registration) == (VirtualMeeting.Status.AVAILABLE, False)
    page = requests.get(meeting.join_url, timeout=10)
    assert page.status_code == 200 and "register" not in page.text.lower()
    connection.refresh_from_db()  # Zoom's refusal was remembered on the connection
    reasons = {(row.status, row.last_error) for row in MeetingRegistrant.objects.filter(meeting=meeting)}
    assert reasons == {(MeetingRegistrant.Status.UNSUPPORTED, provider.registrants_unavailable(connection))}
    assert "not licensed (Basic)" in reasons.pop()[1]
    assert zoom_sim.registrants(meeting.remote_id) == []
