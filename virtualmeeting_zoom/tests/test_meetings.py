"""Meetings: request bodies (time zones, DST, durations, limits of Zoom's fields), calls and error codes."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from virtualmeeting.errors import MeetingNotFound, ProviderError
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.providers.base import MeetingSpec
from virtualmeeting_zoom.client import MEDIUM
from virtualmeeting_zoom.limits import bucket_key
from virtualmeeting_zoom.models import ZoomCreateRequest, ZoomRateBucket
from virtualmeeting_zoom.oauth import PRIVATE_APP_MESSAGE
from virtualmeeting_zoom.payloads import create_body, update_body
from virtualmeeting_zoom.tests.conftest import API, ZOOM_ACCOUNT_ID, meeting_json

CREATE_URL = f"{API}/users/me/meetings"
MEETING_ID = "85746065432"
MEETING_URL = f"{API}/meetings/{MEETING_ID}"
OPTIONS = {"waiting_room": True, "join_before_host": False, "mute_upon_entry": False, "auto_recording": "none"}


def spec(start=None, minutes=60.0, zone="Europe/London", **overrides):
    start = start or datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo(zone))
    values = {
        "topic": "Safety training: Induction (session 1 of 2)",
        "start": start.astimezone(UTC),
        "finish": (start + timedelta(minutes=minutes)).astimezone(UTC),
        "timezone": zone,
        "agenda": "Bring a hard hat.",
        "marker": "vm-0123456789abcdef0123456789abcdef",
    }
    values.update(overrides)
    return MeetingSpec(**values)


def sent_json(call):
    return json.loads(call.request.body)


# --- request bodies -------------------------------------------------------------


def test_create_body():
    body = create_body(spec(), OPTIONS)
    assert body == {
        "type": 2,
        "topic": "Safety training: Induction (session 1 of 2)",
        "start_time": "2026-06-01T09:00:00",
        "timezone": "Europe/London",
        "duration": 60,
        "agenda": "Bring a hard hat.",
        "settings": {
            "waiting_room": True,
            "join_before_host": False,
            "mute_upon_entry": False,
            "auto_recording": "none",
            "approval_type": 2,  # no registration unless the spec asks for it
        },
    }


def test_london_session_across_the_march_clock_change():
    # 00:30 GMT to 03:30 BST on 29 March 2026 is two real hours, not three.
    start = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("Europe/London"))
    finish = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/London"))
    body = create_body(spec(start=start, zone="Europe/London", finish=finish.astimezone(UTC)), OPTIONS)
    assert body["start_time"] == "2026-03-29T00:30:00"
    assert body["duration"] == 120


def test_london_session_after_the_clock_change_is_sent_in_summer_time():
    start = datetime(2026, 3, 30, 9, 0, tzinfo=ZoneInfo("Europe/London"))  # 08:00 UTC
    body = create_body(spec(start=start, zone="Europe/London"), OPTIONS)
    assert spec(start=start).start == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert body["start_time"] == "2026-03-30T09:00:00"


def test_sydney_session_is_sent_in_sydney_time():
    start = datetime(2026, 4, 5, 1, 30, tzinfo=UTC)  # Sydney is back on AEST (UTC+10) by then
    body = create_body(spec(start=start, zone="Australia/Sydney", minutes=90), OPTIONS)
    assert body["start_time"] == "2026-04-05T11:30:00"
    assert body["timezone"] == "Australia/Sydney"
    assert body["duration"] == 90


def test_sydney_session_across_the_april_clock_change():
    # 01:30 AEDT to 03:30 AEST on 5 April 2026: clocks go back at 03:00, so three real hours.
    sydney = ZoneInfo("Australia/Sydney")
    start = datetime(2026, 4, 5, 1, 30, tzinfo=sydney)
    finish = datetime(2026, 4, 5, 3, 30, tzinfo=sydney)
    body = create_body(spec(start=start, zone="Australia/Sydney", finish=finish.astimezone(UTC)), OPTIONS)
    assert spec(start=start, zone="Australia/Sydney").start == datetime(2026, 4, 4, 14, 30, tzinfo=UTC)
    assert body["start_time"] == "2026-04-05T01:30:00"
    assert body["duration"] == 180


def test_duration_rounds_up_to_whole_minutes():
    assert create_body(spec(minutes=61.5), OPTIONS)["duration"] == 62
    assert create_body(spec(minutes=61), OPTIONS)["duration"] == 61
    assert create_body(spec(minutes=0.2), OPTIONS)["duration"] == 1


def test_unknown_zone_is_sent_as_utc():
    body = create_body(spec(zone="UTC", start=datetime(2026, 6, 1, 9, 0, tzinfo=UTC), timezone="Mars/Olympus"), OPTIONS)
    assert body["start_time"] == "2026-06-01T09:00:00Z"
    assert body["timezone"] == "UTC"


def test_topic_is_cut_to_200_characters():
    assert len(create_body(spec(topic="x" * 500), OPTIONS)["topic"]) == 200


def test_agenda_is_the_users_text_alone_and_nothing_internal_reaches_zoom():
    details = "Bring a hard hat.\nMeet at gate 3: vm-like words are the user's own."
    body = create_body(spec(agenda=details), OPTIONS)
    assert body["agenda"] == details
    assert "0123456789abcdef0123456789abcdef" not in json.dumps(body)
    assert create_body(spec(agenda="y" * 5000), OPTIONS)["agenda"] == "y" * 2000
    assert create_body(spec(agenda=""), OPTIONS)["agenda"] == ""


def test_an_update_never_sends_the_marker():
    body = update_body(spec(agenda="New details"), None)
    assert body["agenda"] == "New details"
    assert "0123456789abcdef0123456789abcdef" not in json.dumps(body)


def test_meeting_options_reach_the_settings():
    options = {"waiting_room": False, "join_before_host": True, "mute_upon_entry": True, "auto_recording": "cloud"}
    assert create_body(spec(), options)["settings"] == {
        "waiting_room": False,
        "join_before_host": True,
        "mute_upon_entry": True,
        "auto_recording": "cloud",
        "approval_type": 2,
    }


def test_update_body_has_only_what_changed():
    before = spec()
    assert update_body(before, before) == {}
    assert update_body(spec(topic="New name"), before) == {"topic": "New name"}
    later = spec(start=datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/London")))
    assert update_body(later, before) == {"start_time": "2026-06-01T10:00:00", "timezone": "Europe/London"}
    assert update_body(spec(minutes=90), before) == {"duration": 90}
    # Same instant in another zone: Zoom must learn the zone (and gets the start with it).
    rezoned = spec(start=before.start.astimezone(ZoneInfo("Europe/Paris")), zone="Europe/Paris")
    assert update_body(rezoned, before) == {"start_time": "2026-06-01T10:00:00", "timezone": "Europe/Paris"}


# --- calls ----------------------------------------------------------------------


def test_create_meeting(provider, connection, mocked):
    mocked.post(CREATE_URL, status=201, json=meeting_json())
    meeting = provider.create_meeting(connection=connection, spec=spec())
    call = mocked.calls[0]
    assert call.request.headers["Authorization"] == "Bearer access-1"
    assert sent_json(call)["type"] == 2
    assert sent_json(call)["start_time"] == "2026-06-01T09:00:00"
    assert meeting.remote_id == "85746065432"
    assert meeting.join_url == "https://zoom.us/j/85746065432?pwd=abc"
    assert meeting.password == "Ab3xYz"
    assert meeting.host_email == "tom@example.com"
    assert meeting.start == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
    assert "zak=" not in json.dumps(meeting.extra)


def test_create_keeps_a_large_int64_id_exact(provider, connection, mocked):
    mocked.post(CREATE_URL, status=201, body='{"id": 9007199254740993, "join_url": "https://zoom.us/j/1"}')
    assert provider.create_meeting(connection=connection, spec=spec()).remote_id == "9007199254740993"


def test_create_uses_the_stored_options(provider, connection, mocked):
    provider.config.options = {**provider.config.options, "waiting_room": False, "mute_upon_entry": True}
    provider.config.save()
    mocked.post(CREATE_URL, status=201, json=meeting_json())
    provider.create_meeting(connection=connection, spec=spec())
    assert sent_json(mocked.calls[0])["settings"]["waiting_room"] is False
    assert sent_json(mocked.calls[0])["settings"]["mute_upon_entry"] is True


def test_update_sends_only_changes(provider, connection, mocked):
    patch = mocked.patch(MEETING_URL, status=204)
    result = provider.update_meeting(
        connection=connection, remote_id=MEETING_ID, spec=spec(topic="Renamed"), previous=spec()
    )
    assert result is None
    assert patch.call_count == 1
    assert sent_json(mocked.calls[0]) == {"topic": "Renamed"}


def test_update_with_nothing_changed_sends_nothing(provider, connection, mocked):
    assert provider.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(), previous=spec()) is None
    assert len(mocked.calls) == 0


def test_update_without_previous_sends_every_field(provider, connection, mocked):
    mocked.patch(MEETING_URL, status=204)
    provider.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(), previous=None)
    sent = sent_json(mocked.calls[0])
    assert set(sent) == {"topic", "start_time", "timezone", "duration", "agenda", "settings"}
    assert sent["settings"] == {"approval_type": 2}  # only the registration settings: the others stay as they are


def test_update_of_a_meeting_deleted_in_zoom(provider, connection, mocked):
    mocked.patch(MEETING_URL, status=404, json={"code": 3001, "message": "Meeting does not exist: 85746065432."})
    with pytest.raises(MeetingNotFound):
        provider.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(topic="x"), previous=spec())


def test_delete_meeting(provider, connection, mocked):
    delete = mocked.delete(MEETING_URL, status=204)
    provider.delete_meeting(connection=connection, remote_id=MEETING_ID)
    assert delete.call_count == 1
    assert mocked.calls[0].request.url == f"{MEETING_URL}?schedule_for_reminder=false"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"code": 3001, "message": "Meeting does not exist: 85746065432."}),
        (404, {}),
        (400, {"code": 3007, "message": "Meeting has ended, cannot delete."}),
    ],
)
def test_delete_of_a_gone_or_ended_meeting_is_success(provider, connection, mocked, status, body):
    mocked.delete(MEETING_URL, status=status, json=body)
    provider.delete_meeting(connection=connection, remote_id=MEETING_ID)


def test_delete_of_a_meeting_in_progress_retries_later(provider, connection, mocked):
    mocked.delete(MEETING_URL, status=400, json={"code": 3002, "message": "Meeting is in progress, cannot delete."})
    with pytest.raises(ProviderError) as caught:
        provider.delete_meeting(connection=connection, remote_id=MEETING_ID)
    assert not caught.value.permanent
    assert caught.value.code == "3002"


def test_get_meeting(provider, connection, mocked):
    mocked.get(MEETING_URL, json=meeting_json())
    meeting = provider.get_meeting(connection=connection, remote_id=MEETING_ID)
    assert (meeting.remote_id, meeting.duration_minutes, meeting.timezone) == (MEETING_ID, 60, "Europe/London")


def test_get_meeting_gone(provider, connection, mocked):
    mocked.get(MEETING_URL, status=404, json={"code": 3001, "message": "Meeting does not exist: 85746065432."})
    with pytest.raises(MeetingNotFound):
        provider.get_meeting(connection=connection, remote_id=MEETING_ID)


def test_host_url_is_fetched_fresh_each_time(provider, connection, mocked):
    get = mocked.get(MEETING_URL, json=meeting_json(start_url="https://zoom.us/s/85746065432?zak=fresh"))
    assert provider.host_url(connection=connection, remote_id=MEETING_ID) == "https://zoom.us/s/85746065432?zak=fresh"
    provider.host_url(connection=connection, remote_id=MEETING_ID)
    assert get.call_count == 2


def test_malformed_remote_id_is_not_sent(provider, connection, mocked):
    with pytest.raises(MeetingNotFound):
        provider.get_meeting(connection=connection, remote_id="../users/me")
    assert len(mocked.calls) == 0


def test_no_connection_is_a_permanent_error(provider):
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=None, spec=spec())
    assert caught.value.permanent


# --- find_meeting (lost-answer recovery) -------------------------------------------

MARKER = "vm-0123456789abcdef0123456789abcdef"
SENT_AT = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def strict():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def listed(meeting_id, *, created_at="2026-05-01T08:00:02Z", topic=None, start_time="2026-06-01T08:00:00Z", **extra):
    """A meeting as Zoom's list call gives it (no settings, agenda cut to 250 characters)."""
    return {
        "id": meeting_id,
        "uuid": "u",
        "host_id": "h",
        "topic": topic or spec().topic,
        "type": 2,
        "start_time": start_time,
        "duration": 60,
        "timezone": "Europe/London",
        "agenda": "Bring a hard hat.",
        "created_at": created_at,
        "join_url": f"https://zoom.us/j/{meeting_id}",
        **extra,
    }


