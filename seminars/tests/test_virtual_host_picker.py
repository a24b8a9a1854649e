"""The host of a room made in the site's Zoom account, chosen in the room dialog: the JSON route lists the
account's active users (GET /users, every page, kept a minute), searched by name or email, with their licence
and the viewer's own user as the default; on save the chosen id is checked with Zoom (GET /users/{id}): an
active user hosts the room and its meetings, a stale or unknown one is refused and nothing is saved.
Zoom is stubbed with `responses` (an unexpected request fails the test)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from seminars.meetings import meeting_reference
from seminars.models import Room
from seminars.tests import test_virtual_site_account as site_account
from seminars.tests.test_virtual_site_account import NEW_ROOM, no_zoom_user, post, zoom_user
from virtualmeeting.models import VirtualMeeting
from virtualmeeting_zoom.tests.conftest import API


@pytest.fixture
def admin_client(client, site_admin):
    client.force_login(site_admin)
    return client


zoom = site_account.zoom  # the site's Zoom account, stubbed (autouse)

ALICE = {"id": "aLiCe-1", "email": "alice@example.com", "first_name": "Alice", "last_name": "Archer", "type": 1}
BOB = {"id": "bOb-2", "email": "bob@example.com", "first_name": "Bob", "last_name": "Baker", "type": 2}
MALIK = {"id": "mAlIk-3", "email": "m.k@example.com", "first_name": "Malik", "last_name": "Khan", "type": 3}


def list_users(mocked, pages):
    """GET /users?status=active&page_size=300, page i answering next_page_token `t<i>`."""

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        assert query["status"] == ["active"] and query["page_size"] == ["300"]
        index = int(query.get("next_page_token", ["t0"])[0][1:])
        token = f"t{index + 1}" if index + 1 < len(pages) else ""
        body = {"page_size": 300, "next_page_token": token, "users": [dict(u, status="active") for u in pages[index]]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    mocked.add_callback("GET", f"{API}/users", callback=answer)


def users_calls(mocked):
    return [c for c in mocked.calls if urlsplit(c.request.url).path.endswith("/v2/users")]


def search(client, q, provider="zoom"):
    return client.get(reverse("seminars:account_users"), {"provider": provider, "q": q})


def test_the_search_lists_every_page_filtered_with_licences_and_is_kept_a_minute(admin_client, site_admin, zoom):
    list_users(zoom.mocked, [[BOB, ALICE], [MALIK]])
    no_zoom_user(zoom.mocked, site_admin.email)
    start = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    with time_machine.travel(start):  # ticking: the per-second buckets refill
        response = search(admin_client, "ali")
        assert response.status_code == 200, response.content
        assert response.json() == {
            "users": [
                {
                    "id": "aLiCe-1",
                    "name": "Alice Archer",
                    "email": "alice@example.com",
                    "licence": "Basic",
                    "capacity": 100,
                    "licensed": False,
                },
                {
                    "id": "mAlIk-3",
                    "name": "Malik Khan",
                    "email": "m.k@example.com",
                    "licence": "On-prem",
                    "capacity": 100,
                    "licensed": True,
                },
            ],
            "default": None,
        }
        assert len(users_calls(zoom.mocked)) == 2  # both pages
        assert [u["email"] for u in search(admin_client, "BOB@").json()["users"]] == ["bob@example.com"]
        assert search(admin_client, "").json()["users"][1]["licence"] == "Licensed"
        assert len(users_calls(zoom.mocked)) == 2  # kept
    with time_machine.travel(start + timedelta(seconds=59)):
        search(admin_client, "a")
        assert len(users_calls(zoom.mocked)) == 2
    with time_machine.travel(start + timedelta(seconds=61)):
        search(admin_client, "a")
        assert len(users_calls(zoom.mocked)) == 4  # asked again


def test_the_viewers_own_user_is_the_default(client, editing_trainer, zoom):
    list_users(zoom.mocked, [[ALICE]])
    zoom_user(zoom.mocked, editing_trainer.email, user_id="eDnA-9")
    client.force_login(editing_trainer)
    data = search(client, "zzz").json()
    assert data["users"] == []
    assert (data["default"]["id"], data["default"]["email"], data["default"]["licence"]) == (
        "eDnA-9",
        editing_trainer.email,
        "Licensed",
    )


def test_zoom_refusing_the_list_is_said(admin_client, site_admin, zoom):
    zoom.mocked.get(f"{API}/users", status=400, json={"code": 4711, "message": "Invalid access token, scopes."})
    response = search(admin_client, "a")
    assert response.status_code == 200
    assert "scopes" in response.json()["error"] and response.json()["users"] == []


def test_no_site_account_no_search(admin_client, site_admin, zoom):
    from virtualmeeting.models import ProviderConfig

    ProviderConfig.objects.filter(provider="zoom").update(hosting="user")
    assert search(admin_client, "a").status_code == 404
    assert search(admin_client, "a", provider="nope").status_code == 404
    assert users_calls(zoom.mocked) == []


def test_a_chosen_host_hosts_the_room_and_its_meetings(
    client, event, site_admin, zoom, django_capture_on_commit_callbacks
):
    lookup = zoom.mocked.get(f"{API}/users/aLiCe-1", json=dict(ALICE, status="active"))
    client.force_login(site_admin)  # no user of the account has the admin's email: never asked

    response = post(client, event, {**NEW_ROOM, "virtual_host": "aLiCe-1"}, django_capture_on_commit_callbacks)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert lookup.call_count == 1
    room = Room.objects.get(event=event)
    assert (room.virtual_hosting, room.virtual_host, room.virtual_host_email) == (
        "account",
        "aLiCe-1",
        "alice@example.com",
    )
    meeting = VirtualMeeting.objects.get(reference=meeting_reference(event.sessions.get(), room))
    assert (meeting.hosting, meeting.host, meeting.remote_host) == ("account", "aLiCe-1", "aLiCe-1")
    assert list(zoom.hosts.values()) == ["aLiCe-1"]


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "json": {"code": 1001, "message": "User does not exist: gone-1."}},
        {"json": dict(ALICE, id="gone-1", status="inactive")},
    ],
    ids=["unknown", "deactivated"],
)
def test_a_stale_or_unknown_host_is_refused_and_nothing_is_saved(
    client, event, site_admin, zoom, django_capture_on_commit_callbacks, answer
):
    zoom.mocked.get(f"{API}/users/gone-1", **answer)
    client.force_login(site_admin)

    response = post(client, event, {**NEW_ROOM, "virtual_host": "gone-1"}, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "The chosen host is not an active user of the site&#x27;s Zoom account" in response.content.decode()
    assert not Room.objects.filter(event=event).exists() and not VirtualMeeting.objects.exists()
    assert zoom.meetings == {}


def test_the_dialog_has_the_picker_with_its_address(admin_client, event):
    html = admin_client.get(reverse("seminars:event_edit", args=[event.pk])).content.decode()
    assert f'data-users-url="{reverse("seminars:account_users")}?provider=zoom"' in html
    assert "js/host_picker.js" in html
