"""Seminars drive virtual meetings: every change gives the right remote calls, counted through the test provider.

These tests go through the real pages ("Save changes", "Cancel event", delete),
the real virtualmeeting services and sync task (run eagerly after commit), and
the deterministic test provider.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from seminars.meetings import meeting_reference, meetings_reconcile
from seminars.models import Notification, Room, Session
from seminars.tests.conftest import connect, event_post_data
from virtualmeeting.models import VirtualMeeting

pytestmark = pytest.mark.usefixtures("test_provider")


def local(moment, zone):
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def row(session, *, start=None, finish=None, zone=None, room=None):
    zone = zone or session.time_zone
    return {
        "id": session.pk,
        "start": start or local(session.start, zone),
        "finish": finish or local(session.finish, zone),
        "zone": zone,
        "room": room,
    }


NEW_ZOOM_ROOM = {"mode": "new", "name": "Online", "capacity": 20, "description": "", "virtual_kind": "test"}


def save(client, event, rows, capture, **fields):
    data = event_post_data(sessions=rows, initial_forms=sum(1 for r in rows if r.get("id")), **fields)
    with capture(execute=True):
        response = client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def save_in_new_room(client, event, owner, capture, *, zone, **fields):
    """Save the event through the editor as `owner` (connected first): its session and a second one a day
    later (90 minutes, in `zone`), both in one new provider-backed ad-hoc room; `fields` for the event."""
    connect(owner)
    client.force_login(owner)
    first = event.sessions.get()
    second_start = first.start + timedelta(days=1)
    rows = [
        row(first, room=NEW_ZOOM_ROOM),
        {
            "start": local(second_start, zone),
            "finish": local(second_start + timedelta(minutes=90), zone),
            "zone": zone,
            "room": NEW_ZOOM_ROOM,
        },
    ]
    save(client, event, rows, capture, **fields)


@pytest.fixture
def virtual_event(client, event, editing_trainer, django_capture_on_commit_callbacks):
    """The event with two sessions in one provider-backed ad-hoc room, saved through the editor."""
    save_in_new_room(
        client,
        event,
        editing_trainer,
        django_capture_on_commit_callbacks,
        zone="Asia/Tokyo",
        details="Bring your badge.",
    )
    return event


def room_choice(room):
    return {
        "mode": "adhoc",
        "id": room.pk,
        "name": room.name,
        "capacity": room.capacity,
        "description": "",
        "virtual_kind": room.virtual_kind,
        "virtual_url": room.virtual_url,
    }


def test_saving_an_event_creates_one_meeting_per_session_with_topic_time_and_zone(virtual_event, test_provider):
    assert test_provider.calls("create") == 2
    remote = sorted(test_provider.meetings(), key=lambda m: m["start"])
    assert [m["topic"] for m in remote] == [
        "Fire wardens: Spring intake (session 1 of 2)",
        "Fire wardens: Spring intake (session 2 of 2)",
    ]
    assert [m["timezone"] for m in remote] == ["Europe/London", "Asia/Tokyo"]
    meetings = VirtualMeeting.objects.filter(present=True)
    assert {m.status for m in meetings} == {"available"}
    assert all(m.owner_id == virtual_event.created_by_id for m in meetings)


def test_moving_a_session_updates_its_meeting_and_saving_unchanged_calls_nothing(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks
):
    first, second = virtual_event.sessions.order_by("start")
    room = first.room
    rows = [row(first, room=room_choice(room)), row(second, room=room_choice(second.room))]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks, details="Bring your badge.")
    assert (test_provider.calls("create"), test_provider.calls("update")) == (2, 0)

    later = first.start + timedelta(hours=2)
    rows[0] = row(
        first,
        start=local(later, first.time_zone),
        finish=local(later + timedelta(hours=1), first.time_zone),
        room=room_choice(room),
    )
    save(client, virtual_event, rows, django_capture_on_commit_callbacks, details="Bring your badge.")
    assert test_provider.calls("update") == 1
    meeting = VirtualMeeting.objects.get(reference=meeting_reference(first, room))
    remote = next(m for m in test_provider.meetings() if m["remote_id"] == meeting.remote_id)
    assert remote["start"] == later.isoformat()


def test_removing_a_session_deletes_its_meeting(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks
):
    first, second = virtual_event.sessions.order_by("start")
    rows = [row(first, room=room_choice(first.room)), {**row(second, room=room_choice(second.room)), "delete": True}]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks, details="Bring your badge.")
    assert test_provider.calls("delete") == 1
    assert len(test_provider.meetings()) == 1


def test_switching_the_room_to_a_custom_link_deletes_its_meetings(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks
):
    first, second = virtual_event.sessions.order_by("start")
    custom = [
        {**room_choice(s.room), "virtual_kind": "custom", "virtual_url": "https://meet.example.com/x"}
        for s in (first, second)
    ]
    save(
        client,
        virtual_event,
        [row(first, room=custom[0]), row(second, room=custom[1])],
        django_capture_on_commit_callbacks,
        details="Bring your badge.",
    )
    assert test_provider.calls("delete") == 2
    assert test_provider.meetings() == []


def test_removing_the_room_from_a_session_deletes_its_meeting(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks
):
    first, second = virtual_event.sessions.order_by("start")
    save(
        client,
        virtual_event,
        [row(first, room=room_choice(first.room)), row(second)],
        django_capture_on_commit_callbacks,
        details="Bring your badge.",
    )
    assert test_provider.calls("delete") == 1


def test_renaming_the_event_updates_every_meeting_topic(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks
):
    first, second = virtual_event.sessions.order_by("start")
    rows = [row(first, room=room_choice(first.room)), row(second, room=room_choice(second.room))]
    save(
        client,
        virtual_event,
        rows,
        django_capture_on_commit_callbacks,
        name="Autumn intake",
        details="Bring your badge.",
    )
    assert test_provider.calls("update") == 2
    assert all("Autumn intake" in m["topic"] for m in test_provider.meetings())


def test_cancelling_the_event_deletes_all_its_meetings(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("seminars:event_cancel", args=[virtual_event.pk]))
    assert test_provider.calls("delete") == 2
    assert test_provider.meetings() == []
    assert set(VirtualMeeting.objects.values_list("status", flat=True)) == {"deleted"}


@pytest.mark.parametrize("what", ["event", "seminar", "course"])
def test_deleting_the_event_seminar_or_course_deletes_its_meetings(
    client, virtual_event, test_provider, django_capture_on_commit_callbacks, site_admin, what
):
    client.force_login(site_admin)
    target = {
        "event": ("seminars:event_delete", virtual_event.pk),
        "seminar": ("seminars:seminar_delete", virtual_event.seminar_id),
        "course": ("seminars:course_delete", virtual_event.seminar.course_id),
    }[what]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(target[0], args=[target[1]]))
    assert response.status_code == 302
    assert test_provider.calls("delete") == 2
    assert test_provider.meetings() == []


def test_a_session_deleted_behind_the_services_back_is_reconciled(
    virtual_event, test_provider, django_capture_on_commit_callbacks
):
    Session.objects.filter(pk=virtual_event.sessions.order_by("start").last().pk).delete()  # e.g. the Django admin
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile() == 1
    assert test_provider.calls("delete") == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile() == 0


@pytest.mark.parametrize("change", ["session deleted", "room unlinked", "room custom link", "event cancelled"])
def test_each_change_behind_the_services_back_is_reconciled_and_the_other_meeting_kept(
    virtual_event, test_provider, django_capture_on_commit_callbacks, change
):
    first, last = virtual_event.sessions.order_by("start")
    kept = meeting_reference(first, first.room)
    if change == "session deleted":
        Session.objects.filter(pk=last.pk).delete()
    elif change == "room unlinked":
        Session.objects.filter(pk=last.pk).update(room=None)
    elif change == "room custom link":
        Room.objects.filter(pk=last.room_id).update(virtual_kind=Room.CUSTOM_LINK)
    else:
        type(virtual_event).objects.filter(pk=virtual_event.pk).update(cancelled=True)
    shared_room = first.room_id == last.room_id
    gone = 2 if change == "event cancelled" or (change == "room custom link" and shared_room) else 1
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile() == gone
    assert test_provider.calls("delete") == gone
    present = set(VirtualMeeting.objects.filter(present=True).values_list("reference", flat=True))
    assert present == (set() if gone == 2 else {kept})


def test_a_meeting_whose_reference_is_not_a_sessions_is_removed(virtual_event, django_capture_on_commit_callbacks):
    VirtualMeeting.objects.create(reference="seminars.event:1:session:x:room:1", provider="test")
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile() == 1
    assert not VirtualMeeting.objects.get(reference="seminars.event:1:session:x:room:1").present


def test_the_frequent_run_leaves_finished_meetings_to_the_daily_run(
    virtual_event, test_provider, django_capture_on_commit_callbacks, time_machine
):
    first, last = virtual_event.sessions.order_by("start")
    Session.objects.filter(pk=first.pk).delete()  # e.g. in the Django admin, after it took place
    time_machine.move_to(first.finish + timedelta(minutes=1))  # the first is over, the second to come

    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile() == 0  # only what is not over yet: the second, still wanted
    assert VirtualMeeting.objects.filter(present=True).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile(finished_too=True) == 1
    assert test_provider.calls("delete") == 1
    assert set(VirtualMeeting.objects.filter(present=True).values_list("reference", flat=True)) == {
        meeting_reference(last, last.room)
    }


def test_the_reconciler_asks_one_query_however_many_meetings(
    virtual_event, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_num_queries(2):  # the unwanted meetings (an anti-join), the personal links backfill
        assert meetings_reconcile() == 0
    with django_assert_num_queries(2):
        assert meetings_reconcile(finished_too=True) == 0


def test_a_provider_room_cannot_be_saved_without_a_connection(client, event, trainer, editing_trainer):
    client.force_login(editing_trainer)
    first = event.sessions.get()
    data = event_post_data(sessions=[row(first, room=NEW_ZOOM_ROOM)], initial_forms=1)
    response = client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 200
    assert "Connect" in response.content.decode()
    assert not Room.objects.filter(virtual_kind="test").exists()


def test_a_failure_notifies_owner_and_trainers_and_saving_again_retries(
    client, event, editing_trainer, trainer, test_provider, django_capture_on_commit_callbacks
):
    connect(editing_trainer)
    client.force_login(editing_trainer)
    test_provider.fail_next("create", "permanent")
    first = event.sessions.get()
    save(client, event, [row(first, room=NEW_ZOOM_ROOM)], django_capture_on_commit_callbacks)

    meeting = VirtualMeeting.objects.get()
    assert meeting.status == "failed"
    notified = set(
        Notification.objects.filter(subject="Virtual meeting creation failure").values_list("user__username", flat=True)
    )
    assert notified == {editing_trainer.username, trainer.username}
    assert any(m.subject == "Virtual meeting creation failure" for m in mail.outbox)

    room_page = client.get(reverse("seminars:room", args=[first.room_id] if first.room_id else [Room.objects.get().pk]))
    assert "Retry now" in room_page.content.decode()

    # "Save changes" with no edits re-queues the failed operation.
    first.refresh_from_db()
    save(client, event, [row(first, room=room_choice(first.room))], django_capture_on_commit_callbacks)
    meeting.refresh_from_db()
    assert meeting.status == "available"
    assert test_provider.calls("create") == 2
    assert len(test_provider.meetings()) == 1