def page(*meetings, token=""):
    return {"page_size": 300, "total_records": len(meetings), "next_page_token": token, "meetings": list(meetings)}


@pytest.fixture
def lost_create(provider, connection, strict):
    """A create sent at SENT_AT whose answer never came back."""
    strict.post(CREATE_URL, body=requests.ReadTimeout("answer lost"))
    with time_machine.travel(SENT_AT, tick=False):
        connection.expires_at = SENT_AT + timedelta(hours=1)
        connection.save()
        with pytest.raises(ProviderError) as caught:
            provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.ambiguous
    connection.expires_at = timezone.now() + timedelta(minutes=55)  # the recovery runs later, on a fresh token
    connection.save()
    return strict


def test_find_meeting_recognises_the_lost_create_by_what_was_sent(provider, connection, lost_create):
    lost_create.get(
        CREATE_URL,
        json=page(listed(111, topic="Someone else's meeting"), token="page2"),
        match=[responses_query({"type": "upcoming", "page_size": "300"})],
    )
    lost_create.get(
        CREATE_URL,
        json=page(listed(222)),
        match=[responses_query({"type": "upcoming", "page_size": "300", "next_page_token": "page2"})],
    )
    lost_create.get(f"{API}/meetings/222", json=meeting_json(222, agenda="Bring a hard hat."))
    found = provider.find_meeting(connection=connection, marker=MARKER)
    assert found.remote_id == "222"
    assert found.join_url == "https://zoom.us/j/222?pwd=abc"


