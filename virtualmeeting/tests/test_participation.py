"""Participation and recordings: webhook events stored idempotently, the reconcile poll merged without
duplicates, its backoff while the provider has no data, and events about unknown meetings ignored."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import connection as db_connection
from django.db.models import F

from virtualmeeting import signals
from virtualmeeting.models import (
    MeetingOccurrence,
    MeetingParticipant,
    MeetingRecording,
    ProviderConnection,
    VirtualMeeting,
)
from virtualmeeting.participation import (
    occurrence_record,
    participant_joined,
    participant_left,
    participants_merge,
    recording_status,
    recordings_record,
)
from virtualmeeting.providers.base import ParticipantRecord, RecordingRecord
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.reconcile import participants_reconcile, participants_sweep
from virtualmeeting.selectors import capabilities_missing, meeting_occurrences, meeting_participants, meeting_recordings
from virtualmeeting.sync import claim
from virtualmeeting.tests.conftest import START, make_user
from virtualmeeting.tests.helpers import fresh, put, run

FINISH = START + timedelta(minutes=60)
UUID = "aDYlohsHRtCd4ii1uC2+hA=="
MINUTE = timedelta(minutes=1)


def at(minutes: float):
    return START + timedelta(minutes=minutes)


def joined(key="dev-ann-1", minutes=2, name="Ann Learner", **extra):
    return ParticipantRecord(participant_key=key, name=name, joined_at=at(minutes), **extra)


def left(key="dev-ann-1", join=2, leave=40, name="Ann Learner", **extra):
    joined_at = at(join) if join is not None else None
    return ParticipantRecord(participant_key=key, name=name, joined_at=joined_at, left_at=at(leave), **extra)


@pytest.fixture(autouse=True)
def at_the_finish():
    """The test runs when the session finishes (the test provider's "remote" keeps its data for days)."""
    with time_machine.travel(FINISH, tick=False):
        yield


@pytest.fixture
def meeting(owner):
    with time_machine.travel(START - timedelta(days=3), tick=False):
        made = put(owner)
        assert run(made) == ["create"]
    return fresh(made)


@pytest.fixture
def heard():
    """participation_updated and recordings_updated as they are sent (after commit)."""
    log = []

    def participation(sender, meeting, occurrence, **kwargs):
        log.append(("participation_updated", meeting.pk, occurrence.uuid))

    def recordings(sender, meeting, **kwargs):
        log.append(("recordings_updated", meeting.pk))

    signals.participation_updated.connect(participation)
    signals.recordings_updated.connect(recordings)
    yield log
    signals.participation_updated.disconnect(participation)
    signals.recordings_updated.disconnect(recordings)


def intervals(meeting):
    return [
        (row.participant_key, row.joined_at, row.left_at, row.source)
        for row in MeetingParticipant.objects.filter(occurrence__meeting=meeting).order_by(
            F("joined_at").asc(nulls_last=True), "pk"
        )
    ]


def event(kind, meeting, record, uuid=UUID):
    call = {"joined": participant_joined, "left": participant_left}[kind]
    return call(provider="test", remote_id=meeting.remote_id, uuid=uuid, record=record)


# --- webhook events ---------------------------------------------------------------------------------
def test_the_same_join_delivered_twice_is_one_open_interval(meeting):
    event("joined", meeting, joined())
    event("joined", meeting, joined())
    assert intervals(meeting) == [("dev-ann-1", at(2), None, "webhook")]


def test_join_then_leave_delivered_twice_is_one_closed_interval(meeting):
    for _ in range(2):
        event("joined", meeting, joined())
        event("left", meeting, left())
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "webhook")]


def test_a_leave_before_its_join_stores_the_closed_interval_and_the_late_join_changes_nothing(meeting):
    event("left", meeting, left())
    event("joined", meeting, joined())
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "webhook")]


def test_a_leave_without_its_join_time_waits_for_the_join(meeting):
    event("left", meeting, left(join=None))
    assert intervals(meeting) == [("dev-ann-1", None, at(40), "webhook")]
    event("joined", meeting, joined())
    event("left", meeting, left(join=None))  # redelivered
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "webhook")]


