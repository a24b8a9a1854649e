"""Rooms in the site's Zoom account (ProviderConfig.hosting "account"): a room made now records the hosting and
its host (the maker's own user of the account, found by their email); its meetings are made for that host with
the account's token; no host means the room dialog says so and nothing is saved; an existing room keeps its way;
"Host meeting" is offered to the room's owner, the host's own LMS user, the LMS users of its alternative hosts and
site admins (permission matrix).
Zoom is stubbed with `responses` (virtualmeeting_zoom's FakeZoom plus the user look-ups)."""

import uuid
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from django.urls import reverse

from seminars.meetings import meeting_reference
from seminars.models import Room
from seminars.tests.conftest import enrol, event_post_data, make_user
from virtualmeeting.models import ProviderConfig, ProviderConnection, VirtualMeeting
from virtualmeeting_zoom.tests.conftest import API, OAUTH
from virtualmeeting_zoom.tests.fake_zoom import FakeZoom

HOST_ID = "hOsT-eDnA-1"
NEW_ROOM = {"mode": "new", "name": "Online", "capacity": 20, "description": "", "virtual_kind": "zoom"}


@pytest.fixture(autouse=True)
def zoom(settings, db):
    settings.ZOOM_OAUTH_BASE_URL = OAUTH
    settings.ZOOM_API_BASE_URL = API
    settings.VIRTUALMEETING = {"PROVIDERS": ["virtualmeeting_zoom.provider.ZoomProvider"]}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    ProviderConfig.objects.update_or_create(
        provider="zoom",
        defaults={
            "enabled": True,
            "client_id": "zoomClientId123",
            "client_secret": "zoom-client-secret-value",
            "hosting": "account",
            "account_id": "AcCoUnT-1",
            "account_client_id": "s2sClientId",
            "account_client_secret": "s2s-secret",
            "options": {"create_per_second": 1000, "light_per_second": 1000},
        },
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        fake = FakeZoom(mocked)
        fake.mocked = mocked
        yield fake


def zoom_user(mocked, email, *, user_id=HOST_ID, status="active"):
    body = {"id": user_id, "email": email, "first_name": "Edna", "last_name": "Editor", "type": 2, "status": status}
    return mocked.get(f"{API}/users/{email}", json=body)


def no_zoom_user(mocked, email):
    body = {"code": 1001, "message": f"User does not exist: {email}."}
    return mocked.get(f"{API}/users/{email}", status=404, json=body)


def local(moment, zone="UTC"):
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def rows_for(event, room):
    session = event.sessions.get()
    return [{"id": session.pk, "start": local(session.start), "finish": local(session.finish), "room": room}]


def post(client, event, room, capture):
    data = event_post_data(sessions=rows_for(event, room), initial_forms=1)
    with capture(execute=True):
        return client.post(reverse("seminars:event_edit", args=[event.pk]), data)


def test_a_room_made_in_the_site_account_gets_meetings_under_its_host(
    client, event, editing_trainer, zoom, django_capture_on_commit_callbacks
):
    lookup = zoom_user(zoom.mocked, editing_trainer.email)
    client.force_login(editing_trainer)  # no Zoom connection of her own: the site account needs none

    response = post(client, event, NEW_ROOM, django_capture_on_commit_callbacks)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert lookup.call_count == 1
    room = Room.objects.get(event=event)
    assert (room.virtual_hosting, room.virtual_host, room.virtual_host_email) == (
        "account",
        HOST_ID,
        editing_trainer.email,
    )
    meeting = VirtualMeeting.objects.get(reference=meeting_reference(event.sessions.get(), room))
    assert (meeting.hosting, meeting.host, meeting.remote_host, meeting.status) == (
        "account",
        HOST_ID,
        HOST_ID,
        "available",
    )
    assert meeting.owner_id == editing_trainer.pk
    assert list(zoom.hosts.values()) == [HOST_ID]  # POST /users/{host}/meetings
    assert not ProviderConnection.objects.exists()


def test_no_host_in_the_account_is_said_in_the_dialog_and_nothing_is_saved(
    client, event, editing_trainer, zoom, django_capture_on_commit_callbacks
):
    no_zoom_user(zoom.mocked, editing_trainer.email)
    client.force_login(editing_trainer)

    response = post(client, event, NEW_ROOM, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a host for this room: its meetings are made in the site&#x27;s Zoom account" in html
    assert editing_trainer.email in html
    assert not Room.objects.filter(event=event).exists() and not VirtualMeeting.objects.exists()
    assert zoom.meetings == {}


def test_zoom_unreachable_for_the_host_is_said_and_nothing_is_saved(
    client, event, editing_trainer, zoom, django_capture_on_commit_callbacks
):
    zoom.mocked.get(f"{API}/users/{editing_trainer.email}", body=requests.ConnectTimeout("down"))
    client.force_login(editing_trainer)

    response = post(client, event, NEW_ROOM, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "Zoom could not be asked for this room&#x27;s host: Zoom could not be reached in time" in (
        response.content.decode()
    )
    assert not Room.objects.filter(event=event).exists()


def test_a_deactivated_zoom_user_is_no_host(client, event, editing_trainer, zoom, django_capture_on_commit_callbacks):
    zoom_user(zoom.mocked, editing_trainer.email, status="inactive")
    client.force_login(editing_trainer)
    response = post(client, event, NEW_ROOM, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "Choose a host for this room" in response.content.decode()


def test_an_existing_room_keeps_its_way_when_the_site_switches(
    client, event, editing_trainer, zoom, django_capture_on_commit_callbacks
):
    room = Room.objects.create(name="Online", capacity=20, event=event, virtual_kind="zoom", created_by=editing_trainer)
    assert room.virtual_hosting == "user"  # rooms made before the site account existed
    session = event.sessions.get()
    session.room = room
    session.save()
    choice = {**NEW_ROOM, "mode": "adhoc", "id": room.pk, "name": "Online (renamed)"}
    client.force_login(editing_trainer)

    response = post(client, event, choice, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.virtual_hosting, room.virtual_host) == ("Online (renamed)", "user", "")
    meeting = VirtualMeeting.objects.get()
    assert (meeting.hosting, meeting.host) == ("user", "")  # still the owner's own connection
    assert [call.request.url for call in zoom.mocked.calls if "/users/" in call.request.url] == []


# --- "Host meeting": the room's owner, the host's own LMS user, its alternative hosts', site admins ----------


@pytest.fixture
def account_room(event, editing_trainer, zoom):
    """A room in the site account hosted by Hana (the Zoom user hana@example.com), with Alva (alva@example.com)
    as alternative host, made by Edna, with its meeting."""
    room = Room.objects.create(
        name="Online",
        capacity=20,
        event=event,
        virtual_kind="zoom",
        created_by=editing_trainer,
        virtual_hosting="account",
        virtual_host=HOST_ID,
        virtual_host_email="Hana@Example.com",
        virtual_alternative_hosts=["Alva@Example.com"],
    )
    session = event.sessions.get()
    session.room = room
    session.save()
    zoom.meetings["81234567890"] = {
        "topic": "t",
        "start_time": session.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": 60,
        "timezone": "UTC",
        "created_at": "2026-01-01T00:00:00Z",
    }
    VirtualMeeting.objects.create(
        reference=meeting_reference(session, room),
        provider="zoom",
        owner=editing_trainer,
        hosting="account",
        host=HOST_ID,
        remote_host=HOST_ID,
        remote_owner=editing_trainer,
        remote_id="81234567890",
        join_url="https://zoom.us/j/81234567890?pwd=p",
        status="available",
        start=session.start,
        finish=session.finish,
        time_zone="UTC",
        synced_version=1,
    )
    return room, session


@pytest.fixture
def hana(event):
    user = make_user("hana")  # hana@example.com
    enrol(user, event.seminar.course)  # a learner of the course, who is also the room's host in Zoom
    return user


@pytest.fixture
def alva(event):
    user = make_user("alva")  # alva@example.com
    enrol(user, event.seminar.course)  # a learner of the course, named an alternative host of the room in Zoom
    return user


# Who gets "Host meeting": the start URL (302 to Zoom), else refused (403), or the session is not theirs to see (404).
HOSTS = {
    "editing_trainer": 302,
    "hana": 302,
    "alva": 302,
    "site_admin": 302,
    "trainer": 403,
    "learner": 403,
    "outsider": 404,
}


@pytest.mark.parametrize("who", [*HOSTS, "anonymous"])
def test_host_meeting_matrix(client, account_room, who, request, hana, alva):
    room, session = account_room
    url = reverse("seminars:virtual_host", args=[session.pk])
    if who != "anonymous":
        client.force_login({"hana": hana, "alva": alva}.get(who) or request.getfixturevalue(who))
    response = client.get(url)
    if who == "anonymous":
        assert response.status_code == 302 and "login" in response["Location"]
        return
    assert response.status_code == HOSTS[who]
    if HOSTS[who] == 302:
        # A fresh start URL for the host, fetched at the click with the account's token.
        assert response.status_code == 302
        assert response["Location"].startswith("https://zoom.us/s/81234567890?zak=")
        get = next(
            c.request for c in request.getfixturevalue("zoom").mocked.calls if "/meetings/81234567890" in c.request.url
        )
        assert get.headers["Authorization"].startswith("Bearer account-")


def test_the_room_card_offers_host_meeting_to_the_host_and_admins(
    client, account_room, site_admin, hana, alva, trainer
):
    room, session = account_room
    for user, hosts in ((hana, True), (alva, True), (site_admin, True), (trainer, False)):
        client.force_login(user)
        html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
        assert (reverse("seminars:virtual_host", args=[session.pk]) in html) is hosts, user
        assert (
            "Hosted by Hana@Example.com in the site&#x27;s Zoom account, with Alva@Example.com as alternative host. "
            "Host meeting is offered to the room&#x27;s owner, the people whose emails these are, and site admins."
        ) in html
