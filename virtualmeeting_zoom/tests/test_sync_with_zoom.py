"""The framework's sync driving the Zoom provider, with Zoom stubbed by `responses`.

These go through virtualmeeting.services and virtualmeeting.sync as they run
in a worker, and check what reaches Zoom and what the meeting row says after.
"""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.services import meeting_put, meeting_remove
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.models import ZoomDailyUsage
from virtualmeeting_zoom.tests.conftest import API, TOKEN_URL, ZOOM_USER_ID, meeting_json

CREATE_URL = f"{API}/users/me/meetings"
MEETING_URL = f"{API}/meetings/85746065432"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 09:00 in London in winter


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def owner(connection):
    connection.expires_at = timezone.now() + timedelta(minutes=55)
    connection.save()
    return connection.user


def put(owner, **overrides):
    values = {
        "reference": "seminars.event:1:session:1:room:1",
        "provider": "zoom",
        "owner": owner,
        "topic": "Safety training: Induction (session 1 of 1)",
        "start": START,
        "finish": START + timedelta(minutes=90),
        "time_zone": "Europe/London",
        "agenda": "Bring a hard hat.",
    }
    values.update(overrides)
    return meeting_put(**values)


def run(meeting):
    return meeting_sync(meeting.pk)


def fresh(meeting):
    return VirtualMeeting.objects.get(pk=meeting.pk)


def make_due(meeting):
    VirtualMeeting.objects.filter(pk=meeting.pk).update(next_attempt_at=timezone.now())


def test_create_then_update_only_what_changed(zoom_config, owner, mocked):
    create = mocked.post(CREATE_URL, status=201, json=meeting_json())
    meeting = put(owner)
    assert run(meeting) == ["create"]
    row = fresh(meeting)
    assert (row.status, row.remote_id) == (VirtualMeeting.Status.AVAILABLE, "85746065432")
    assert row.join_url == "https://zoom.us/j/85746065432?pwd=abc"
    body = json.loads(create.calls[0].request.body)
    assert body["start_time"] == "2026-12-03T09:00:00" and body["timezone"] == "Europe/London"
    assert body["duration"] == 90
    assert body["agenda"] == "Bring a hard hat."  # attendees read it: nothing internal in it
    assert row.marker not in create.calls[0].request.body.decode()

    patch = mocked.patch(MEETING_URL, status=204)
    put(owner, topic="Safety training: Induction, renamed (session 1 of 1)")
    assert run(meeting) == ["update"]
    assert json.loads(patch.calls[0].request.body) == {"topic": "Safety training: Induction, renamed (session 1 of 1)"}
    assert fresh(meeting).status == VirtualMeeting.Status.AVAILABLE
    assert limits.daily_quota_used(ZOOM_USER_ID) == 2


def test_daily_quota_holds_the_meeting_until_midnight_without_sending(zoom_config, owner, mocked, clock):
    ZoomDailyUsage.objects.create(zoom_user_id=ZOOM_USER_ID, day=NOW.date(), count=100)
    create = mocked.post(CREATE_URL, status=201, json=meeting_json())
    meeting = put(owner)
    assert run(meeting) == ["waiting"]
    row = fresh(meeting)
    assert create.call_count == 0
    assert row.status == VirtualMeeting.Status.WAITING
    assert row.waiting_daily_limit
    assert row.next_attempt_at == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert not row.maybe_created

    clock.move_to(datetime(2026, 11, 29, 0, 0, 5, tzinfo=UTC))
    ProviderConnection.objects.update(expires_at=timezone.now() + timedelta(minutes=55))
    assert run(meeting) == ["create"]
    assert create.call_count == 1
    assert fresh(meeting).status == VirtualMeeting.Status.AVAILABLE