def test_a_leave_without_its_join_time_closes_the_open_interval(meeting):
    event("joined", meeting, joined())
    event("left", meeting, left(join=None, leave_reason="left the meeting"))
    event("left", meeting, left(join=None))  # redelivered
    row = MeetingParticipant.objects.get()
    assert (row.joined_at, row.left_at, row.leave_reason) == (at(2), at(40), "left the meeting")


def test_a_leave_whose_join_time_is_a_second_off_closes_the_open_interval(meeting):
    event("joined", meeting, joined())
    event(
        "left",
        meeting,
        ParticipantRecord("dev-ann-1", "Ann Learner", joined_at=at(2) + timedelta(seconds=1), left_at=at(40)),
    )
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "webhook")]


def test_a_rejoin_is_a_second_interval(meeting):
    event("joined", meeting, joined())
    event("left", meeting, left())
    event("joined", meeting, joined(minutes=45))
    event("left", meeting, left(join=45, leave=58))
    assert intervals(meeting) == [
        ("dev-ann-1", at(2), at(40), "webhook"),
        ("dev-ann-1", at(45), at(58), "webhook"),
    ]


def test_two_devices_are_two_participants(meeting):
    event("joined", meeting, joined(key="laptop", registrant_id="reg-ann"))
    event("joined", meeting, joined(key="phone", minutes=3, registrant_id="reg-ann"))
    event("left", meeting, left(key="phone", join=3, leave=20))
    assert intervals(meeting) == [("laptop", at(2), None, "webhook"), ("phone", at(3), at(20), "webhook")]


def test_events_of_one_occurrence_share_it_and_tell_the_owning_app_after_commit(
    meeting, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        started = occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, started_at=at(1))
        event("joined", meeting, joined())
        event("joined", meeting, joined())  # nothing new: nothing sent
    assert MeetingOccurrence.objects.get() == started
    assert heard == [("participation_updated", meeting.pk, UUID)] * 2


def test_start_and_end_keep_the_first_told_and_the_first_poll_follows_the_real_end(meeting):
    occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, started_at=at(1))
    occurrence = MeetingOccurrence.objects.get()
    assert occurrence.next_poll_at == FINISH + 5 * MINUTE  # the end is not known yet: the scheduled finish
    occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, ended_at=at(75))
    occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, started_at=at(9), ended_at=at(99))
    occurrence.refresh_from_db()
    assert (occurrence.started_at, occurrence.ended_at) == (at(1), at(75))
    assert occurrence.next_poll_at == at(80)


def test_events_about_unknown_meetings_are_ignored_and_logged_at_info(meeting, caplog):
    caplog.set_level(logging.INFO, logger="virtualmeeting.participation")
    assert participant_joined(provider="test", remote_id="999", uuid="other", record=joined()) is None
    assert participant_left(provider="test", remote_id="999", uuid="other", record=left()) is None
    assert occurrence_record(provider="test", remote_id="999", uuid="other", started_at=at(0)) is None
    assert recordings_record(provider="test", remote_id="999", records=[recording()]) == 0
    assert recording_status(provider="test", remote_id="999", uuid="other", status="trashed") == 0
    assert not MeetingOccurrence.objects.exists() and not MeetingRecording.objects.exists()
    assert {r.levelno for r in caplog.records} == {logging.INFO}
    assert "999" in caplog.text


def test_late_events_of_a_known_occurrence_still_land_after_the_meeting_was_deleted(meeting):
    event("joined", meeting, joined())
    VirtualMeeting.objects.filter(pk=meeting.pk).update(remote_id="")
    participant_left(provider="test", remote_id="", uuid=UUID, record=left())
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "webhook")]


