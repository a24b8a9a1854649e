"""MeetingSpec is declared once: storing, reading back and comparing derive from its fields' declarations."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from virtualmeeting.models import VirtualMeeting
from virtualmeeting.providers.base import FLAG, MeetingSpec, RemoteMeeting, spec_field
from virtualmeeting.tests.helpers import fresh, put, run

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def spec(**changes) -> MeetingSpec:
    values = {
        "topic": "Intro",
        "start": START,
        "finish": START + timedelta(hours=1),
        "timezone": "Europe/London",
        "agenda": "Bring a pen",
        "registration": True,
        "alternative_hosts": ("ann@example.com",),
        "marker": "m-1",
    }
    return MeetingSpec(**{**values, **changes})


def test_to_json_writes_the_format_synced_spec_has_always_had():
    assert spec().to_json() == {
        "topic": "Intro",
        "start": "2030-03-01T09:00:00+00:00",
        "finish": "2030-03-01T10:00:00+00:00",
        "timezone": "Europe/London",
        "agenda": "Bring a pen",
        "registration": True,
        "alternative_hosts": ["ann@example.com"],
    }


def test_from_json_reads_back_what_to_json_wrote_with_the_rows_marker():
    assert MeetingSpec.from_json(spec().to_json(), marker="m-1") == spec()
    assert MeetingSpec.from_json({}, marker="m-1") is None


def test_rows_stored_before_registration_and_alternative_hosts_still_load():
    # synced_spec as rows written before registrants and alternative hosts hold it.
    stored = {
        "topic": "Intro",
        "start": "2030-03-01T10:00:00+01:00",
        "finish": "2030-03-01T10:00:00+00:00",
        "timezone": "Europe/London",
        "agenda": "",
    }
    loaded = MeetingSpec.from_json(stored, marker="m-1")
    assert loaded == spec(agenda="", registration=False, alternative_hosts=())


def test_changed_fields_names_what_differs_times_as_instants():
    before = spec()
    assert spec().changed_fields(before) == frozenset()
    assert spec(topic="New").changed_fields(before) == {"topic"}
    moved = spec(start=START + timedelta(hours=1), finish=START + timedelta(hours=2))
    assert moved.changed_fields(before) == {"start", "finish"}
    # The same instant written with another offset is no change.
    paris = START.astimezone(datetime.fromisoformat("2030-03-01T10:00:00+01:00").tzinfo)
    assert spec(start=paris).changed_fields(before) == frozenset()
    assert spec(alternative_hosts=()).changed_fields(before) == {"alternative_hosts"}
    # The marker is the row's own: never an update.
    assert spec(marker="m-2").changed_fields(before) == frozenset()
    assert spec().changed_fields(None) == {
        "topic",
        "start",
        "finish",
        "timezone",
        "agenda",
        "registration",
        "alternative_hosts",
    }


def test_matches_checks_each_field_read_back_and_takes_unsaid_as_matching():
    remote = RemoteMeeting(
        remote_id="1",
        join_url="https://x.invalid/j/1",
        start=START,
        duration_minutes=60,
        timezone="Europe/London",
        topic="Intro",
        registration=True,
    )
    assert spec().matches(remote)
    assert spec().matches(replace(remote, start=None, duration_minutes=None, timezone="", registration=None))
    assert not spec().matches(replace(remote, topic="Edited"))
    assert not spec().matches(replace(remote, duration_minutes=61))
    assert not spec().matches(replace(remote, registration=False))
    # The agenda and alternative hosts are not read back by the framework (a provider may compare them).
    assert spec(agenda="Other", alternative_hosts=()).matches(remote)


@pytest.mark.django_db
def test_of_reads_the_meeting_row(owner):
    meeting = fresh(put(owner, topic="Row topic", agenda="Row agenda"))
    built = MeetingSpec.of(meeting, registration=True)
    assert (built.topic, built.agenda, built.timezone) == ("Row topic", "Row agenda", meeting.time_zone)
    assert (built.start, built.finish, built.marker) == (meeting.start, meeting.finish, meeting.marker)
    assert built.registration is True and built.alternative_hosts == ()


@pytest.mark.django_db
def test_a_row_synced_in_the_old_format_is_in_sync_and_not_updated(owner):
    """A row whose synced_spec was written before the spec was declared once: nothing to update."""
    meeting = put(owner)
    run(meeting)
    meeting = fresh(meeting)
    assert meeting.status == VirtualMeeting.Status.AVAILABLE
    old_format = {
        "topic": meeting.topic,
        "start": meeting.start.astimezone(datetime.fromisoformat("2000-01-01T00:00:00+02:00").tzinfo).isoformat(),
        "finish": meeting.finish.isoformat(),
        "timezone": meeting.time_zone,
        "agenda": meeting.agenda,
    }
    VirtualMeeting.objects.filter(pk=meeting.pk).update(
        synced_spec=old_format, status=VirtualMeeting.Status.UPDATING, next_attempt_at=START - timedelta(days=3650)
    )
    assert run(meeting) == ["in sync"]
    assert fresh(meeting).status == VirtualMeeting.Status.AVAILABLE


def test_a_new_field_needs_only_its_declaration():
    """Adding a field (here an option per room) is one declaration: storing, loading, comparing and
    building from the row follow, with no other framework code changed."""

    @dataclass(frozen=True)
    class WithWaitingRoom(MeetingSpec):
        waiting_room: bool = spec_field(False, column="waiting_room", codec=FLAG)

    class Row:
        topic, start, finish, time_zone, agenda = "Intro", START, START + timedelta(hours=1), "Europe/London", ""
        alternative_hosts, marker, waiting_room = None, "m-1", True

    built = WithWaitingRoom.of(Row())
    assert built.waiting_room is True
    assert built.to_json()["waiting_room"] is True
    assert WithWaitingRoom.from_json(built.to_json(), marker="m-1") == built
    old = {key: value for key, value in built.to_json().items() if key != "waiting_room"}
    assert WithWaitingRoom.from_json(old, marker="m-1").waiting_room is False
    assert built.changed_fields(replace(built, waiting_room=False)) == {"waiting_room"}
