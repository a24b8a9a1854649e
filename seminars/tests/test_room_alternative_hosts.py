"""Alternative hosts of a room in the site's Zoom account, named in the room dialog beside the host: each newly
named one is asked of Zoom before the saving transaction (GET /users/{email}, once per person) and must be an
active, licensed user of the account and not the host; at most ALTERNATIVE_HOSTS_MAX. Any problem is said beside
the room and nothing is saved. The room's meetings carry them (settings.alternative_hosts), and changing them is
an update of the same meeting. Zoom is stubbed with `responses` (an unexpected request fails the test)."""

import re

import pytest
from django.urls import reverse

from seminars.meetings import meeting_reference
from seminars.models import Room
from seminars.services.rooms import ALTERNATIVE_HOSTS_MAX
from seminars.tests import test_virtual_site_account as site_account
from seminars.tests.test_virtual_site_account import NEW_ROOM, post
from virtualmeeting.models import VirtualMeeting
from virtualmeeting_zoom.tests.conftest import API

zoom = site_account.zoom  # the site's Zoom account, stubbed (autouse)

ALICE = {"id": "aLiCe-1", "email": "alice@example.com", "first_name": "Alice", "last_name": "Archer", "type": 2}
LENA = {"id": "lEnA-2", "email": "lena@example.com", "first_name": "Lena", "last_name": "Lund", "type": 2}
OMAR = {"id": "oMaR-3", "email": "omar@example.com", "first_name": "Omar", "last_name": "Okafor", "type": 3}
BEA = {"id": "bEa-4", "email": "bea@example.com", "first_name": "Bea", "last_name": "Basic", "type": 1}
GONE = {"id": "gOnE-5", "email": "gone@example.com", "first_name": "Gus", "last_name": "Gone", "type": 2}


def zoom_users(mocked, *active, inactive=(), missing=()):
    """GET /users/{email} (and Alice's id) as Zoom answers it; each stub counts its calls."""
    stubs = {}
    for user in active:
        stubs[user["email"]] = mocked.get(f"{API}/users/{user['email']}", json=dict(user, status="active"))
    for user in inactive:
        stubs[user["email"]] = mocked.get(f"{API}/users/{user['email']}", json=dict(user, status="inactive"))
    for email in missing:
        body = {"code": 1001, "message": f"User does not exist: {email}."}
        stubs[email] = mocked.get(f"{API}/users/{email}", status=404, json=body)
    stubs["aLiCe-1"] = mocked.get(f"{API}/users/aLiCe-1", json=dict(ALICE, status="active"))
    return stubs


def new_room(*alternatives):
    return {**NEW_ROOM, "virtual_host": "aLiCe-1", "virtual_alternative_hosts": list(alternatives)}


@pytest.fixture
def admin(client, site_admin):
    client.force_login(site_admin)  # no user of the account has the admin's email: never asked
    return client


def errors_in(response) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)


def meeting_of(event, room):
    return VirtualMeeting.objects.get(reference=meeting_reference(event.sessions.get(), room))