# --- merging a poll -----------------------------------------------------------------------------------
def test_a_poll_never_duplicates_what_the_webhooks_stored(meeting):
    # The webhooks keyed devices by participant_uuid; the poll keys them by user_id and rounds a second off.
    event("joined", meeting, joined(key="uuid-ann"))
    event("left", meeting, left(key="uuid-ann"))
    event("joined", meeting, joined(key="uuid-bob", minutes=5, name="Bob"))  # his leave was lost
    polled = [
        ParticipantRecord("16778240", "Ann Learner", joined_at=at(2) + timedelta(seconds=1), left_at=at(40)),
        ParticipantRecord("16779264", "Bob", joined_at=at(5), left_at=at(50)),
        ParticipantRecord("16780288", "Bob", joined_at=at(52), left_at=at(59)),  # a rejoin nobody told
    ]
    assert participants_merge(meeting=meeting, occurrence=UUID, records=polled) == 2
    assert intervals(meeting) == [
        ("uuid-ann", at(2), at(40), "webhook"),
        ("uuid-bob", at(5), at(50), "webhook"),
        ("16780288", at(52), at(59), "poll"),
    ]
    assert participants_merge(meeting=meeting, occurrence=UUID, records=polled) == 0
    assert len(intervals(meeting)) == 3


def test_two_devices_joining_together_match_their_own_intervals(meeting):
    event("joined", meeting, joined(key="uuid-laptop"))
    event("joined", meeting, ParticipantRecord("uuid-phone", "Ann Learner", joined_at=at(2) + timedelta(seconds=1)))
    polled = [
        ParticipantRecord("u2", "Ann Learner", joined_at=at(2) + timedelta(seconds=1), left_at=at(30)),
        ParticipantRecord("u1", "Ann Learner", joined_at=at(2), left_at=at(40)),
    ]
    participants_merge(meeting=meeting, occurrence=UUID, records=polled)
    assert intervals(meeting) == [
        ("uuid-laptop", at(2), at(40), "webhook"),
        ("uuid-phone", at(2) + timedelta(seconds=1), at(30), "webhook"),
    ]


def test_a_poll_without_times_marks_presence_once_and_only_for_people_not_seen(meeting):
    event("joined", meeting, joined(key="uuid-ann", email="ann@example.com"))
    polled = [
        ParticipantRecord("", "Ann Learner", email="ann@example.com"),  # OpenAPI 2.0.0: id, name, user_email
        ParticipantRecord("name:carl", "Carl Guest"),
    ]
    participants_merge(meeting=meeting, occurrence=UUID, records=polled)
    participants_merge(meeting=meeting, occurrence=UUID, records=polled)
    assert intervals(meeting) == [("uuid-ann", at(2), None, "webhook"), ("name:carl", None, None, "poll")]
    # A later answer with times replaces the presence.
    participants_merge(
        meeting=meeting,
        occurrence=UUID,
        records=[ParticipantRecord("name:carl", "Carl Guest", joined_at=at(7), left_at=at(9))],
    )
    assert intervals(meeting)[-1] == ("name:carl", at(7), at(9), "poll")
    assert MeetingParticipant.objects.filter(joined_at__isnull=True).count() == 0


def test_selectors_give_the_owning_app_participants_and_occurrences_by_reference(meeting):
    event("joined", meeting, joined(registrant_id="reg-1"))
    rows = meeting_participants([meeting.reference, "ref:none"])
    assert rows["ref:none"] == []
    assert [(r.registrant_id, r.joined_at, r.occurrence.uuid) for r in rows[meeting.reference]] == [
        ("reg-1", at(2), UUID)
    ]
    assert [o.uuid for o in meeting_occurrences([meeting.reference])[meeting.reference]] == [UUID]


def test_the_meetings_host_is_marked_by_their_account_or_email(meeting, owner, django_assert_num_queries):
    VirtualMeeting.objects.filter(pk=meeting.pk).update(host_email="Host@Example.org")
    event("joined", meeting, joined("host-laptop", 1, name="Tom", account_id="acct-tom"))  # the connection's
    event("joined", meeting, joined("host-phone", 2, name="Tom (phone)", email="host@example.org"))  # host_email
    event("joined", meeting, joined("host-tab", 3, name="Tom (tablet)", email=owner.email.upper()))  # connection's
    event("joined", meeting, joined("ann", 4, account_id="acct-ann", email="ann@example.com"))
    event("joined", meeting, joined("dial-in", 5, name="+44 20 7946 0000"))
    with django_assert_num_queries(2):
        rows = meeting_participants([meeting.reference])[meeting.reference]
    assert [(row.participant_key, row.is_host) for row in rows] == [
        ("host-laptop", True),
        ("host-phone", True),
        ("host-tab", True),
        ("ann", False),
        ("dial-in", False),
    ]