def test_find_meeting_leaves_a_lookalike_made_at_another_time(provider, connection, lost_create):
    # Same topic, start and duration, but made by hand a day before our create was sent.
    lost_create.get(CREATE_URL, json=page(listed(333, created_at="2026-04-30T08:00:00Z")))
    assert provider.find_meeting(connection=connection, marker=MARKER) is None


def test_find_meeting_lists_from_the_medium_bucket_as_zoom_labels_the_list(provider, connection, lost_create, settings):
    settings.REDIS_URL = ""  # the database bucket, which this test can read
    ZoomRateBucket.objects.all().delete()  # the lost create's token
    lost_create.get(CREATE_URL, json=page(listed(333, created_at="2026-04-30T08:00:00Z")))
    assert provider.find_meeting(connection=connection, marker=MARKER) is None
    # GET /users/me/meetings is "Medium" (the OpenAPI spec): the bucket creates take, not the Light one.
    assert set(ZoomRateBucket.objects.values_list("key", flat=True)) == {bucket_key(ZOOM_ACCOUNT_ID, MEDIUM)}


def test_find_meeting_leaves_meetings_other_rows_hold_and_prefers_the_nearest(
    provider, connection, lost_create, trainer
):
    VirtualMeeting.objects.create(
        reference="other", provider="zoom", owner=trainer, topic="t", start=SENT_AT, finish=SENT_AT, remote_id="444"
    )
    lost_create.get(
        CREATE_URL,
        json=page(
            listed(444, created_at="2026-05-01T08:00:01Z"),
            listed(555, created_at="2026-05-01T08:03:00Z"),
            listed(666, created_at="2026-05-01T08:00:05Z"),
        ),
    )
    lost_create.get(f"{API}/meetings/666", json=meeting_json(666))
    assert provider.find_meeting(connection=connection, marker=MARKER).remote_id == "666"


