"""The webhook endpoint: url validation, signatures (valid, tampered, stale), and what each event does."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting_zoom.tests.conftest import WEBHOOK_SECRET, ZOOM_ACCOUNT_ID, ZOOM_USER_ID

URL = "/integrations/virtualmeeting/zoom/webhook"
MEETING_ID = 85746065432
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def signed_headers(body: bytes, *, secret=WEBHOOK_SECRET, timestamp=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_ZM_REQUEST_TIMESTAMP": timestamp, "HTTP_X_ZM_SIGNATURE": f"v0={digest}"}


def post(client, event: dict, **sign):
    body = json.dumps(event, separators=(",", ":")).encode()
    return client.post(URL, data=body, content_type="application/json", **signed_headers(body, **sign))


def meeting_event(name, **fields):
    return {
        "event": name,
        "event_ts": 1764320000000,
        "payload": {
            "account_id": ZOOM_ACCOUNT_ID,
            "operator": "tom@example.com",
            "operator_id": ZOOM_USER_ID,
            "object": {"id": MEETING_ID, "uuid": "aDYlohsHRtCd4ii1uC2+hA==", "host_id": ZOOM_USER_ID, **fields},
        },
    }


@pytest.fixture
def meeting(trainer, zoom_config):
    return VirtualMeeting.objects.create(
        reference="test:1",
        provider="zoom",
        owner=trainer,
        topic="Safety training: Induction (session 1 of 1)",
        start=START,
        finish=START + timedelta(minutes=90),
        time_zone="Europe/London",
        remote_id=str(MEETING_ID),
        join_url=f"https://zoom.us/j/{MEETING_ID}",
        status=VirtualMeeting.Status.AVAILABLE,
        synced_version=1,
    )


def test_url_is_named():
    assert reverse("virtualmeeting_zoom:webhook") == URL


def test_url_validation(client, zoom_config):
    response = post(client, {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
    assert response.status_code == 200
    expected = hmac.new(WEBHOOK_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert response.json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_url_validation_must_be_signed_too(client, zoom_config):
    # Unsigned, the endpoint would sign any text an attacker chose with our secret.
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "v0:1:{}"}}).encode()
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 401


def test_tampered_body_is_refused(client, meeting):
    body = json.dumps(meeting_event("meeting.deleted")).encode()
    headers = signed_headers(body)
    tampered = body.replace(str(MEETING_ID).encode(), b"11111111111")
    response = client.post(URL, data=tampered, content_type="application/json", **headers)
    assert response.status_code == 401
    assert VirtualMeeting.objects.get(pk=meeting.pk).remote_id == str(MEETING_ID)


def test_wrong_secret_is_refused(client, meeting):
    assert post(client, meeting_event("meeting.deleted"), secret="not-the-secret").status_code == 401


def test_stale_timestamp_is_refused(client, meeting):
    response = post(client, meeting_event("meeting.deleted"), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert VirtualMeeting.objects.get(pk=meeting.pk).remote_id == str(MEETING_ID)


def test_timestamp_within_five_minutes_is_accepted(client, meeting):
    assert post(client, meeting_event("meeting.started"), timestamp=int(time.time()) - 290).status_code == 204


def test_no_secret_configured(client, zoom_config):
    zoom_config.webhook_secret = ""
    zoom_config.save()
    assert post(client, meeting_event("meeting.deleted")).status_code == 404


def test_get_is_not_allowed(client, zoom_config):
    assert client.get(URL).status_code == 405


def test_signed_garbage_is_a_400_not_a_500(client, zoom_config):
    body = b"not json"
    assert client.post(URL, data=body, content_type="application/json", **signed_headers(body)).status_code == 400


def test_meeting_deleted_in_zoom_marks_ours_for_re_creation(client, meeting):
    assert post(client, meeting_event("meeting.deleted")).status_code == 204
    meeting.refresh_from_db()
    assert meeting.remote_id == ""
    assert meeting.remote_gone_at is not None


def test_meeting_moved_in_zoom_is_marked_for_repair(client, meeting):
    event = meeting_event("meeting.updated", start_time="2026-12-01T11:00:00Z", timezone="Europe/London")
    assert post(client, event).status_code == 204
    assert VirtualMeeting.objects.get(pk=meeting.pk).check_remote is True


def test_meeting_moved_in_zoom_in_local_time_is_marked_for_repair(client, meeting):
    event = meeting_event("meeting.updated", start_time="2026-12-01T09:00:00", timezone="Europe/London")  # 09:00 UTC
    post(client, event)
    assert VirtualMeeting.objects.get(pk=meeting.pk).check_remote is False
    post(client, meeting_event("meeting.updated", start_time="2026-12-01T10:00:00", timezone="Europe/London"))
    assert VirtualMeeting.objects.get(pk=meeting.pk).check_remote is True


@pytest.mark.parametrize(
    "fields",
    [
        {"duration": 30},
        {"topic": "Renamed by hand"},
        {"agenda": "Rewritten by hand"},
        {"timezone": "America/New_York"},
    ],
)
def test_other_hand_edits_are_marked_for_repair(client, meeting, fields):
    post(client, meeting_event("meeting.updated", **fields))
    assert VirtualMeeting.objects.get(pk=meeting.pk).check_remote is True


def test_echo_of_our_own_update_is_ignored(client, meeting):
    VirtualMeeting.objects.filter(pk=meeting.pk).update(agenda="Details\n")
    event = meeting_event(
        "meeting.updated",
        start_time="2026-12-01T09:00:00Z",
        duration=90,
        topic="Safety training: Induction (session 1 of 1)",
        agenda="Details",  # what we sent: the details alone, no marker
    )
    assert post(client, event).status_code == 204
    assert VirtualMeeting.objects.get(pk=meeting.pk).check_remote is False


def test_events_about_unknown_meetings_are_ignored(client, meeting):
    event = meeting_event("meeting.deleted")
    event["payload"]["object"]["id"] = 12345678901
    assert post(client, event).status_code == 204
    assert VirtualMeeting.objects.get(pk=meeting.pk).remote_id == str(MEETING_ID)


def test_app_deauthorized_removes_the_users_tokens(client, zoom_config, connection):
    event = {
        "event": "app_deauthorized",
        "event_ts": 1764320000000,
        "payload": {
            "account_id": ZOOM_ACCOUNT_ID,
            "user_id": ZOOM_USER_ID,
            "signature": "827edc3452044f0bc86bdd5684afb7d1e6becfa1a767f24df1b287853cf73000",
            "deauthorization_time": "2026-11-28T10:00:00.000Z",
            "client_id": "zoomClientId123",
            "user_data_retention": "false",
        },
    }
    assert post(client, event).status_code == 204
    row = ProviderConnection.objects.get(pk=connection.pk)
    assert row.status == ProviderConnection.Status.REVOKED
    assert (row.access_token, row.refresh_token) == ("", "")


def test_broker_outage_asks_zoom_to_deliver_again(client, meeting, monkeypatch):
    from virtualmeeting_zoom import views

    def broker_down(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr(views.zoom_webhook_event, "delay", broker_down)
    assert post(client, meeting_event("meeting.deleted")).status_code == 503
