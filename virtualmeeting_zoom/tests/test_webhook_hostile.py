"""Hostile webhook requests are answered with a 4xx, never a 500 (issue 8, section 4)."""

import json

import pytest

from virtualmeeting_zoom import webhooks
from virtualmeeting_zoom.tests.conftest import WEBHOOK_SECRET
from virtualmeeting_zoom.tests.test_webhook import URL, meeting, meeting_event, post, signed_headers  # noqa: F401


@pytest.mark.parametrize("timestamp", ["9" * 400, "1" * 13, "²³", "-1", "1e9", " 1700000000", ""])
def test_a_malformed_timestamp_is_refused_before_the_signature_is_checked(client, zoom_config, timestamp):
    body = b'{"event": "meeting.deleted", "payload": {}}'
    headers = {**signed_headers(body), "HTTP_X_ZM_REQUEST_TIMESTAMP": timestamp}
    response = client.post(URL, data=body, content_type="application/json", **headers)
    assert response.status_code == 401


def test_a_non_ascii_signature_is_refused(client, zoom_config):
    body = b"{}"
    headers = {**signed_headers(body), "HTTP_X_ZM_SIGNATURE": "v0=\u00e9\u00e9"}
    assert client.post(URL, data=body, content_type="application/json", **headers).status_code == 401


@pytest.mark.parametrize(
    "body",
    [b"[" * 100000 + b"]" * 100000, b'{"a":' * 50000 + b"1" + b"}" * 50000, b"\xff\xfe", b"[1, 2]", b"1e999999"],
)
def test_a_signed_body_that_is_no_event_is_a_400(client, zoom_config, body):
    response = client.post(URL, data=body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 400


def test_a_well_formed_signed_request_still_verifies():
    body = json.dumps({"event": "x"}).encode()
    headers = signed_headers(body)
    assert webhooks.verify(
        secret=WEBHOOK_SECRET,
        timestamp=headers["HTTP_X_ZM_REQUEST_TIMESTAMP"],
        signature=headers["HTTP_X_ZM_SIGNATURE"],
        body=body,
    )


@pytest.mark.parametrize("name", [[], {}, ["meeting.deleted"], 1, None])
def test_a_signed_event_whose_name_is_not_text_is_a_400(client, zoom_config, name):
    """Found by the fuzz suite: a list as the event name failed the `in` test (TypeError, a 500)."""
    body = json.dumps({"event": name, "payload": {}}).encode()
    response = client.post(URL, data=body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 400


@pytest.mark.parametrize("token", ["\ud800", "abc\udfff", ""])
def test_a_url_validation_with_a_token_that_cannot_be_signed_is_a_400(client, zoom_config, token):
    """Found by the fuzz suite: JSON's "\\ud800" is a lone surrogate, which has no UTF-8 bytes to sign."""
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": token}}).encode()
    response = client.post(URL, data=body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 400


# --- What a signed event's fields may hold (found by the fuzz suite: each was a database error or a
# TypeError in the task, which a worker retries for nothing and the eager test run answers 503) ---


def _participant_event(**fields):
    from virtualmeeting_zoom.tests.test_webhook_participation import participant, participant_event

    return participant_event("meeting.participant_joined", participant(**fields))


def test_a_participant_with_nul_and_lone_surrogates_is_stored_readable(client, meeting):  # noqa: F811
    from virtualmeeting.models import MeetingParticipant

    event = _participant_event(user_name="Ann\x00 Learner\ud800", leave_reason="x\x00")
    assert post(client, event).status_code == 204
    row = MeetingParticipant.objects.get()
    assert row.name == "Ann Learner?"


@pytest.mark.parametrize("uuid", ["a" * 256, "occ\x00", "occ\ud800", ["occ"], {"a": 1}])
def test_an_occurrence_id_no_zoom_meeting_has_is_ignored(client, meeting, uuid):  # noqa: F811
    from virtualmeeting.models import MeetingOccurrence, MeetingParticipant

    event = _participant_event()
    event["payload"]["object"]["uuid"] = uuid
    assert post(client, event).status_code == 204
    assert not MeetingOccurrence.objects.exists() and not MeetingParticipant.objects.exists()


@pytest.mark.parametrize("meeting_id", ["857\x00", "a" * 300, 1.5, True, [1]])
def test_a_meeting_id_no_zoom_meeting_has_is_ignored(client, meeting, meeting_id):  # noqa: F811
    event = meeting_event("meeting.deleted")
    event["payload"]["object"]["id"] = meeting_id
    assert post(client, event).status_code == 204
    meeting.refresh_from_db()
    assert meeting.present


@pytest.mark.parametrize("files", [5, "file-1", {"id": "file-1"}, None])
def test_recording_files_that_are_not_a_list_store_nothing(client, meeting, files):  # noqa: F811
    from virtualmeeting.models import MeetingRecording

    event = meeting_event("recording.completed", uuid="occ-1", share_url="https://zoom.us/rec/share/x")
    event["payload"]["object"]["recording_files"] = files
    assert post(client, event).status_code == 204
    assert not MeetingRecording.objects.exists()


def test_app_deauthorized_with_a_nul_in_the_user_id_changes_nothing(client, zoom_config, connection):
    from virtualmeeting.models import ProviderConnection

    body = json.dumps({"event": "app_deauthorized", "payload": {"user_id": "KDcu\x00"}}).encode()
    assert client.post(URL, data=body, content_type="application/json", **signed_headers(body)).status_code == 204
    assert ProviderConnection.objects.get().is_usable
