"""Participant, meeting start/end and recording events through the signed webhook endpoint, end to end:
stored once however often Zoom delivers them, in whatever order."""

from datetime import datetime, timedelta

import pytest
from django.db.models import F

from virtualmeeting.models import MeetingOccurrence, MeetingParticipant, MeetingRecording
from virtualmeeting.selectors import meeting_participants, meeting_recordings
from virtualmeeting_zoom.tasks import HANDLED_EVENTS
from virtualmeeting_zoom.tests.conftest import ZOOM_USER_ID, make_connection
from virtualmeeting_zoom.tests.test_webhook import MEETING_ID, START, meeting, meeting_event, post  # noqa: F401

UUID = "aDYlohsHRtCd4ii1uC2+hA=="


EVENT_TS = int((START + timedelta(minutes=100)).timestamp() * 1000)  # Zoom's event_ts: ms since the epoch


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def participant(device="pAbC1dEf2GhI3jKl4MnO5p==", join=2, leave=None, **extra):
    data = {
        "user_id": "16778240",
        "user_name": "Ann Learner",
        "id": "",
        "participant_uuid": device,
        "email": "",
        "registrant_id": "reg-ann",
        "join_time": at(join),
        "participant_user_id": "",
    }
    if leave is not None:
        data.update(leave_time=at(leave), leave_reason="left the meeting. Reason : left the meeting")
    data.update(extra)
    return data


def participant_event(name, person, *, uuid=UUID, meeting_id=MEETING_ID):
    event = meeting_event(name, topic="Safety training", type=2, start_time=at(0), duration=90, participant=person)
    event["payload"]["object"].update(uuid=uuid, id=meeting_id)
    return event


def intervals():
    rows = MeetingParticipant.objects.order_by(F("joined_at").asc(nulls_last=True), "pk")
    return [(r.participant_key, r.registrant_id, r.joined_at, r.left_at) for r in rows]


def test_the_participation_and_recording_events_are_handled():
    assert {
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
        "recording.completed",
        "recording.trashed",
        "recording.deleted",
        "recording.recovered",
    } <= HANDLED_EVENTS


def test_join_and_leave_delivered_twice_are_one_interval(client, meeting):  # noqa: F811
    for _ in range(2):
        assert post(client, participant_event("meeting.participant_joined", participant())).status_code == 204
        assert post(client, participant_event("meeting.participant_left", participant(leave=40))).status_code == 204
    assert intervals() == [("pAbC1dEf2GhI3jKl4MnO5p==", "reg-ann", moment(2), moment(40))]
    row = MeetingParticipant.objects.get()
    assert (row.name, row.occurrence.uuid, row.source) == ("Ann Learner", UUID, "webhook")
    assert row.leave_reason.startswith("left the meeting")


def test_a_leave_delivered_before_its_join(client, meeting):  # noqa: F811
    post(client, participant_event("meeting.participant_left", participant(leave=40)))
    post(client, participant_event("meeting.participant_joined", participant()))
    assert intervals() == [("pAbC1dEf2GhI3jKl4MnO5p==", "reg-ann", moment(2), moment(40))]


def test_a_rejoin_and_a_second_device(client, meeting):  # noqa: F811
    post(client, participant_event("meeting.participant_joined", participant()))
    post(client, participant_event("meeting.participant_left", participant(leave=40)))
    post(client, participant_event("meeting.participant_joined", participant(join=45)))
    post(client, participant_event("meeting.participant_joined", participant(device="phone-uuid==", join=46)))
    assert intervals() == [
        ("pAbC1dEf2GhI3jKl4MnO5p==", "reg-ann", moment(2), moment(40)),
        ("pAbC1dEf2GhI3jKl4MnO5p==", "reg-ann", moment(45), None),
        ("phone-uuid==", "reg-ann", moment(46), None),
    ]


def test_without_a_participant_uuid_the_key_is_the_user_id(client, meeting):  # noqa: F811
    post(client, participant_event("meeting.participant_joined", participant(participant_uuid="", registrant_id="")))
    assert intervals() == [("16778240", "", moment(2), None)]


def test_the_host_signed_in_to_zoom_is_told_from_the_learners(client, meeting):  # noqa: F811
    # The host's own Zoom account: their user id is the connection's (and the meeting's host_id).
    make_connection(meeting.owner)
    host = participant(
        device="host-uuid==",
        user_name="Tom Trainer",
        registrant_id="",
        id=ZOOM_USER_ID,
        participant_user_id=ZOOM_USER_ID,
    )
    post(client, participant_event("meeting.participant_joined", host))
    post(client, participant_event("meeting.participant_joined", participant(join=3)))
    rows = meeting_participants([meeting.reference])[meeting.reference]
    assert [(row.name, row.account_id, row.is_host) for row in rows] == [
        ("Tom Trainer", ZOOM_USER_ID, True),
        ("Ann Learner", "", False),
    ]


