"""Meetings of the site's Zoom account against the Zoom simulator over HTTP: the account token makes a meeting
for a seeded host of the account, a moved session updates it, a removed one deletes it, and a trainer's meeting
in their own connection (the General App) beside it is untouched."""

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from bench.harness import connect_trainer
from simulators.zoom.server import start_server
from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.registry import get_provider
from virtualmeeting.services import meeting_host_url, meeting_put, meeting_remove
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom.models import ZoomDailyUsage


@pytest.fixture
def zoom_sim(tmp_path, settings):
    callback = settings.SITE_URL + reverse("virtualmeeting:auth_callback", args=["zoom"])
    server = start_server(port=0, db_path=str(tmp_path / "zoomsim.sqlite3"), redirect_uri=callback)
    settings.ZOOM_OAUTH_BASE_URL = server.oauth_base_url
    settings.ZOOM_API_BASE_URL = server.api_base_url
    settings.REDIS_URL = ""  # the rate buckets in the database: this test touches no Redis
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    yield server
    server.stop()


@pytest.fixture
def provider(zoom_sim, db):
    call_command("virtualmeeting_zoom_configure", simulator=zoom_sim.url, stdout=io.StringIO())
    return get_provider("zoom")


def start_at(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


def put(reference, owner, start, **hosting):
    return meeting_put(
        reference=reference,
        provider="zoom",
        owner=owner,
        topic="Safety training: Induction (session 1 of 1)",
        start=start,
        finish=start + timedelta(hours=1),
        time_zone="Europe/London",
        agenda="Bring a hard hat.",
        **hosting,
    )


def test_the_site_account_makes_moves_and_deletes_a_hosts_meeting(zoom_sim, provider):
    zoom_sim.add_users(users=[{"email": "host@zoomsim.test", "first_name": "Hana", "last_name": "Host"}])
    host = provider.account_user("host@zoomsim.test")
    assert host is not None and host.active and host.email == "host@zoomsim.test"
    assert provider.account_user("nobody@zoomsim.test") is None

    owner = User.objects.create(username="olga", email="olga@example.com")
    trainer = User.objects.create(username="tom", email="tom@example.com")
    connect_trainer(trainer, zoom_email="pro@zoomsim.test", sim_url=zoom_sim.url)
    personal = put("personal", trainer, start_at(3))
    assert meeting_sync(personal.pk) == ["create"]
    personal = VirtualMeeting.objects.get(pk=personal.pk)

    meeting = put("account", owner, start_at(4), hosting="account", host=host.remote_id)
    assert meeting_sync(meeting.pk) == ["create"]
    row = VirtualMeeting.objects.get(pk=meeting.pk)
    assert (row.status, row.remote_host) == ("available", host.remote_id)
    [made] = zoom_sim.meetings(host="host@zoomsim.test")
    assert str(made["id"]) == row.remote_id and made["start_time"].startswith(start_at(4).strftime("%Y-%m-%d"))
    # The host's daily budget is spent, not the personal trainer's.
    assert ZoomDailyUsage.objects.get(zoom_user_id=host.remote_id).count == 1

    # "Host meeting": a fresh start URL for the host, fetched with the account token, by whomever seminars allows.
    assert meeting_host_url(meeting=row, user=trainer).startswith("http")

    moved = put("account", owner, start_at(5), hosting="account", host=host.remote_id)
    assert meeting_sync(moved.pk) == ["update"]
    [made] = zoom_sim.meetings(host="host@zoomsim.test")
    assert made["start_time"].startswith(start_at(5).strftime("%Y-%m-%d")) and not made["deleted"]
    assert ZoomDailyUsage.objects.get(zoom_user_id=host.remote_id).count == 2

    meeting_remove(reference="account")
    assert meeting_sync(meeting.pk) == ["delete"]
    assert [m["deleted"] for m in zoom_sim.meetings(host="host@zoomsim.test")] == [True]
    assert VirtualMeeting.objects.get(pk=meeting.pk).status == "deleted"

    # The trainer's own meeting, in their General App connection, is as it was.
    [theirs] = zoom_sim.meetings(host="pro@zoomsim.test")
    assert (str(theirs["id"]), theirs["deleted"]) == (personal.remote_id, False)
    assert VirtualMeeting.objects.get(pk=personal.pk).status == "available"
    assert ProviderConnection.objects.get(user=trainer).status == "connected"


def test_a_host_not_in_the_account_fails_the_meeting_in_words(zoom_sim, provider):
    owner = User.objects.create(username="olga", email="olga@example.com")
    meeting = put("account", owner, start_at(4), hosting="account", host="gone@zoomsim.test")
    assert meeting_sync(meeting.pk) == ["failed"]
    row = VirtualMeeting.objects.get(pk=meeting.pk)
    assert row.status == "failed"
    assert row.last_error.startswith(
        "The host gone@zoomsim.test is not an active user of the site's Zoom account (Zoom error 1001): "
        "choose another host for the room. "
    )


def test_a_trainers_meeting_handed_to_a_host_after_their_connection_was_revoked(zoom_sim, provider):
    """The trainer's own meeting (General App) is made again for a host of the site's account, then deleted with
    the account token: the trainer's tokens were revoked in Zoom, and their user is in the site's account."""
    zoom_sim.add_users(users=[{"email": "host@zoomsim.test", "first_name": "Hana", "last_name": "Host"}])
    host = provider.account_user("host@zoomsim.test")
    trainer = User.objects.create(username="tom", email="tom@example.com")
    connect_trainer(trainer, zoom_email="pro@zoomsim.test", sim_url=zoom_sim.url)
    meeting = put("session", trainer, start_at(3))
    assert meeting_sync(meeting.pk) == ["create"]
    old_id = VirtualMeeting.objects.get(pk=meeting.pk).remote_id
    zoom_sim.revoke_tokens("pro@zoomsim.test")

    put("session", trainer, start_at(3), hosting="account", host=host.remote_id)
    # The trainer's connection is found revoked at the delete (Zoom refuses its token): the account deletes.
    assert meeting_sync(meeting.pk) == ["create", "delete (with the site account)"]

    row = VirtualMeeting.objects.get(pk=meeting.pk)
    [made] = [m for m in zoom_sim.meetings(host="host@zoomsim.test") if not m["deleted"]]
    assert (row.status, row.remote_id, row.remote_host, row.old_remote_id) == (
        "available",
        str(made["id"]),
        host.remote_id,
        "",
    )
    assert [(str(m["id"]), m["deleted"]) for m in zoom_sim.meetings(host="pro@zoomsim.test")] == [(old_id, True)]
    assert ProviderConnection.objects.get(user=trainer).status == "revoked"
