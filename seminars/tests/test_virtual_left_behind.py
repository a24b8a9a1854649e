"""A room handed to another owner whose old meeting cannot be deleted (the previous owner's connection is gone and
the provider has no site account): the move goes through, and the site admins are told, in the app and by email,
which meeting to delete by hand and where. Through the test provider and the framework's sync."""

from django.core import mail

from seminars.meetings import event_meetings_sync, meeting_reference
from seminars.models import Notification, Room
from seminars.tests.conftest import connect, make_user
from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.sync import meeting_sync


def test_site_admins_are_told_which_meeting_to_delete_by_hand(
    test_provider, event, editing_trainer, site_admin, django_capture_on_commit_callbacks
):
    connect(editing_trainer)
    room = Room.objects.create(event=event, name="Online", capacity=20, virtual_kind="test", created_by=editing_trainer)
    session = event.sessions.get()
    session.room = room
    session.save()
    with django_capture_on_commit_callbacks(execute=True):
        event_meetings_sync(event=event)
    meeting = VirtualMeeting.objects.get(reference=meeting_reference(session, room))
    old_id = meeting.remote_id
    assert meeting.status == "available" and old_id

    ProviderConnection.objects.filter(user=editing_trainer).delete()  # the trainer left
    successor = make_user("nina", first_name="Nina")
    connect(successor)
    Room.objects.filter(pk=room.pk).update(created_by=successor)  # as a handover does
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event_meetings_sync(event=event)
    with django_capture_on_commit_callbacks(execute=True):
        meeting_sync(meeting.pk)

    meeting.refresh_from_db()
    assert (meeting.status, meeting.owner, meeting.old_remote_id) == ("available", successor, "")
    assert sorted(m["remote_id"] for m in test_provider.meetings()) == sorted([old_id, meeting.remote_id])
    [notice] = Notification.objects.filter(user=site_admin)
    assert notice.subject == f"Delete a virtual meeting by hand: Test Meeting meeting {old_id}"
    assert f"please delete the Test Meeting meeting {old_id} in the Test Meeting account of Edna." in notice.body
    assert notice.url == f"/rooms/{room.pk}/"
    [email] = [m for m in mail.outbox if m.to == [site_admin.email]]
    assert email.subject == notice.subject
    assert f"meeting {old_id} in the Test Meeting account of Edna" in email.body
    assert not Notification.objects.filter(user=editing_trainer).exists()
