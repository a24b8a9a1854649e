"""An admin whose email is no user of the site's Zoom account makes a room there: in the room dialog they search
the account's users for "ali", pick Alice (a Basic user: the capacity warning says her meetings hold 100), save;
the room's card says Alice hosts it, and the worker makes the meeting for Alice in the simulator."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import fill_session, live_meetings, open_zoom_room, tomorrow_at, wait_for, zoom_site_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNT_ID = "acctA-zoomsim00000001"
ALICE = "alice@zoomsim.test"


def test_an_admin_picks_the_host_of_a_room_in_the_sites_account(browse, screenshot, live_server, zoom, cast, worker):
    from seminars.models import Room

    zoom_site_account(
        zoom,
        [
            {"email": ALICE, "first_name": "Alice", "last_name": "Archer", "type": 1},
            {"email": "alfred@zoomsim.test", "first_name": "Alfred", "last_name": "Ames", "type": 2},
        ],
    )

    admin = browse(cast.admin)
    admin.goto(f"{live_server.url}/seminars/{cast.seminar.pk}/")
    admin.get_by_role("link", name="Add event").click()
    admin.get_by_label("Event name").fill("Online wardens")
    admin.locator("input[name=capacity]").fill("150")
    admin.get_by_role("button", name="Add session").click()
    session = fill_session(admin, 1, tomorrow_at(10), 60, "UTC")
    dialog = open_zoom_room(admin, session, name="Online", capacity=150)

    # No user of the account has the admin's email: nothing is chosen, and OK says a host is needed.
    hosts = dialog.get_by_role("radiogroup", name="Host")
    expect(hosts.get_by_role("radio")).not_to_have_count(0)
    expect(hosts.get_by_role("radio", checked=True)).to_have_count(0)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Choose a host for this room.")

    dialog.get_by_role("searchbox", name="Host", exact=True).fill("ali")
    alice = hosts.get_by_role("radio", name="Alice Archer (alice@zoomsim.test) · Basic")
    expect(alice).to_be_visible()
    expect(hosts.get_by_role("radio")).to_have_count(1)  # Alfred has no "ali"
    alice.check()
    expect(dialog.get_by_text("Room capacity 150 is more than this host's meeting limit (100).")).to_be_visible()
    screenshot(admin, "zoom-room-host-picker", full_page=False)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Saved Online wardens.")).to_be_visible()

    room = Room.objects.get(name="Online")
    assert (room.virtual_hosting, room.virtual_host_email) == ("account", ALICE)
    admin.goto(live_server.url + reverse("seminars:room", args=[room.pk]))
    expect(admin.get_by_text(f"Hosted by {ALICE} in the site's Zoom account.")).to_be_visible()

    [meeting] = wait_for(lambda: live_meetings(zoom, host=ALICE), what="the meeting made for Alice")
    assert meeting["topic"].startswith("Fire wardens")
    assert live_meetings(zoom, host="alfred@zoomsim.test") == []
