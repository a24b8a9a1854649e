"""Zoom's past participants and recordings, stubbed strictly with `responses` (every stub must be called),
and the reconcile poll against them: both list variants, paging, uuid encoding, "not ended yet", the
rate-limit bucket each call takes, capability scopes."""

from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine
from responses import matchers

from virtualmeeting.errors import NotReadyYet, ProviderError
from virtualmeeting.models import MeetingOccurrence, MeetingParticipant, VirtualMeeting
from virtualmeeting.participation import participant_joined, participant_left
from virtualmeeting.providers.base import ParticipantRecord
from virtualmeeting.reconcile import participants_reconcile
from virtualmeeting.selectors import meeting_recordings
from virtualmeeting_zoom.client import CREATE, LIGHT
from virtualmeeting_zoom.limits import bucket_key
from virtualmeeting_zoom.models import ZoomRateBucket
from virtualmeeting_zoom.tests.conftest import API, CLASSIC, GRANULAR, ZOOM_ACCOUNT_ID, make_connection

MEETING_ID = "85746065432"
UUID = "aDYlohsHRtCd4ii1uC2+hA=="
ENCODED_UUID = "aDYlohsHRtCd4ii1uC2%2BhA%3D%3D"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FINISH = START + timedelta(minutes=90)
PAGE = {"page_size": "300"}


@pytest.fixture
def zoom():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def participants_url(segment: str) -> str:
    return f"{API}/past_meetings/{segment}/participants"


def current_variant(**overrides):
    """One participant as Zoom's current docs list it (times, registrant id, status)."""
    item = {
        "id": "30R7kT7bTIKSNUFEuH_Qlg",
        "name": "Ann Learner",
        "user_id": "16778240",
        "registrant_id": "reg-ann",
        "user_email": "ann@example.com",
        "join_time": "2026-12-01T09:02:00Z",
        "leave_time": "2026-12-01T09:40:00Z",
        "duration": 2280,
        "failover": False,
        "status": "in_meeting",
    }
    item.update(overrides)
    return item


def page(participants, token=""):
    return {
        "page_count": 1,
        "page_size": 300,
        "total_records": len(participants),
        "next_page_token": token,
        "participants": participants,
    }


# --- past participants ---------------------------------------------------------------------------------
def test_past_participants_read_every_page_of_the_current_variant(provider, connection, zoom):
    zoom.get(
        participants_url(ENCODED_UUID),
        json=page([current_variant(), current_variant(user_id="16779264", status="in_waiting_room")], token="tok2"),
        match=[matchers.query_param_matcher(PAGE)],
    )
    second = current_variant(
        id="", user_id="16780288", name="Bob", registrant_id="", user_email="", join_time="2026-12-01T09:05:00Z"
    )
    zoom.get(
        participants_url(ENCODED_UUID),
        json=page([second]),
        match=[matchers.query_param_matcher({**PAGE, "next_page_token": "tok2"})],
    )

    listed = provider.past_participants(connection=connection, remote_id=MEETING_ID, occurrence=UUID)

    assert listed == [
        ParticipantRecord(
            "16778240",
            "Ann Learner",
            "ann@example.com",
            "reg-ann",
            datetime(2026, 12, 1, 9, 2, tzinfo=UTC),
            datetime(2026, 12, 1, 9, 40, tzinfo=UTC),
            account_id="30R7kT7bTIKSNUFEuH_Qlg",  # signed in to Zoom: her Zoom user id
        ),
        ParticipantRecord(
            "16780288", "Bob", "", "", datetime(2026, 12, 1, 9, 5, tzinfo=UTC), datetime(2026, 12, 1, 9, 40, tzinfo=UTC)
        ),
    ]  # the one left in the waiting room never took part


def test_the_openapi_variant_without_times_is_presence(provider, connection, zoom):
    # OpenAPI 2.0.0: id (blank for someone not signed in to Zoom), name, user_email; nothing else.
    zoom.get(
        participants_url(ENCODED_UUID),
        json=page(
            [
                {"id": "30R7kT7bTIKSNUFEuH_Qlg", "name": "Ann Learner", "user_email": "ann@example.com"},
                {"id": "", "name": "Guest Carl", "user_email": ""},
            ]
        ),
    )
    listed = provider.past_participants(connection=connection, remote_id=MEETING_ID, occurrence=UUID)
    assert [(p.participant_key, p.name, p.email, p.account_id, p.joined_at, p.left_at) for p in listed] == [
        ("30R7kT7bTIKSNUFEuH_Qlg", "Ann Learner", "ann@example.com", "30R7kT7bTIKSNUFEuH_Qlg", None, None),
        ("name:guest carl|", "Guest Carl", "", "", None, None),
    ]