def test_a_host_whose_meeting_lives_in_an_earlier_owners_account_is_still_the_host(meeting, owner):
    # The room changed hands; the remote meeting is still the first owner's until it is made again.
    VirtualMeeting.objects.filter(pk=meeting.pk).update(owner=make_user("nia"), remote_owner=owner)
    event("joined", meeting, joined("host-laptop", 1, name="Tom", account_id="acct-tom"))
    [row] = meeting_participants([meeting.reference])[meeting.reference]
    assert row.is_host


def test_an_account_told_later_completes_the_interval(meeting):
    event("joined", meeting, joined("host-laptop", 1, name="Tom"))
    event("left", meeting, left("host-laptop", 1, 50, name="Tom", account_id="acct-tom"))
    assert list(MeetingParticipant.objects.values_list("account_id", "left_at")) == [("acct-tom", at(50))]
    assert meeting_participants([meeting.reference])[meeting.reference][0].is_host


# --- recordings --------------------------------------------------------------------------------------
def recording(file_id="file-1", **extra):
    values = {
        "remote_id": file_id,
        "file_type": "MP4",
        "recording_type": "shared_screen_with_speaker_view",
        "play_url": f"https://meet.test.invalid/rec/play/{file_id}",
        "share_url": "https://meet.test.invalid/rec/share/abc",
        "passcode": "Rec0rd!ng",
        "recording_start": at(1),
        "recording_end": at(59),
        "occurrence": UUID,
    }
    values.update(extra)
    return RecordingRecord(**values)


def test_recordings_are_stored_once_with_the_passcode_encrypted(meeting, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert recordings_record(provider="test", remote_id=meeting.remote_id, records=[recording()], at=at(70)) == 1
        assert recordings_record(provider="test", remote_id=meeting.remote_id, records=[recording()], at=at(70)) == 0
    assert heard == [("recordings_updated", meeting.pk)]
    [row] = meeting_recordings([meeting.reference])[meeting.reference]
    assert (row.file_type, row.passcode, row.occurrence) == ("MP4", "Rec0rd!ng", UUID)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT passcode FROM virtualmeeting_meetingrecording")
        assert "Rec0rd!ng" not in cursor.fetchone()[0]


def test_trashed_recovered_and_deleted_follow_the_event_times(meeting):
    recordings_record(
        provider="test", remote_id=meeting.remote_id, records=[recording(), recording("file-2")], at=at(70)
    )
    assert recording_status(provider="test", remote_id=meeting.remote_id, uuid=UUID, status="trashed", at=at(80)) == 2
    assert meeting_recordings([meeting.reference])[meeting.reference] == []
    # A "completed" delivered again late does not bring them back.
    recordings_record(provider="test", remote_id=meeting.remote_id, records=[recording()], at=at(70))
    assert meeting_recordings([meeting.reference])[meeting.reference] == []

    recording_status(provider="test", remote_id=meeting.remote_id, file_ids=["file-1"], status="recovered", at=at(90))
    recording_status(
        provider="test", remote_id=meeting.remote_id, uuid=UUID, status="trashed", at=at(80)
    )  # again, late
    assert [r.remote_id for r in meeting_recordings([meeting.reference])[meeting.reference]] == ["file-1"]

    recording_status(provider="test", remote_id=meeting.remote_id, file_ids=["file-2"], status="deleted", at=at(95))
    recording_status(provider="test", remote_id=meeting.remote_id, file_ids=["file-2"], status="recovered", at=at(99))
    assert MeetingRecording.objects.get(remote_id="file-2").status == MeetingRecording.Status.DELETED


# --- the reconcile poll --------------------------------------------------------------------------------
def sweep(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return participants_sweep()


def occurrence_of(meeting):
    return MeetingOccurrence.objects.get(meeting=meeting)


def test_a_site_without_webhooks_gets_the_participants_of_the_latest_occurrence(
    meeting, heard, django_capture_on_commit_callbacks
):
    TestProvider.script_participants(meeting.remote_id, UUID, [left(), left(key="dev-bob", join=3, leave=59)])

    assert sweep(FINISH + 4 * MINUTE, django_capture_on_commit_callbacks) == 0
    assert TestProvider.calls("participants") == 0

    assert sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks) == 1
    occurrence = occurrence_of(meeting)
    assert occurrence.uuid == ""
    assert occurrence.participants_done_at == FINISH + 5 * MINUTE
    assert occurrence.next_poll_at is None and occurrence.poll_error == ""
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "poll"), ("dev-bob", at(3), at(59), "poll")]
    assert ("participation_updated", meeting.pk, "") in heard

    assert sweep(FINISH + 6 * 60 * MINUTE, django_capture_on_commit_callbacks) == 0
    assert TestProvider.calls("participants") == 1