def test_find_meeting_without_a_remembered_create_asks_zoom_nothing(provider, connection, strict):
    assert provider.find_meeting(connection=connection, marker=MARKER) is None


def test_a_create_refused_cleanly_leaves_nothing_to_find(provider, connection, strict):
    strict.post(CREATE_URL, status=400, json={"code": 300, "message": "Validation Failed."})
    with pytest.raises(ProviderError):
        provider.create_meeting(connection=connection, spec=spec())
    assert not ZoomCreateRequest.objects.exists()
    assert provider.find_meeting(connection=connection, marker=MARKER) is None


def responses_query(params):
    from responses import matchers

    return matchers.query_param_matcher(params)


# --- error codes ------------------------------------------------------------------


def test_4711_names_the_missing_scopes(provider, connection, mocked):
    mocked.post(
        CREATE_URL,
        status=400,
        json={"code": 4711, "message": "Invalid access token, does not contain scopes:[meeting:write:meeting]."},
    )
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.permanent
    assert "meeting:write:meeting" in caught.value.message


def test_4711_on_401_is_not_taken_for_an_expired_token(provider, connection, mocked):
    mocked.get(
        MEETING_URL, status=401, json={"code": 4711, "message": "does not contain scopes:[meeting:read:meeting]"}
    )
    with pytest.raises(ProviderError) as caught:
        provider.get_meeting(connection=connection, remote_id=MEETING_ID)
    assert caught.value.permanent
    assert len(mocked.calls) == 1  # no refresh attempted


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(400, 1010, "User does not belong to this account: tom@example.com."), (404, 1001, "User does not exist: me.")],
)
def test_private_app_codes(provider, connection, mocked, status, code, message):
    mocked.post(CREATE_URL, status=status, json={"code": code, "message": message})
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.permanent
    assert caught.value.message == PRIVATE_APP_MESSAGE


