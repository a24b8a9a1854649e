"""Handing rooms over (issue 11): a site admin hands one room, or every room of a trainer, to another host of the
site's Zoom account or to a person's own connection; the rooms change at once, the meetings of sessions still to
start move in the background (made under the new host, deleted where they were), sessions that have started keep
theirs, and each handover is recorded (who, when, from, to, why). Refusals change nothing.
Zoom is stubbed with `responses` (FakeZoom plus the user look-ups); tasks run eagerly after commit."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from seminars.meetings import event_meetings_sync, meeting_reference
from seminars.models import HandoverRoom, Notification, OutboundEmail, Room, RoomHandover
from seminars.selectors.handovers import Placement, handover_progress, owner_rooms, owners_at_risk
from seminars.services.handovers import HandoverError, rooms_hand_over
from seminars.tests import test_virtual_site_account as site_account
from seminars.tests.conftest import make_session, make_user
from seminars.tests.test_virtual_site_account import no_zoom_user, zoom_user
from virtualmeeting.models import VirtualMeeting
from virtualmeeting_zoom.tests.conftest import API, make_connection

zoom = site_account.zoom  # the site's Zoom account, stubbed (autouse)

HOST_A, HOST_B = "hOsT-a", "hOsT-b"


def account_room(event, owner, *, host=HOST_A, email="a@zoom.example.com", name="Online"):
    return Room.objects.create(
        name=name,
        capacity=20,
        event=event,
        virtual_kind="zoom",
        virtual_hosting=Room.HOSTING_ACCOUNT,
        virtual_host=host,
        virtual_host_email=email,
        created_by=owner,
    )


def own_room(event, owner, name="Own"):
    return Room.objects.create(name=name, capacity=20, event=event, virtual_kind="zoom", created_by=owner)


def use_room(event, room, capture):
    """Every session of the event in `room`, and the meetings made (eagerly)."""
    event.sessions.update(room=room)
    with capture(execute=True), transaction.atomic():
        event_meetings_sync(event=event)


def meeting_of(session):
    session.refresh_from_db()
    return VirtualMeeting.objects.get(reference=meeting_reference(session, session.room))


def hand_over(capture, **kwargs):
    with capture(execute=True):
        return rooms_hand_over(**kwargs)


@pytest.fixture
def host_b(zoom):
    return zoom_user(zoom.mocked, HOST_B, user_id=HOST_B)


def test_a_room_handed_to_another_host_moves_its_meeting_and_is_recorded(
    event, editing_trainer, site_admin, zoom, host_b, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    session = event.sessions.get()
    before = meeting_of(session)
    assert before.remote_host == HOST_A and zoom.hosts[before.remote_id] == HOST_A

    handover = hand_over(
        django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host=HOST_B, reason="Edna left."
    )

    room.refresh_from_db()
    assert (room.virtual_hosting, room.virtual_host, room.virtual_host_email) == ("account", HOST_B, HOST_B)
    # No LMS user has the new host's email: the admin who handed it over owns it in the LMS.
    assert room.created_by == site_admin
    after = meeting_of(session)
    assert (after.host, after.remote_host, after.status) == (HOST_B, HOST_B, "available")
    assert after.remote_id != before.remote_id
    assert before.remote_id not in zoom.meetings  # deleted where it was
    assert list(zoom.hosts[mid] for mid in zoom.meetings) == [HOST_B]  # one meeting, under the new host
    assert host_b.call_count == 1  # the host was checked with Zoom before anything changed
    record = HandoverRoom.objects.get(handover=handover)
    assert (handover.created_by, handover.from_owner, handover.to_hosting, handover.to_host, handover.reason) == (
        site_admin,
        editing_trainer,
        "account",
        HOST_B,
        "Edna left.",
    )
    assert (record.room, record.room_name, record.from_owner, record.from_hosting, record.from_host) == (
        room,
        "Online",
        editing_trainer,
        "account",
        HOST_A,
    )
    progress = handover_progress(handover=handover)
    assert progress.counts == {Placement.MOVED: 1} and progress.done


def test_the_new_hosts_own_lms_user_becomes_the_owner_and_is_told(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    bea = make_user("bea")
    bea_in_zoom = {"id": HOST_B, "email": "bea@example.com", "first_name": "Bea", "last_name": "B", "type": 2}
    zoom.mocked.get(f"{API}/users/{HOST_B}", json=dict(bea_in_zoom, status="active"))
    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)

    handover = hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host=HOST_B)

    room.refresh_from_db()
    assert room.created_by == bea and room.virtual_host_email == "bea@example.com"
    assert handover.to_owner == bea and handover.to_host_name == "Bea B"
    note = Notification.objects.get(user=bea)
    assert note.subject == "Rooms handed over to you" and "Online" in note.body
    assert OutboundEmail.objects.filter(to="bea@example.com").count() == 1
    assert not Notification.objects.filter(user=site_admin).exists()  # the admin did it: nothing to tell them


def test_a_room_handed_to_a_person_is_made_in_their_own_connection(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    make_connection(editing_trainer)
    carl = make_user("carl")
    make_connection(carl, remote_account_id="carl-zoom", email="carl@example.com")
    room = own_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    session = event.sessions.get()
    before = meeting_of(session)
    assert before.remote_owner_id == editing_trainer.pk

    handover = hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_owner=carl)

    room.refresh_from_db()
    assert (room.created_by, room.virtual_hosting, room.virtual_host) == (carl, "user", "")
    after = meeting_of(session)
    assert (after.owner_id, after.remote_owner_id, after.status) == (carl.pk, carl.pk, "available")
    assert after.remote_id != before.remote_id and before.remote_id not in zoom.meetings
    assert len(zoom.meetings) == 1
    assert handover.to_owner == carl and handover.to_hosting == "user"
    assert Notification.objects.filter(user=carl, subject="Rooms handed over to you").count() == 1


def test_a_session_that_has_started_keeps_its_meeting_and_the_others_move(
    event, editing_trainer, site_admin, zoom, host_b, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    first = event.sessions.get()
    second = make_session(event, first.start + timedelta(days=1))
    use_room(event, room, django_capture_on_commit_callbacks)
    kept_id = meeting_of(first).remote_id
    moved_id = meeting_of(second).remote_id

    with time_machine.travel(first.start + timedelta(minutes=10)):
        handover = hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host=HOST_B)
        progress = handover_progress(handover=handover)

    first_meeting, second_meeting = meeting_of(first), meeting_of(second)
    assert (first_meeting.remote_id, first_meeting.host, first_meeting.remote_host) == (kept_id, HOST_A, HOST_A)
    assert second_meeting.remote_host == HOST_B and second_meeting.remote_id != moved_id
    assert kept_id in zoom.meetings and moved_id not in zoom.meetings
    # The progress counts what was still to start at the handover: the second session only.
    assert [row[0] for row in progress.rows] == [second] and progress.counts == {Placement.MOVED: 1}


def test_every_room_of_a_trainer_is_handed_at_once(
    event, seminar, editing_trainer, site_admin, zoom, host_b, django_capture_on_commit_callbacks
):
    from seminars.models import SeminarEvent

    other = SeminarEvent.objects.create(seminar=seminar, name="Autumn", capacity=5, created_by=editing_trainer)
    make_session(other, event.sessions.get().start + timedelta(days=3))
    rooms = [account_room(event, editing_trainer, name="Room 1"), account_room(other, editing_trainer, name="Room 2")]
    use_room(event, rooms[0], django_capture_on_commit_callbacks)
    use_room(other, rooms[1], django_capture_on_commit_callbacks)
    assert [r.pk for r in owner_rooms(owner_id=editing_trainer.pk)] == [r.pk for r in rooms]

    handover = hand_over(
        django_capture_on_commit_callbacks,
        by=site_admin,
        rooms=owner_rooms(owner_id=editing_trainer.pk),
        to_host=HOST_B,
        from_owner=editing_trainer,
    )

    assert sorted(handover.rooms.values_list("room_name", flat=True)) == ["Room 1", "Room 2"]
    assert set(zoom.hosts[mid] for mid in zoom.meetings) == {HOST_B} and len(zoom.meetings) == 2
    assert owner_rooms(owner_id=editing_trainer.pk) == []
    assert handover_progress(handover=handover).counts == {Placement.MOVED: 2}


def test_a_host_not_in_the_account_is_refused_and_nothing_changes(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    no_zoom_user(zoom.mocked, "ghost@example.com")
    meetings = dict(zoom.meetings)

    with pytest.raises(HandoverError) as refused:
        hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host="ghost@example.com")

    assert refused.value.errors == {
        "to_host": ["This host is not an active user of the site's Zoom account: choose another."]
    }
    room.refresh_from_db()
    assert room.virtual_host == HOST_A and room.created_by == editing_trainer
    assert not RoomHandover.objects.exists() and zoom.meetings == meetings


def test_a_deactivated_host_is_refused(event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks):
    room = account_room(event, editing_trainer)
    zoom_user(zoom.mocked, HOST_B, user_id=HOST_B, status="inactive")

    with pytest.raises(HandoverError) as refused:
        rooms_hand_over(by=site_admin, rooms=[room], to_host=HOST_B)

    assert list(refused.value.errors) == ["to_host"] and not RoomHandover.objects.exists()


@pytest.mark.parametrize(
    "case, field, message",
    [
        ("no connection", "to_owner", "Carl has no working Zoom connection"),
        ("deactivated", "to_owner", "This person is deactivated: choose an active one."),
        ("both", "__all__", "Choose a new host in the site's account, or a new owner, not both."),
        ("neither", "__all__", "Choose who takes the rooms over."),
        ("already there", "__all__", "The rooms are already there: choose another host or owner."),
        ("bad reason", "reason", "control character"),
        ("custom link", "__all__", "There is no room with sessions still to start to hand over."),
    ],
)
def test_refusals_say_why_next_to_the_field_and_change_nothing(
    case, field, message, event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    room = own_room(event, editing_trainer)
    make_connection(editing_trainer)
    carl = make_user("carl")
    kwargs = {"by": site_admin, "rooms": [room], "to_owner": carl}
    if case == "deactivated":
        make_connection(carl)
        carl.is_active = False
        carl.save()
    elif case == "both":
        kwargs["to_host"] = HOST_B
    elif case == "neither":
        kwargs.pop("to_owner")
    elif case == "already there":
        kwargs["to_owner"] = editing_trainer
    elif case == "bad reason":
        make_connection(carl)
        kwargs["reason"] = "bad\x00reason"
    elif case == "custom link":
        kwargs["rooms"] = [Room.objects.create(name="Link", capacity=5, event=event, virtual_kind="custom",
                                               virtual_url="https://example.com/x", created_by=editing_trainer)]  # fmt: skip

    with pytest.raises(HandoverError) as refused:
        hand_over(django_capture_on_commit_callbacks, **kwargs)

    assert field in refused.value.errors and message in " ".join(refused.value.errors[field])
    room.refresh_from_db()
    assert room.created_by == editing_trainer and not RoomHandover.objects.exists()


def test_only_site_admins_may_hand_over(event, editing_trainer, zoom):
    room = account_room(event, editing_trainer)
    with pytest.raises(PermissionDenied):
        rooms_hand_over(by=editing_trainer, rooms=[room], to_host=HOST_B)
    assert not RoomHandover.objects.exists()


def test_handing_over_again_shows_the_first_handover_as_handed_on(
    event, editing_trainer, site_admin, zoom, host_b, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    first = hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host=HOST_B)
    zoom_user(zoom.mocked, HOST_A, user_id=HOST_A)

    second = hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host=HOST_A)

    assert handover_progress(handover=first).counts == {Placement.HANDED_ON: 1}
    assert handover_progress(handover=second).counts == {Placement.MOVED: 1}
    assert [zoom.hosts[mid] for mid in zoom.meetings] == [HOST_A]


def test_owners_at_risk_are_the_deactivated_and_the_disconnected_with_sessions_to_start(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks, django_assert_num_queries
):
    ok_owner, revoked_owner = make_user("okay"), make_user("rev")
    make_connection(ok_owner)
    make_connection(revoked_owner, remote_account_id="rev", status="revoked")
    account_room(event, editing_trainer, name="Account room")  # in the site account: fine while Edna is active
    own_room(event, ok_owner, name="Fine")
    room = own_room(event, revoked_owner, name="Revoked")
    event.sessions.update(room=room)
    make_session(event, event.sessions.get().start + timedelta(hours=2), room=Room.objects.get(name="Fine"))
    make_session(event, event.sessions.first().start + timedelta(hours=4), room=Room.objects.get(name="Account room"))

    with django_assert_num_queries(3):
        at_risk = owners_at_risk()
    assert [(entry.owner, entry.sessions) for entry in at_risk] == [(revoked_owner, 1)]
    assert "their own connection is revoked or gone" in at_risk[0].reasons

    editing_trainer.is_active = False
    editing_trainer.save()
    assert [entry.owner for entry in owners_at_risk()] == [revoked_owner, editing_trainer]
    # Sessions that have started are nobody's worry any more.
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert owners_at_risk() == []


def test_the_new_host_leaves_the_alternative_hosts_and_a_personal_account_has_none(
    event, editing_trainer, site_admin, zoom, host_b, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    room.virtual_alternative_hosts = [HOST_B, "alt@example.com"]  # host B's email is HOST_B in this stub
    room.save()

    hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_host=HOST_B)
    room.refresh_from_db()
    assert room.virtual_alternative_hosts == ["alt@example.com"]

    carl = make_user("carl")
    make_connection(carl, remote_account_id="carl-zoom")
    hand_over(django_capture_on_commit_callbacks, by=site_admin, rooms=[room], to_owner=carl)
    room.refresh_from_db()
    assert room.virtual_alternative_hosts == []
