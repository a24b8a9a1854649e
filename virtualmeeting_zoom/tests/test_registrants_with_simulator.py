"""The Zoom provider's registrant calls against the Zoom simulator (zoomsim), which follows zoom-api.md.

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
from virtualmeeting.errors import ProviderError
from virtualmeeting.models import ProviderConnection
from virtualmeeting.providers.base import MeetingSpec, RegistrantSpec
from virtualmeeting.registry import get_provider
from zoomsim.server import start_server


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