def test_3161_hosting_not_allowed(provider, connection, mocked):
    mocked.post(
        CREATE_URL,
        status=400,
        json={
            "code": 3161,
            "message": "Meeting hosting and scheduling capabilities are not allowed for your user account.",
        },
    )
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.permanent
    assert "3161" in caught.value.message


def test_other_4xx_is_permanent_with_zooms_message(provider, connection, mocked):
    mocked.post(
        CREATE_URL,
        status=400,
        json={
            "code": 300,
            "message": "Validation Failed.",
            "errors": [{"field": "password", "message": "Invalid password."}],
        },
    )
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.permanent
    assert caught.value.message == "Zoom refused the request: Validation Failed. (Invalid password.) (Zoom error 300)"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_on_create_is_transient_and_ambiguous(provider, connection, mocked, status):
    mocked.post(CREATE_URL, status=status, body="oops")
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert not caught.value.permanent
    assert caught.value.ambiguous


def test_5xx_on_get_is_transient_not_ambiguous(provider, connection, mocked):
    mocked.get(MEETING_URL, status=500, body="oops")
    with pytest.raises(ProviderError) as caught:
        provider.get_meeting(connection=connection, remote_id=MEETING_ID)
    assert not caught.value.permanent
    assert not caught.value.ambiguous


@pytest.mark.parametrize(
    ("error", "ambiguous"),
    [
        (requests.ReadTimeout("slow"), True),
        (requests.ConnectionError("reset"), True),
        (requests.ConnectTimeout("no"), False),
    ],
)
def test_network_failures_on_create(provider, connection, mocked, error, ambiguous):
    mocked.post(CREATE_URL, body=error)
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert not caught.value.permanent
    assert caught.value.ambiguous is ambiguous


def test_unreadable_create_answer_is_ambiguous(provider, connection, mocked):
    mocked.post(CREATE_URL, status=201, body="not json")
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.ambiguous


def test_errors_never_carry_the_token(provider, connection, mocked):
    mocked.post(CREATE_URL, status=400, json={"code": 300, "message": "Bad"})
    with pytest.raises(ProviderError) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert "access-1" not in str(caught.value)


def test_remote_matches_compares_the_cut_topic_and_the_rounded_up_duration():
    from datetime import UTC, datetime, timedelta

    from virtualmeeting.models import ProviderConfig
    from virtualmeeting.providers.base import MeetingSpec, RemoteMeeting
    from virtualmeeting_zoom.provider import ZoomProvider

    start = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
    spec = MeetingSpec(topic="T" * 250, start=start, finish=start + timedelta(minutes=61, seconds=30), timezone="UTC")
    remote = RemoteMeeting(
        remote_id="1", join_url="", start=start, duration_minutes=62, timezone="UTC", topic="T" * 200
    )
    provider = ZoomProvider(ProviderConfig(provider="zoom"))
    assert provider.remote_matches(remote, spec)
    remote.duration_minutes = 61
    assert not provider.remote_matches(remote, spec)