def test_not_ready_yet_moves_the_poll_to_the_next_delay(meeting, django_capture_on_commit_callbacks):
    occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, ended_at=FINISH)
    TestProvider.script_participants(meeting.remote_id, UUID, [left()], not_ready=2)

    sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks)
    assert occurrence_of(meeting).next_poll_at == FINISH + 15 * MINUTE
    sweep(FINISH + 10 * MINUTE, django_capture_on_commit_callbacks)  # nothing due
    sweep(FINISH + 15 * MINUTE, django_capture_on_commit_callbacks)
    assert occurrence_of(meeting).next_poll_at == FINISH + 30 * MINUTE
    assert TestProvider.calls("participants") == 2
    assert not MeetingParticipant.objects.exists()

    sweep(FINISH + 30 * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert (occurrence.poll_attempts, occurrence.next_poll_at) == (3, None)
    assert occurrence.participants_done_at == FINISH + 30 * MINUTE
    assert intervals(meeting) == [("dev-ann-1", at(2), at(40), "poll")]


def test_the_poll_gives_up_after_the_last_delay_and_says_why(meeting, django_capture_on_commit_callbacks):
    for minutes in (5, 15, 30, 60, 120, 240, 300):
        sweep(FINISH + minutes * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert TestProvider.calls("participants") == 6
    assert (occurrence.poll_attempts, occurrence.next_poll_at, occurrence.participants_done_at) == (6, None, None)
    assert "240 minutes" in occurrence.poll_error and "no data" in occurrence.poll_error


def test_a_late_sweep_polls_once_and_keeps_to_the_delays_still_ahead(meeting, django_capture_on_commit_callbacks):
    sweep(FINISH + 50 * MINUTE, django_capture_on_commit_callbacks)
    assert TestProvider.calls("participants") == 1
    assert occurrence_of(meeting).next_poll_at == FINISH + 60 * MINUTE


def test_the_polls_own_answer_and_a_webhooks_are_one_set(meeting, django_capture_on_commit_callbacks):
    occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, started_at=at(0), ended_at=FINISH)
    event("joined", meeting, joined(key="uuid-ann"))
    event("left", meeting, left(key="uuid-ann"))
    TestProvider.script_participants(meeting.remote_id, UUID, [left(key="16778240"), left(key="u-bob", name="Bob")])

    sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks)

    assert [o.uuid for o in MeetingOccurrence.objects.all()] == [UUID]  # no "latest" beside the known one
    assert intervals(meeting) == [("uuid-ann", at(2), at(40), "webhook"), ("u-bob", at(2), at(40), "poll")]