def test_lost_create_answer_is_found_again_not_sent_twice(zoom_config, owner, mocked):
    mocked.post(CREATE_URL, body=requests.ReadTimeout("answer lost"))
    meeting = put(owner)
    assert run(meeting) == ["retry"]
    row = fresh(meeting)
    assert row.maybe_created and not row.remote_id
    assert row.marker not in mocked.calls[0].request.body.decode()

    listed = {
        "id": 85746065432,
        "type": 2,
        "topic": row.topic,
        "agenda": "Bring a hard hat.",
        "start_time": "2026-12-03T09:00:00Z",
        "duration": 90,
        "timezone": "Europe/London",
        "created_at": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "join_url": "https://zoom.us/j/85746065432",
    }
    mocked.get(CREATE_URL, json={"page_size": 300, "next_page_token": "", "meetings": [listed]})
    mocked.get(MEETING_URL, json=meeting_json(agenda=listed["agenda"]))
    make_due(meeting)
    steps = run(meeting)
    assert steps[0] == "find (adopted)"
    assert len([c for c in mocked.calls if c.request.method == "POST"]) == 1
    row = fresh(meeting)
    assert (row.status, row.remote_id) == (VirtualMeeting.Status.AVAILABLE, "85746065432")


def test_revoked_grant_stops_the_owners_meetings(zoom_config, owner, mocked):
    ProviderConnection.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    mocked.post(TOKEN_URL, status=400, json={"reason": "Invalid Token!", "error": "invalid_grant"})
    meeting = put(owner)
    run(meeting)
    assert [call.request.url for call in mocked.calls] == [TOKEN_URL]  # no create was tried
    connection = ProviderConnection.objects.get(user=owner, provider="zoom")
    assert connection.status == ProviderConnection.Status.REVOKED
    assert (connection.access_token, connection.refresh_token) == ("", "")
    assert fresh(meeting).status == VirtualMeeting.Status.FAILED
    assert "connect" in fresh(meeting).last_error.lower()


def test_remove_deletes_in_zoom_and_already_gone_counts(zoom_config, owner, mocked):
    mocked.post(CREATE_URL, status=201, json=meeting_json())
    meeting = put(owner)
    run(meeting)
    delete = mocked.delete(
        MEETING_URL, status=404, json={"code": 3001, "message": "Meeting does not exist: 85746065432."}
    )
    meeting_remove(reference=meeting.reference)
    assert run(meeting) == ["delete"]
    assert delete.call_count == 1
    assert delete.calls[0].request.url.endswith("?schedule_for_reminder=false")
    assert fresh(meeting).status == VirtualMeeting.Status.DELETED


def test_private_app_refusal_fails_with_the_guides_explanation(zoom_config, owner, mocked):
    mocked.post(CREATE_URL, status=400, json={"code": 1010, "message": "User does not belong to this account: x."})
    meeting = put(owner)
    assert run(meeting) == ["failed"]
    assert "This Zoom app is private to another Zoom account" in fresh(meeting).last_error


def test_upgrade_check_puts_the_details_back_where_an_agenda_still_carries_a_marker(zoom_config, owner):
    import responses
    from django.core.management import call_command

    with responses.RequestsMock(assert_all_requests_are_fired=True) as zoom:
        zoom.post(CREATE_URL, status=201, json=meeting_json())
        old = put(owner)
        run(old)
        clean = put(owner, reference="seminars.event:1:session:2:room:1")
        zoom.replace("POST", CREATE_URL, status=201, json=meeting_json(meeting_id=85746065433))
        run(clean)

    marker = fresh(old).marker
    with responses.RequestsMock(assert_all_requests_are_fired=True) as zoom:
        # A meeting made by an earlier version: Zoom holds the marker at the end of its agenda.
        zoom.get(
            MEETING_URL,
            json=meeting_json(
                agenda=f"Bring a hard hat.\n\n{marker}", start_time="2026-12-03T09:00:00Z", duration=90, topic=old.topic
            ),
        )
        zoom.get(
            f"{API}/meetings/85746065433",
            json=meeting_json(
                meeting_id=85746065433,
                agenda="Bring a hard hat.",
                start_time="2026-12-03T09:00:00Z",
                duration=90,
                topic=clean.topic,
            ),
        )
        patch = zoom.patch(MEETING_URL, status=204)
        call_command("virtualmeeting_zoom_check_agendas", stdout=io.StringIO())
        assert run(old) == ["get", "update"]
        assert run(clean) == ["get", "in sync"]

    assert json.loads(patch.calls[0].request.body)["agenda"] == "Bring a hard hat."
    assert marker not in patch.calls[0].request.body.decode()
    assert fresh(old).status == fresh(clean).status == VirtualMeeting.Status.AVAILABLE