def test_start_and_end_make_the_occurrence_and_plan_its_poll(client, meeting):  # noqa: F811
    started = meeting_event("meeting.started", start_time=at(1))
    ended = meeting_event("meeting.ended", start_time=at(1), end_time=at(95))
    for event in (started, ended, started, ended):
        assert post(client, event).status_code == 204
    occurrence = MeetingOccurrence.objects.get()
    assert (occurrence.uuid, occurrence.started_at, occurrence.ended_at) == (UUID, moment(1), moment(95))
    assert occurrence.next_poll_at == moment(100)


def test_events_about_meetings_of_other_apps_are_ignored(client, meeting):  # noqa: F811
    assert (
        post(client, participant_event("meeting.participant_joined", participant(), meeting_id=99999999999)).status_code
        == 204
    )
    other = meeting_event("recording.completed", recording_files=[recording_file()])
    other["payload"]["object"]["id"] = 99999999999
    assert post(client, other).status_code == 204
    assert not MeetingParticipant.objects.exists() and not MeetingRecording.objects.exists()


# --- recordings ----------------------------------------------------------------------------------------
def recording_file(file_id="ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8", **extra):
    data = {
        "id": file_id,
        "meeting_id": UUID,
        "recording_start": at(0),
        "recording_end": at(89),
        "file_type": "MP4",
        "file_size": 1024,
        "play_url": f"https://zoom.us/rec/play/{file_id}",
        "download_url": f"https://zoom.us/rec/download/{file_id}",
        "status": "completed",
        "recording_type": "shared_screen_with_speaker_view",
    }
    data.update(extra)
    return data


def recording_event(name, *, ts, files=None, **fields):
    event = meeting_event(
        name,
        topic="Safety training",
        start_time=at(0),
        share_url="https://zoom.us/rec/share/Ab3x",
        password="Rec0rd!ng",
        recording_files=files if files is not None else [recording_file()],
        **fields,
    )
    event["event_ts"] = ts
    if name == "recording.completed":
        event["download_token"] = "a-download-token-valid-24-hours"
    return event


def available():
    return [r.remote_id for r in meeting_recordings(["test:1"])["test:1"]]


def test_a_completed_recording_is_stored_once_with_its_passcode(client, meeting):  # noqa: F811
    for _ in range(2):
        assert post(client, recording_event("recording.completed", ts=EVENT_TS)).status_code == 204
    row = MeetingRecording.objects.get()
    assert (row.file_type, row.play_url, row.passcode, row.occurrence) == (
        "MP4",
        "https://zoom.us/rec/play/ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8",
        "Rec0rd!ng",
        UUID,
    )
    assert "a-download-token" not in repr(MeetingRecording.objects.values())


def test_trashed_recovered_and_deleted_in_event_order_whatever_the_delivery_order(client, meeting):  # noqa: F811
    post(client, recording_event("recording.completed", ts=EVENT_TS))
    post(client, recording_event("recording.trashed", ts=EVENT_TS + 60_000))
    assert available() == []
    post(client, recording_event("recording.recovered", ts=EVENT_TS + 120_000))
    post(client, recording_event("recording.trashed", ts=EVENT_TS + 60_000))  # Zoom's late retry of the old trash
    post(client, recording_event("recording.completed", ts=EVENT_TS))  # and of the completion
    assert available() == ["ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8"]
    post(client, recording_event("recording.deleted", ts=EVENT_TS + 180_000))
    post(client, recording_event("recording.recovered", ts=EVENT_TS + 240_000))  # deleted for good stays deleted
    assert MeetingRecording.objects.get().status == MeetingRecording.Status.DELETED


def test_a_recovered_recording_whose_completion_was_lost_is_stored(client, meeting):  # noqa: F811
    post(client, recording_event("recording.recovered", ts=EVENT_TS))
    assert available() == ["ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8"]


@pytest.mark.parametrize("event_ts", [None, "soon", 10**30])
def test_an_unreadable_event_time_is_no_error(client, meeting, event_ts):  # noqa: F811
    assert post(client, recording_event("recording.completed", ts=event_ts)).status_code == 204
    assert MeetingRecording.objects.count() == 1
