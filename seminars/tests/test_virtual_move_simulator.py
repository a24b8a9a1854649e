"""A session's meeting handed from one host of the site's Zoom account to another, against the Zoom simulator over
HTTP: the new meeting is made before the old one is deleted, so a booked learner's "Join now" leads to the old
meeting (their own link there) until the new one is recorded, and to the new one (their new link) after; in the
end the new host has the one meeting with the learner registered, the old host none."""

import io
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from seminars.meetings import booking_key, event_meetings_sync, meeting_reference
from seminars.models import Room
from seminars.services.bookings import booking_create
from simulators.zoom.server import start_server
from virtualmeeting.models import MeetingRegistrant, ProviderConfig, VirtualMeeting
from virtualmeeting.registry import get_provider
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.models import ZoomDailyUsage


@pytest.fixture
def zoom_sim(tmp_path, settings):
    callback = settings.SITE_URL + reverse("virtualmeeting:auth_callback", args=["zoom"])
    server = start_server(port=0, db_path=str(tmp_path / "zoomsim.sqlite3"), redirect_uri=callback)
    settings.ZOOM_OAUTH_BASE_URL = server.oauth_base_url
    settings.ZOOM_API_BASE_URL = server.api_base_url
    settings.VIRTUALMEETING = {"PROVIDERS": ["virtualmeeting_zoom.provider.ZoomProvider"]}
    settings.REDIS_URL = ""  # the rate buckets in the database: this test touches no Redis
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    yield server
    server.stop()


@pytest.fixture
def hosts(zoom_sim, db):
    call_command("virtualmeeting_zoom_configure", simulator=zoom_sim.url, stdout=io.StringIO())
    ProviderConfig.objects.filter(provider="zoom").update(hosting="account")
    zoom_sim.add_users(
        users=[
            {"email": "alice@zoomsim.test", "first_name": "Alice", "last_name": "Host", "type": 2},
            {"email": "bert@zoomsim.test", "first_name": "Bert", "last_name": "Host", "type": 2},
        ]
    )
    provider = get_provider("zoom")
    return provider.account_user("alice@zoomsim.test"), provider.account_user("bert@zoomsim.test")


def alive(zoom_sim, email):
    return [m for m in zoom_sim.meetings(host=email) if not m["deleted"]]


def approved(zoom_sim, meeting_id):
    return [r for r in zoom_sim.registrants(meeting_id) if r["status"] == "approved"]


def join(client, learner, session):
    client.force_login(learner)
    with time_machine.travel(session.start - timedelta(minutes=5), tick=True):
        response = client.get(reverse("seminars:virtual_join", args=[session.pk]))
    assert response.status_code == 302
    return response["Location"]


def test_a_meeting_handed_to_another_host_keeps_the_learner_joining_and_carries_the_registration(
    client, zoom_sim, hosts, event, editing_trainer, learner, django_capture_on_commit_callbacks
):
    alice, bert = hosts
    room = Room.objects.create(
        event=event,
        name="Online",
        capacity=20,
        virtual_kind="zoom",
        virtual_hosting="account",
        virtual_host=alice.remote_id,
        virtual_host_email=alice.email,
        created_by=editing_trainer,
    )
    session = event.sessions.get()
    session.room = room
    session.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_meetings_sync(event=event)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(event=event, user=learner, actor=learner)
    reference = meeting_reference(session, room)
    old = VirtualMeeting.objects.get(reference=reference)
    [made] = alive(zoom_sim, "alice@zoomsim.test")
    assert (old.status, old.remote_id, old.registration) == ("available", str(made["id"]), True)
    [registrant] = approved(zoom_sim, old.remote_id)
    old_link = join(client, learner, session)
    assert old_link == registrant["join_url"]

    # Handed to Bert, whose daily budget is spent: his meeting waits, Alice's stays in use.
    limits.daily_quota_exhaust(bert.remote_id)
    Room.objects.filter(pk=room.pk).update(virtual_host=bert.remote_id, virtual_host_email=bert.email)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_meetings_sync(event=event)
    row = VirtualMeeting.objects.get(pk=old.pk)
    assert (row.status, row.old_remote_id, row.remote_id) == ("waiting", old.remote_id, "")
    assert join(client, learner, session) == old_link
    assert alive(zoom_sim, "bert@zoomsim.test") == [] and len(alive(zoom_sim, "alice@zoomsim.test")) == 1

    # The budget is back: Bert's meeting is made, then Alice's deleted; the learner is registered in the new one.
    ZoomDailyUsage.objects.filter(zoom_user_id=bert.remote_id).delete()
    VirtualMeeting.objects.filter(pk=old.pk).update(next_attempt_at=row.updated_at - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert meeting_sync(old.pk) == ["create", "delete (owner changed)"]

    row = VirtualMeeting.objects.get(pk=old.pk)
    [new] = alive(zoom_sim, "bert@zoomsim.test")
    assert alive(zoom_sim, "alice@zoomsim.test") == []
    assert (row.status, row.remote_id, row.remote_host, row.old_remote_id) == (
        "available",
        str(new["id"]),
        bert.remote_id,
        "",
    )
    [registrant] = approved(zoom_sim, row.remote_id)
    assert MeetingRegistrant.objects.get(meeting=row, key=booking_key(booking.pk)).status == "registered"
    new_link = join(client, learner, session)
    assert new_link == registrant["join_url"] != old_link