def test_a_room_names_alternative_hosts_and_its_meeting_carries_them(
    admin, event, zoom, django_capture_on_commit_callbacks
):
    stubs = zoom_users(zoom.mocked, LENA, OMAR)

    response = post(
        admin,
        event,
        new_room("lena@example.com", "omar@example.com", "lena@example.com"),
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 302, errors_in(response)
    assert [stub.call_count for stub in stubs.values()] == [1, 1, 1]  # Lena, Omar, the host: once each
    room = Room.objects.get(event=event)
    assert (room.virtual_host, room.virtual_alternative_hosts) == ("aLiCe-1", ["lena@example.com", "omar@example.com"])
    meeting = meeting_of(event, room)
    assert meeting.alternative_hosts == ["lena@example.com", "omar@example.com"]
    [made] = zoom.meetings.values()
    assert made["settings"]["alternative_hosts"] == "lena@example.com;omar@example.com"
    assert made["settings"]["alternative_hosts_email_notification"] is False


REFUSALS = {
    "unknown": (
        ("nobody@example.com",),
        "Alternative host nobody@example.com is not an active user of the site&#x27;s Zoom account",
    ),
    "deactivated": (
        ("gone@example.com",),
        "Alternative host gone@example.com is not an active user of the site&#x27;s Zoom account",
    ),
    "basic": (
        ("bea@example.com",),
        "Alternative host Bea Basic (bea@example.com) is a Basic (unlicensed) user of the site&#x27;s Zoom account",
    ),
    "the-host": (
        ("alice@example.com",),
        "Alice Archer (alice@example.com) hosts this room, so they cannot also be one of its alternative hosts",
    ),
    "too-many": (
        tuple(f"person{n}@example.com" for n in range(ALTERNATIVE_HOSTS_MAX + 1)),
        f"Name at most {ALTERNATIVE_HOSTS_MAX} alternative hosts.",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_wrong_alternative_host_is_said_beside_the_room_and_nothing_is_saved(
    admin, event, zoom, django_capture_on_commit_callbacks, case
):
    named, message = REFUSALS[case]
    stubs = zoom_users(zoom.mocked, LENA, BEA, ALICE, inactive=[GONE], missing=["nobody@example.com"])

    response = post(admin, event, new_room("lena@example.com", *named), django_capture_on_commit_callbacks)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert not Room.objects.filter(event=event).exists() and not VirtualMeeting.objects.exists()
    assert zoom.meetings == {}
    if case == "too-many":
        assert stubs["lena@example.com"].call_count == 0  # refused without asking Zoom


def test_changing_them_updates_the_same_meeting_and_asks_only_about_the_new_one(
    admin, event, zoom, django_capture_on_commit_callbacks
):
    stubs = zoom_users(zoom.mocked, LENA, OMAR, BEA)
    post(admin, event, new_room("lena@example.com"), django_capture_on_commit_callbacks)
    room = Room.objects.get(event=event)
    meeting = meeting_of(event, room)
    [remote_id] = zoom.meetings
    kept = {"mode": "adhoc", "id": room.pk, "name": room.name, "capacity": room.capacity, "virtual_kind": "zoom"}

    response = post(
        admin,
        event,
        {**kept, "virtual_alternative_hosts": ["lena@example.com", "omar@example.com"]},
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 302, errors_in(response)
    assert (stubs["lena@example.com"].call_count, stubs["omar@example.com"].call_count) == (1, 1)  # Lena kept
    room.refresh_from_db()
    assert (room.virtual_host, room.virtual_alternative_hosts) == ("aLiCe-1", ["lena@example.com", "omar@example.com"])
    assert list(zoom.meetings) == [remote_id]  # updated, not made again
    assert zoom.last_update_fields == {"settings"}
    assert zoom.meetings[remote_id]["settings"]["alternative_hosts"] == "lena@example.com;omar@example.com"
    assert meeting_of(event, room).pk == meeting.pk

    # A Basic user added to them: refused, and the room and its meeting stay as they were.
    response = post(
        admin,
        event,
        {**kept, "virtual_alternative_hosts": ["omar@example.com", "bea@example.com"]},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200 and "Bea Basic (bea@example.com) is a Basic" in response.content.decode()
    room.refresh_from_db()
    assert room.virtual_alternative_hosts == ["lena@example.com", "omar@example.com"]
    assert meeting_of(event, room).alternative_hosts == ["lena@example.com", "omar@example.com"]

    # All removed: no one to ask about; the meeting is told so.
    response = post(admin, event, {**kept, "virtual_alternative_hosts": []}, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.virtual_alternative_hosts == [] and zoom.meetings[remote_id]["settings"]["alternative_hosts"] == ""
    assert (stubs["lena@example.com"].call_count, stubs["omar@example.com"].call_count) == (1, 1)


def test_a_room_outside_the_site_account_cannot_name_them(admin, event, zoom, django_capture_on_commit_callbacks):
    custom = {**NEW_ROOM, "virtual_kind": "custom", "virtual_url": "https://meet.example.com/r/1"}

    response = post(
        admin, event, {**custom, "virtual_alternative_hosts": ["lena@example.com"]}, django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert (
        "Alternative hosts can only be named for a room whose meetings are made in the site"
        in response.content.decode()
    )
    assert not Room.objects.filter(event=event).exists()


def test_the_dialog_knows_a_saved_rooms_alternative_hosts(admin, event, zoom, django_capture_on_commit_callbacks):
    zoom_users(zoom.mocked, LENA)
    post(admin, event, new_room("lena@example.com"), django_capture_on_commit_callbacks)
    room = Room.objects.get(event=event)

    page = admin.get(reverse("seminars:event_edit", args=[event.pk])).content.decode()
    available = admin.get(
        reverse("seminars:rooms_available"),
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "zone": "UTC", "event": event.pk},
    ).json()

    assert "&quot;virtual_alternative_hosts&quot;: [&quot;lena@example.com&quot;]" in page
    assert "&quot;in_site_account&quot;: true" in page
    [adhoc] = [r for r in available["adhoc"] if r["id"] == room.pk]
    assert (adhoc["in_site_account"], adhoc["virtual_alternative_hosts"]) == (True, ["lena@example.com"])