def test_recordings_come_with_the_poll(meeting, django_capture_on_commit_callbacks):
    TestProvider.script_participants(meeting.remote_id, UUID, [left()])
    TestProvider.script_recordings(meeting.remote_id, [recording()], not_ready=1)

    sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert occurrence.participants_done_at is not None and occurrence.recordings_done_at is None
    assert occurrence.next_poll_at == FINISH + 15 * MINUTE

    sweep(FINISH + 15 * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert occurrence.recordings_done_at == FINISH + 15 * MINUTE and occurrence.next_poll_at is None
    assert TestProvider.calls("participants") == 1  # not asked again once it had the data
    assert [r.remote_id for r in meeting_recordings([meeting.reference])[meeting.reference]] == ["file-1"]


def test_a_connection_lacking_the_attendance_scopes_is_not_asked_and_the_reason_is_kept(
    meeting, django_capture_on_commit_callbacks
):
    TestProvider.require_scopes("attendance", ["participants:read"])
    for minutes in (5, 15, 30, 60, 120, 240):
        sweep(FINISH + minutes * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert TestProvider.calls("participants") == 0
    assert occurrence.next_poll_at is None
    assert "Reconnect to enable attendance" in occurrence.poll_error and "participants:read" in occurrence.poll_error


def test_a_permanent_refusal_stops_the_poll_at_once(meeting, django_capture_on_commit_callbacks):
    TestProvider.fail_next("participants", "permanent")
    sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert (occurrence.next_poll_at, occurrence.poll_attempts) == (None, 1)
    assert "refused" in occurrence.poll_error


def test_a_rate_limit_waits_without_spending_a_poll(meeting, django_capture_on_commit_callbacks):
    TestProvider.fail_next("participants", "rate_limited", seconds=3)
    sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks)
    occurrence = occurrence_of(meeting)
    assert (occurrence.poll_attempts, occurrence.next_poll_at) == (0, FINISH + 5 * MINUTE + timedelta(seconds=3))


def test_a_queued_poll_is_not_queued_again_and_a_second_delivery_finds_nothing_to_do(
    meeting, django_capture_on_commit_callbacks
):
    with time_machine.travel(FINISH + 5 * MINUTE, tick=False):
        participants_sweep()  # the task message is lost: no callbacks run
        assert participants_sweep() == 0  # queued a moment ago: still on its way
        assert participants_reconcile(meeting.pk) == ["not ready"]
        assert participants_reconcile(meeting.pk) == ["skipped"]  # nothing due
    assert TestProvider.calls("participants") == 1


def test_the_poll_waits_while_a_sync_holds_the_meeting(meeting, django_capture_on_commit_callbacks):
    occurrence_record(provider="test", remote_id=meeting.remote_id, uuid=UUID, ended_at=FINISH)
    with time_machine.travel(FINISH + 5 * MINUTE, tick=False):
        VirtualMeeting.objects.filter(pk=meeting.pk).update(status=VirtualMeeting.Status.UPDATING)
        assert claim(meeting.pk) is not None
        assert participants_reconcile(meeting.pk) == ["skipped"]
    assert TestProvider.calls("participants") == 0
    assert occurrence_of(meeting).next_poll_at == FINISH + 5 * MINUTE  # still due


def test_a_meeting_never_made_at_the_provider_is_not_polled(owner, django_capture_on_commit_callbacks):
    made = put(owner, "ref:never")  # never synced: no remote meeting
    assert sweep(FINISH + 5 * MINUTE, django_capture_on_commit_callbacks) == 0
    assert not MeetingOccurrence.objects.filter(meeting=made).exists()


# --- what staff and the owning app see ------------------------------------------------------------------
def test_admin_shows_occurrences_and_recordings_without_the_passcode(client, meeting):
    event("joined", meeting, joined())
    recordings_record(provider="test", remote_id=meeting.remote_id, records=[recording()])
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    occurrence = MeetingOccurrence.objects.get()
    pages = [
        "/admin/virtualmeeting/meetingoccurrence/",
        f"/admin/virtualmeeting/meetingoccurrence/{occurrence.pk}/change/",
        "/admin/virtualmeeting/meetingrecording/",
        f"/admin/virtualmeeting/meetingrecording/{MeetingRecording.objects.get().pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Rec0rd!ng" not in response.content.decode(), url
    assert "Ann Learner" in client.get(pages[1]).content.decode()


def test_capabilities_missing_names_the_scopes_to_reconnect_for(owner):
    connection = ProviderConnection.objects.get(user=owner)
    assert capabilities_missing(connection) == {}
    TestProvider.require_scopes("attendance", ["participants:read", "meeting:read"])
    assert capabilities_missing(connection) == {"attendance": ["participants:read"]}
    assert capabilities_missing(None) == {}
