"""An admin makes a room in the site's Zoom account: in the room dialog they pick its host (Alfred) and, below,
an alternative host (Lena, found by searching "len" and added with the keyboard-reachable "Add" button; a chip
with "Remove" shows her), save; the room's card names both, and the worker makes the meeting for Alfred with
Lena as its alternative host in the simulator."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import fill_session, open_zoom_room, tomorrow_at, wait_for, zoom_site_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALFRED = "alfred@zoomsim.test"
LENA = "lena@zoomsim.test"


def test_an_admin_names_an_alternative_host_in_the_room_dialog(browse, screenshot, live_server, zoom, cast, worker):
    from seminars.models import Room
    from virtualmeeting.models import VirtualMeeting

    zoom_site_account(
        zoom,
        [
            {"email": ALFRED, "first_name": "Alfred", "last_name": "Ames", "type": 2},
            {"email": LENA, "first_name": "Lena", "last_name": "Lund", "type": 2},
            {"email": "lenny@zoomsim.test", "first_name": "Lenny", "last_name": "Low", "type": 1},
        ],
    )

    admin = browse(cast.admin)
    admin.goto(f"{live_server.url}/seminars/{cast.seminar.pk}/")
    admin.get_by_role("link", name="Add event").click()
    admin.get_by_label("Event name").fill("Online wardens")
    admin.get_by_role("button", name="Add session").click()
    session = fill_session(admin, 1, tomorrow_at(10), 60, "UTC")
    dialog = open_zoom_room(admin, session, name="Online", capacity=20)

    dialog.get_by_role("searchbox", name="Host", exact=True).fill("alf")
    dialog.get_by_role("radiogroup", name="Host").get_by_role(
        "radio", name="Alfred Ames (alfred@zoomsim.test) · Licensed"
    ).check()

    dialog.get_by_role("searchbox", name="Alternative hosts").fill("len")
    found = dialog.get_by_role("list", name="Users found")
    expect(found.get_by_role("listitem")).to_have_count(2)
    # Lenny is a Basic user: Zoom lets only licensed users be alternative hosts.
    expect(
        found.get_by_role("button", name="Add Lenny Low (lenny@zoomsim.test) as an alternative host")
    ).to_be_disabled()
    add_lena = found.get_by_role("button", name="Add Lena Lund (lena@zoomsim.test) as an alternative host")
    add_lena.focus()
    admin.keyboard.press("Enter")
    chosen = dialog.get_by_role("list", name="Alternative hosts chosen")
    expect(
        chosen.get_by_role("button", name="Remove Lena Lund (lena@zoomsim.test) from the alternative hosts")
    ).to_be_visible()
    expect(found.get_by_role("listitem")).to_have_count(1)  # Lena is no longer offered
    screenshot(admin, "zoom-room-alternative-hosts", full_page=False)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Saved Online wardens.")).to_be_visible()

    room = Room.objects.get(name="Online")
    assert (room.virtual_host_email, room.virtual_alternative_hosts) == (ALFRED, [LENA])
    admin.goto(live_server.url + reverse("seminars:room", args=[room.pk]))
    expect(
        admin.get_by_text(f"Hosted by {ALFRED} in the site's Zoom account, with {LENA} as alternative host.")
    ).to_be_visible()

    meeting = wait_for(
        lambda: VirtualMeeting.objects.filter(status="available", remote_host__gt="").first(),
        what="the meeting made for Alfred",
    )
    assert meeting.synced_spec["alternative_hosts"] == [LENA]
    [made] = zoom.meetings(host=ALFRED)
    assert not made["deleted"]
