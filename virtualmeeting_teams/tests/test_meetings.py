"""The framework's sync driving the Teams provider against FakeGraph (and strict stubs where the exact calls
matter): a moved session is changed in place, throttling waits for Graph's time, a lost create answer is
adopted once, times carry the session's zone, and a refused call says why."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from virtualmeeting.errors import AuthRevoked, ProviderError, RateLimited
from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.providers.base import MeetingSpec
from virtualmeeting.registry import get_provider
from virtualmeeting.services import meeting_put
from virtualmeeting.sync import meeting_sync
from virtualmeeting_teams.tests.conftest import GRAPH, TOKEN_URL
from virtualmeeting_teams.tests.fake_graph import CREATE_OR_GET, FakeGraph

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (British Summer Time)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def owner(connection):
    connection.expires_at = timezone.now() + timedelta(minutes=55)
    connection.save()
    return connection.user


@pytest.fixture
def graph(mocked):
    return FakeGraph(mocked)


def put(owner, **overrides):
    values = {
        "reference": "seminars.event:1:session:1:room:1",
        "provider": "teams",
        "owner": owner,
        "topic": "Safety training: Induction (session 1 of 1)",
        "start": START,
        "finish": START + timedelta(minutes=90),
        "time_zone": "Europe/London",
        "agenda": "Bring a hard hat.",
    }
    values.update(overrides)
    return meeting_put(**values)


def fresh(meeting):
    return VirtualMeeting.objects.get(pk=meeting.pk)


def spec(**overrides):
    values = {
        "topic": "Safety training",
        "start": START,
        "finish": START + timedelta(hours=1),
        "timezone": "Europe/London",
        "marker": "vm-teams-test",
    }
    values.update(overrides)
    return MeetingSpec(**values)


def test_a_moved_session_is_changed_in_place_with_the_same_meeting_and_join_url(teams_config, owner, graph):
    meeting = put(owner)
    assert meeting_sync(meeting.pk) == ["create"]
    made = fresh(meeting)
    assert made.status == VirtualMeeting.Status.AVAILABLE and made.join_url.startswith("https://teams.microsoft.com/")
    assert graph.calls == [("POST", "createOrGet")]

    put(owner, start=START + timedelta(hours=2), finish=START + timedelta(hours=3, minutes=30))
    assert meeting_sync(meeting.pk) == ["update"]

    moved = fresh(meeting)
    assert (moved.remote_id, moved.join_url) == (made.remote_id, made.join_url)
    assert moved.status == VirtualMeeting.Status.AVAILABLE
    # One PATCH of the two times (Graph wants both when either moves); no DELETE, no second create.
    assert graph.calls == [("POST", "createOrGet"), ("PATCH", "meeting")]
    assert graph.patch_bodies == [
        {"startDateTime": "2026-07-01T12:00:00+01:00", "endDateTime": "2026-07-01T13:30:00+01:00"}
    ]
    assert list(graph.meetings) == [made.remote_id]

    put(owner, start=START + timedelta(hours=2), finish=START + timedelta(hours=3, minutes=30), topic="Renamed")
    assert meeting_sync(meeting.pk) == ["update"]
    assert graph.patch_bodies[-1] == {"subject": "Renamed"}  # only what changed
    assert fresh(meeting).remote_id == made.remote_id


@pytest.mark.parametrize("status", [429, 503])
def test_graph_throttling_waits_until_the_retry_after_it_gave(teams_config, owner, strict, status):
    strict.post(
        CREATE_OR_GET, status=status, json={"error": {"code": "TooManyRequests"}}, headers={"Retry-After": "120"}
    )
    meeting = put(owner)

    meeting_sync(meeting.pk)

    row = fresh(meeting)
    assert row.status == VirtualMeeting.Status.WAITING
    assert row.next_attempt_at == NOW + timedelta(seconds=120)
    assert not row.waiting_daily_limit


@pytest.mark.parametrize("status", [429, 503])
def test_the_provider_raises_rate_limited_with_graphs_time(teams_config, connection, strict, status):
    strict.post(CREATE_OR_GET, status=status, body="", headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as excinfo:
        get_provider("teams").create_meeting(connection=connection, spec=spec())
    assert excinfo.value.retry_at == NOW + timedelta(seconds=7)
    assert not excinfo.value.daily


def test_a_503_without_retry_after_is_transient(teams_config, connection, strict):
    strict.post(CREATE_OR_GET, status=503, body="")
    with pytest.raises(ProviderError) as excinfo:
        get_provider("teams").create_meeting(connection=connection, spec=spec())
    assert type(excinfo.value) is ProviderError and not excinfo.value.permanent and excinfo.value.ambiguous


@pytest.mark.parametrize(
    ("zone", "start", "sent_start", "sent_end"),
    [
        # 10:00 in London during British Summer Time is 09:00 UTC.
        ("Europe/London", datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "2026-07-01T10:00:00+01:00", "2026-07-01T11:00:00+01:00"),
        # 10:00 in Kolkata (UTC+05:30, no summer time) is 04:30 UTC.
        ("Asia/Kolkata", datetime(2026, 12, 3, 4, 30, tzinfo=UTC), "2026-12-03T10:00:00+05:30", "2026-12-03T11:00:00+05:30"),
    ],
)  # fmt: skip
def test_times_are_sent_with_the_sessions_offset_and_name_the_right_instant(
    teams_config, connection, graph, zone, start, sent_start, sent_end
):
    provider = get_provider("teams")
    wanted = spec(start=start, finish=start + timedelta(hours=1), timezone=zone)

    created = provider.create_meeting(connection=connection, spec=wanted)

    body = graph.create_bodies[0]
    assert (body["startDateTime"], body["endDateTime"]) == (sent_start, sent_end)
    assert datetime.fromisoformat(body["startDateTime"]) == start  # the same instant
    read = provider.get_meeting(connection=connection, remote_id=created.remote_id)
    assert (read.start, read.duration_minutes) == (start, 60)  # Graph answers in UTC, read back as the instant
    assert provider.remote_matches(read, wanted)


def test_a_lost_create_answer_is_adopted_without_a_second_meeting(teams_config, owner, graph):
    graph.lose_next_answer("create")
    meeting = put(owner)

    meeting_sync(meeting.pk)  # applied at Graph, the answer lost: ambiguous
    row = fresh(meeting)
    assert row.maybe_created and not row.remote_id
    VirtualMeeting.objects.filter(pk=meeting.pk).update(next_attempt_at=timezone.now())

    assert meeting_sync(meeting.pk) == ["find (adopted)"]

    row = fresh(meeting)
    assert len(graph.meetings) == 1
    assert row.remote_id == next(iter(graph.meetings)) and row.status == VirtualMeeting.Status.AVAILABLE
    # The repeated createOrGet carried the same external id; nothing of ours is in what attendees read.
    assert graph.create_bodies[0] == graph.create_bodies[1]
    assert row.marker not in graph.create_bodies[0]["subject"]


def test_a_meeting_recreated_after_a_hand_deletion_gets_a_new_external_id(teams_config, connection, graph):
    provider = get_provider("teams")
    first = provider.create_meeting(connection=connection, spec=spec())
    graph.meetings.pop(first.remote_id)  # deleted in Teams by hand

    second = provider.create_meeting(connection=connection, spec=spec())

    assert second.remote_id != first.remote_id and second.remote_id in graph.meetings
    assert graph.create_bodies[0]["externalId"] != graph.create_bodies[1]["externalId"]


def test_an_expired_access_token_is_renewed_once_and_the_rotated_refresh_token_kept(teams_config, connection, graph):
    graph.valid_tokens = {"ms-access-elsewhere"}  # Graph no longer takes ms-access-1

    created = get_provider("teams").create_meeting(connection=connection, spec=spec())

    assert created.remote_id in graph.meetings
    row = ProviderConnection.objects.get(pk=connection.pk)
    assert (row.access_token, row.refresh_token) == ("ms-access-2", "ms-refresh-2")


def test_a_revoked_consent_asks_to_reconnect_and_no_token_reaches_the_log(teams_config, connection, graph, caplog):
    graph.revoked = True
    graph.valid_tokens.clear()

    with pytest.raises(AuthRevoked) as excinfo:
        get_provider("teams").get_meeting(connection=connection, remote_id="MSo-any")

    assert "reconnect your Microsoft account" in excinfo.value.message
    for secret in ("ms-access-1", "ms-refresh-1", teams_config.client_secret):
        assert secret not in excinfo.value.message and secret not in caplog.text


def test_a_403_names_the_missing_permission_when_the_grant_lacks_it(teams_config, trainer, strict):
    from virtualmeeting_teams.tests.conftest import make_connection

    connection = make_connection(trainer, scopes="openid profile email offline_access User.Read")
    strict.post(CREATE_OR_GET, status=403, json={"error": {"code": "Forbidden", "message": ""}})

    with pytest.raises(ProviderError) as excinfo:
        get_provider("teams").create_meeting(connection=connection, spec=spec())

    assert excinfo.value.permanent and "OnlineMeetings.ReadWrite" in excinfo.value.message


def test_a_403_with_the_permission_granted_speaks_of_the_licence(teams_config, connection, strict):
    strict.post(CREATE_OR_GET, status=403, json={"error": {"code": "Forbidden", "message": ""}})

    with pytest.raises(ProviderError) as excinfo:
        get_provider("teams").create_meeting(connection=connection, spec=spec())

    assert excinfo.value.permanent and "Teams licence" in excinfo.value.message


def test_delete_of_a_meeting_already_gone_sends_one_delete_and_is_done(teams_config, connection, strict):
    gone = strict.delete(f"{GRAPH}/me/onlineMeetings/MSo-gone", status=404, json={"error": {"code": "NotFound"}})
    get_provider("teams").delete_meeting(connection=connection, remote_id="MSo-gone")
    assert gone.call_count == 1


def test_the_host_link_is_the_join_url_read_at_click_time(teams_config, connection, graph):
    provider = get_provider("teams")
    created = provider.create_meeting(connection=connection, spec=spec())
    assert provider.host_url(connection=connection, remote_id=created.remote_id) == created.join_url
    assert graph.meeting_gets == 1


def test_no_token_endpoint_call_while_the_access_token_is_fresh(teams_config, connection, strict):
    created = strict.post(
        CREATE_OR_GET,
        status=201,
        json={"id": "MSo-1", "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x", "subject": "S",
              "startDateTime": "2026-07-01T09:00:00Z", "endDateTime": "2026-07-01T10:00:00Z"},
    )  # fmt: skip
    get_provider("teams").create_meeting(connection=connection, spec=spec())
    assert created.calls[0].request.headers["Authorization"] == "Bearer ms-access-1"
    assert json.loads(created.calls[0].request.body)["externalId"].startswith("vm-teams-test.")
    assert TOKEN_URL not in [call.request.url for call in strict.calls]


def test_a_refused_client_secret_at_refresh_is_the_site_admins_to_fix(teams_config, connection, strict):
    connection.expires_at = timezone.now()  # due for a refresh before the first call
    connection.save()
    strict.post(
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
              "error_codes": [7000215]},
    )  # fmt: skip

    with pytest.raises(ProviderError) as excinfo:
        get_provider("teams").get_meeting(connection=connection, remote_id="MSo-any")

    assert type(excinfo.value) is ProviderError and excinfo.value.permanent
    assert "client secret" in excinfo.value.message and teams_config.client_secret not in excinfo.value.message
    assert ProviderConnection.objects.get(pk=connection.pk).status == ProviderConnection.Status.CONNECTED


def test_a_change_graph_does_not_hold_sends_nothing(teams_config, connection, strict):
    """The zone alone (the same instants), the agenda: an online meeting has neither, so no call is made."""
    before = spec(agenda="Bring a hard hat.")
    after = spec(agenda="Bring boots.", timezone="Europe/Dublin")  # Dublin and London share their offsets
    assert (
        get_provider("teams").update_meeting(connection=connection, remote_id="MSo-1", spec=after, previous=before)
        is None
    )
    assert len(strict.calls) == 0