@pytest.mark.parametrize(
    "occurrence, segment",
    [
        (UUID, ENCODED_UUID),
        ("/ajXp112QmuoKj4854875==", "%252FajXp112QmuoKj4854875%253D%253D"),  # begins with "/": encoded twice
        ("Xy//Z9kmQ1uC2+hA==", "Xy%252F%252FZ9kmQ1uC2%252BhA%253D%253D"),  # contains "//": encoded twice
        ("", MEETING_ID),  # the latest occurrence: the meeting id
    ],
)
def test_the_occurrence_is_encoded_as_zoom_asks(provider, connection, zoom, occurrence, segment):
    zoom.get(participants_url(segment), json=page([current_variant()]), match=[matchers.query_param_matcher(PAGE)])
    assert len(provider.past_participants(connection=connection, remote_id=MEETING_ID, occurrence=occurrence)) == 1


def test_a_meeting_not_ended_or_not_processed_yet_is_not_ready(provider, connection, zoom):
    zoom.get(
        participants_url(ENCODED_UUID), status=404, json={"code": 3001, "message": "Meeting ID is invalid or not end."}
    )
    with pytest.raises(NotReadyYet) as excinfo:
        provider.past_participants(connection=connection, remote_id=MEETING_ID, occurrence=UUID)
    assert "minutes after it ends" in excinfo.value.message


def test_a_free_account_is_refused_for_good(provider, connection, zoom):
    zoom.get(
        participants_url(ENCODED_UUID),
        status=400,
        json={"code": 200, "message": "Only available for paid account: Q4NYNnaSQAuNPy3wi4p3Mw"},
    )
    with pytest.raises(ProviderError) as excinfo:
        provider.past_participants(connection=connection, remote_id=MEETING_ID, occurrence=UUID)
    assert excinfo.value.permanent and "paid account" in excinfo.value.message


def test_past_participants_take_the_medium_bucket_and_recordings_the_light_one(provider, connection, zoom, settings):
    settings.REDIS_URL = ""  # the database bucket, which this test can read
    zoom.get(participants_url(ENCODED_UUID), json=page([current_variant()]))
    provider.past_participants(connection=connection, remote_id=MEETING_ID, occurrence=UUID)
    assert set(ZoomRateBucket.objects.values_list("key", flat=True)) == {bucket_key(ZOOM_ACCOUNT_ID, CREATE)}

    zoom.get(f"{API}/meetings/{MEETING_ID}/recordings", json=recording_object())
    provider.recordings(connection=connection, remote_id=MEETING_ID)
    assert bucket_key(ZOOM_ACCOUNT_ID, LIGHT) in set(ZoomRateBucket.objects.values_list("key", flat=True))


# --- recordings -------------------------------------------------------------------------------------------
def recording_object(**overrides):
    data = {
        "uuid": UUID,
        "id": int(MEETING_ID),
        "account_id": ZOOM_ACCOUNT_ID,
        "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
        "topic": "Safety training: Induction",
        "type": 2,
        "start_time": "2026-12-01T09:00:00Z",
        "duration": 90,
        "total_size": 2048,
        "recording_count": 3,
        "share_url": "https://zoom.us/rec/share/Ab3x",
        "password": "Rec0rd!ng",
        "recording_play_passcode": "yNYIS408EJygs7rE5vVsJwXIz4-VW7MH",
        "recording_files": [
            {
                "id": "ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8",
                "meeting_id": UUID,
                "recording_start": "2026-12-01T09:00:10Z",
                "recording_end": "2026-12-01T10:29:50Z",
                "file_type": "MP4",
                "file_extension": "MP4",
                "file_size": 1024,
                "play_url": "https://zoom.us/rec/play/ed6c",
                "download_url": "https://zoom.us/rec/download/ed6c",
                "status": "completed",
                "recording_type": "shared_screen_with_speaker_view",
            },
            {
                "id": "a1b2",
                "meeting_id": UUID,
                "recording_start": "2026-12-01T09:00:10Z",
                "recording_end": "2026-12-01T10:29:50Z",
                "file_type": "TRANSCRIPT",
                "file_size": 10,
                "play_url": "",
                "download_url": "https://zoom.us/rec/download/a1b2",
                "status": "processing",
                "recording_type": "audio_transcript",
            },
        ],
    }
    data.update(overrides)
    return data


