"""The real Teams provider (virtualmeeting_teams) against the simulator over HTTP: connect through the
product's OAuth views and the simulator's sign-in and consent pages, then the sync makes the meeting, moves it
in place (same id and join URL), and deletes it; the provider's own reads and refusals as the simulator answers."""

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from simulators.microsoft.seed import PASSWORD
from simulators.microsoft.server import start_server
from virtualmeeting.errors import AuthRevoked, MeetingNotFound
from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.registry import get_provider
from virtualmeeting.services import meeting_put, meeting_remove
from virtualmeeting.sync import meeting_sync

TIMEOUT = 10


@pytest.fixture
def ms_sim(tmp_path, settings):
    callback = settings.SITE_URL + reverse("virtualmeeting:auth_callback", args=["teams"])
    server = start_server(port=0, db_path=str(tmp_path / "mssim.sqlite3"), redirect_uris=(callback,))
    settings.TEAMS_AUTH_BASE_URL = server.auth_base_url
    settings.GRAPH_API_BASE_URL = server.graph_base_url
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    yield server
    server.stop()


@pytest.fixture
def provider(ms_sim, db):
    call_command("virtualmeeting_teams_configure", simulator=ms_sim.url, stdout=io.StringIO())
    return get_provider("teams")


def connect(user, ms_sim, email="trainer@contoso.test") -> Client:
    """The connect view, the simulator's sign-in and consent pages, and the callback, as a person does them."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    answer = client.get(reverse("virtualmeeting:connect", args=["teams"]))
    assert answer.status_code == 302 and answer["Location"].startswith(f"{ms_sim.url}/common/oauth2/v2.0/authorize?")
    browser = requests.Session()
    page = browser.get(answer["Location"], timeout=TIMEOUT)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    page = browser.post(
        f"{ms_sim.url}{action}", data={"txn": txn, "email": email, "password": PASSWORD}, timeout=TIMEOUT
    )
    assert "Permissions requested" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    decision = browser.post(
        f"{ms_sim.url}{action}", data={"txn": txn, "decision": "accept"}, allow_redirects=False, timeout=TIMEOUT
    )
    back = urlsplit(urljoin(ms_sim.url, decision.headers["Location"]))
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 200
    return client


def start_at(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


def put(owner, start, topic="Safety training: Induction (session 1 of 1)"):
    return meeting_put(
        reference="session-1",
        provider="teams",
        owner=owner,
        topic=topic,
        start=start,
        finish=start + timedelta(hours=1),
        time_zone="Europe/London",
    )


def test_connect_create_read_move_in_place_and_delete(ms_sim, provider):
    trainer = User.objects.create(username="tess", email="tess@example.com")
    connect(trainer, ms_sim)
    connection = ProviderConnection.objects.get(user=trainer, provider="teams")
    assert (connection.status, connection.email) == ("connected", "trainer@contoso.test")

    meeting = put(trainer, start_at(3))
    assert meeting_sync(meeting.pk) == ["create"]
    row = VirtualMeeting.objects.get(pk=meeting.pk)
    [made] = ms_sim.meetings()
    assert (row.status, row.remote_id) == ("available", made["id"])
    assert made["start"] == start_at(3).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    remote = provider.get_meeting(connection=connection, remote_id=row.remote_id)
    assert (remote.join_url, remote.start) == (row.join_url, start_at(3))

    moved = put(trainer, start_at(4))
    assert meeting_sync(moved.pk) == ["update"]
    after = VirtualMeeting.objects.get(pk=meeting.pk)
    [same] = ms_sim.meetings()
    assert (after.remote_id, after.join_url) == (row.remote_id, row.join_url)
    assert same["id"] == made["id"] and same["start"] == start_at(4).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    patches = [entry for entry in ms_sim.requests() if entry["route"] == "graph.meetings.update"]
    assert [entry["status"] for entry in patches] == [200]

    meeting_remove(reference="session-1")
    assert meeting_sync(meeting.pk) == ["delete"]
    assert ms_sim.meetings() == [] and VirtualMeeting.objects.get(pk=meeting.pk).status == "deleted"
    with pytest.raises(MeetingNotFound):
        provider.get_meeting(connection=connection, remote_id=row.remote_id)


def test_a_trainer_without_a_teams_licence_gets_the_meeting_failed_in_words(ms_sim, provider):
    trainer = User.objects.create(username="noel", email="noel@example.com")
    connect(trainer, ms_sim, email="nolicence@contoso.test")
    meeting = put(trainer, start_at(3))
    assert meeting_sync(meeting.pk) == ["failed"]
    row = VirtualMeeting.objects.get(pk=meeting.pk)
    assert "Teams licence" in row.last_error
    assert ms_sim.meetings() == []


def test_an_expired_access_token_is_renewed_and_the_call_repeated(ms_sim, provider):
    trainer = User.objects.create(username="tess", email="tess@example.com")
    connect(trainer, ms_sim)
    before = ProviderConnection.objects.get(user=trainer)
    ms_sim.expire_access_tokens("trainer@contoso.test")
    meeting = put(trainer, start_at(3))
    assert meeting_sync(meeting.pk) == ["create"]
    after = ProviderConnection.objects.get(user=trainer)
    assert after.refresh_token != before.refresh_token  # the rotated refresh token was kept
    statuses = [(entry["route"], entry["status"]) for entry in ms_sim.requests()]
    assert ("graph.meetings.createOrGet", 401) in statuses and ("graph.meetings.createOrGet", 201) in statuses


def test_revoked_consent_needs_a_new_connection(ms_sim, provider):
    """Consent withdrawn in Microsoft: the next refresh is invalid_grant, the connection is revoked and the
    meeting waits for the trainer to reconnect."""
    trainer = User.objects.create(username="tess", email="tess@example.com")
    connect(trainer, ms_sim)
    ms_sim.revoke_consent("trainer@contoso.test")
    ms_sim.expire_access_tokens("trainer@contoso.test")
    with pytest.raises(AuthRevoked):
        provider.get_meeting(connection=ProviderConnection.objects.get(user=trainer), remote_id="AAAA")

    meeting = put(trainer, start_at(3))
    assert meeting_sync(meeting.pk) == ["failed (reconnect)"]
    assert ProviderConnection.objects.get(user=trainer).status == "revoked"
    assert ms_sim.meetings() == []
    refreshes = [entry["status"] for entry in ms_sim.requests() if entry["route"] == "identity.token"]
    assert refreshes[-1] == 400


def test_teams_meetings_converge_under_faults(ms_sim, provider):
    """20 meetings made, 7 moved, 4 removed while Graph fails a third of the meeting calls (500, 503 with
    Retry-After, 504, 429, and answers lost after the call was applied); the sync is run until nothing is left to
    do (each round as if the wait had passed). Then Teams holds exactly one meeting per session at its time: a
    lost create answer adopted through createOrGet, never a second meeting; nothing failed; no meeting left over."""
    from virtualmeeting.models import WORK_STATUSES

    trainer = User.objects.create(username="tess", email="tess@example.com")
    connect(trainer, ms_sim)
    ms_sim.set_faults(route="*", seed=7, error_500=0.08, error_503=0.08, error_504=0.06, rate_429=0.05, drop=0.08)
    ms_sim.set_faults(route="identity.token", error_500=0, error_503=0, error_504=0, rate_429=0, drop=0)
    starts = {f"session-{n}": start_at(3 + n) for n in range(20)}

    def settle():
        for _ in range(60):
            due = list(VirtualMeeting.objects.filter(status__in=WORK_STATUSES).values_list("pk", flat=True))
            if not due:
                return
            VirtualMeeting.objects.filter(pk__in=due).update(next_attempt_at=timezone.now())
            for pk in due:
                meeting_sync(pk)
        raise AssertionError("the meetings did not settle")

    for reference, start in starts.items():
        meeting_put(
            reference=reference,
            provider="teams",
            owner=trainer,
            topic=reference,
            start=start,
            finish=start + timedelta(hours=1),
            time_zone="Asia/Kolkata",
        )
    settle()
    for n in range(0, 14, 2):
        reference = f"session-{n}"
        starts[reference] += timedelta(hours=2, minutes=30)
        meeting_put(
            reference=reference,
            provider="teams",
            owner=trainer,
            topic=reference,
            start=starts[reference],
            finish=starts[reference] + timedelta(hours=1),
            time_zone="Asia/Kolkata",
        )
    for n in (15, 16, 17, 18):
        meeting_remove(reference=f"session-{n}")
        del starts[f"session-{n}"]
    settle()

    log = ms_sim.requests()
    faults = [e for e in log if e["status"] in (500, 503, 504, 429, "close")]
    assert len(faults) >= 10  # the faults really happened
    assert any(e["status"] == "close" and e["route"] == "graph.meetings.createOrGet" for e in log)
    assert list(VirtualMeeting.objects.filter(status="failed").values_list("reference", "last_error")) == []
    alive = {m["id"]: m for m in ms_sim.meetings()}
    rows = {m.reference: m for m in VirtualMeeting.objects.filter(status="available")}
    assert set(rows) == set(starts)
    assert len(alive) == len(starts)  # no duplicate, no meeting left over
    for reference, start in starts.items():
        meeting = alive[rows[reference].remote_id]
        assert meeting["start"] == start.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"), reference
        assert meeting["subject"] == reference