def test_recordings_list_the_finished_files_with_the_passcode(provider, connection, zoom):
    zoom.get(f"{API}/meetings/{MEETING_ID}/recordings", json=recording_object())
    [file] = provider.recordings(connection=connection, remote_id=MEETING_ID)
    assert (file.remote_id, file.file_type, file.recording_type) == (
        "ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8",
        "MP4",
        "shared_screen_with_speaker_view",
    )
    assert (file.play_url, file.share_url, file.passcode, file.occurrence) == (
        "https://zoom.us/rec/play/ed6c",
        "https://zoom.us/rec/share/Ab3x",
        "Rec0rd!ng",
        UUID,
    )
    assert file.recording_start == datetime(2026, 12, 1, 9, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize("auto_recording, expected", [("none", []), ("local", []), ("cloud", NotReadyYet)])
def test_no_recording_yet_is_not_ready_only_when_the_site_records_to_the_cloud(
    provider, connection, zoom, auto_recording, expected
):
    provider.config.options = {**provider.config.options, "auto_recording": auto_recording}
    zoom.get(
        f"{API}/meetings/{MEETING_ID}/recordings",
        status=404,
        json={"code": 3301, "message": "There is no recording for this meeting."},
    )
    if expected is NotReadyYet:
        with pytest.raises(NotReadyYet):
            provider.recordings(connection=connection, remote_id=MEETING_ID)
    else:
        assert provider.recordings(connection=connection, remote_id=MEETING_ID) == expected


# --- scopes ---------------------------------------------------------------------------------------------------
# The registrant scopes (personal join links; virtualmeeting_zoom/tests/test_registrants.py covers them).
REGISTRANT_SCOPES = (
    " meeting:write:registrant meeting:write:batch_registrants meeting:read:list_registrants"
    " meeting:update:registrant_status"
)


@pytest.mark.parametrize(
    "granted, missing",
    [
        (
            GRANULAR + REGISTRANT_SCOPES,
            {
                "attendance": ["meeting:read:list_past_participants"],
                "recordings": ["cloud_recording:read:list_recording_files"],
            },
        ),
        (
            GRANULAR + REGISTRANT_SCOPES + " meeting:read:list_past_participants",
            {"recordings": ["cloud_recording:read:list_recording_files"]},
        ),
        (
            GRANULAR
            + REGISTRANT_SCOPES
            + " meeting:read:list_past_participants:admin cloud_recording:read:list_recording_files:admin",
            {},
        ),
        (CLASSIC, {"recordings": ["recording:read"]}),  # classic meeting:read covers past participants
        (CLASSIC + " recording:read", {}),
    ],
)
def test_missing_capability_scopes_are_named_in_the_grants_model(provider, trainer, granted, missing):
    assert provider.missing_capability_scopes(make_connection(trainer, scopes=granted)) == missing


# --- the reconcile poll against Zoom -------------------------------------------------------------------------
@pytest.fixture
def meeting(trainer, zoom_config):
    return VirtualMeeting.objects.create(
        reference="test:1",
        provider="zoom",
        owner=trainer,
        remote_owner=trainer,
        topic="Safety training: Induction",
        start=START,
        finish=FINISH,
        time_zone="Europe/London",
        remote_id=MEETING_ID,
        join_url=f"https://zoom.us/j/{MEETING_ID}",
        status=VirtualMeeting.Status.AVAILABLE,
        synced_version=1,
    )


def test_the_poll_merges_zooms_list_with_the_webhooks_without_duplicates(meeting, trainer, zoom):
    make_connection(
        trainer,
        scopes=GRANULAR + " meeting:read:list_past_participants cloud_recording:read:list_recording_files",
    )
    # The webhooks keyed Ann's device by its participant_uuid and lost her leave.
    ann = ParticipantRecord("uuid-ann", "Ann Learner", "", "reg-ann", datetime(2026, 12, 1, 9, 2, tzinfo=UTC))
    participant_joined(provider="zoom", remote_id=MEETING_ID, uuid=UUID, record=ann)
    bob = ParticipantRecord(
        "uuid-bob", "Bob", "", "", datetime(2026, 12, 1, 9, 5, tzinfo=UTC), datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    )
    participant_left(provider="zoom", remote_id=MEETING_ID, uuid=UUID, record=bob)
    zoom.get(
        participants_url(ENCODED_UUID),
        json=page(
            [
                current_variant(),
                current_variant(
                    user_id="16779264",
                    name="Bob",
                    registrant_id="",
                    user_email="",
                    join_time="2026-12-01T09:05:01Z",
                    leave_time="2026-12-01T09:30:00Z",
                ),
            ]
        ),
    )
    zoom.get(f"{API}/meetings/{MEETING_ID}/recordings", json=recording_object())

    with time_machine.travel(FINISH + timedelta(minutes=5), tick=False):
        assert participants_reconcile(meeting.pk) == ["done"]

    rows = MeetingParticipant.objects.order_by("joined_at")
    assert [(r.participant_key, r.left_at, r.source) for r in rows] == [
        ("uuid-ann", datetime(2026, 12, 1, 9, 40, tzinfo=UTC), "webhook"),  # the lost leave, from the poll
        ("uuid-bob", datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "webhook"),
    ]
    occurrence = MeetingOccurrence.objects.get()
    assert occurrence.participants_done_at is not None and occurrence.recordings_done_at is not None
    assert [r.file_type for r in meeting_recordings(["test:1"])["test:1"]] == ["MP4"]


def test_a_connection_without_the_attendance_scope_is_not_asked(meeting, connection, zoom):
    MeetingOccurrence.objects.create(meeting=meeting, provider="zoom", uuid=UUID, next_poll_at=FINISH)
    with time_machine.travel(FINISH + timedelta(minutes=5), tick=False):
        assert participants_reconcile(meeting.pk) == ["not ready"]
    assert len(zoom.calls) == 0
