"""Issue 11's journey: one Zoom account for the whole site, and rooms that survive a trainer leaving.

The admin sets up the site's Server-to-Server app (a wrong secret first is named beside its field), a trainer
whose email is a licensed user of the account makes a room (no Zoom connection of their own), the admin makes
a room for another host, a learner books the trainer's event; the trainer is deactivated in the Django admin,
the admin is told, hands the trainer's rooms to another host of the account and watches the meeting move; in
the simulator it lives under the new host only, nobody's rooms need a new owner any more, the admin starts the
new meeting as its host, and the learner's "Join now" lands on the new meeting with their registration.

Whether the engine makes the new meeting before deleting the old one or after, the test waits on outcomes.
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import WAIT_MS, fill_session, live_meetings, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNT_ID = "acctA-zoomsim00000001"
S2S_CLIENT_ID = "zoomsim-s2s-client-id"
S2S_SECRET = "zoomsim-s2s-client-secret"
ALICE = "alice@zoomsim.test"
HAL = "hal@zoomsim.test"


def _make_room(page, live_server, seminar, *, event: str, room: str, start, host: str, host_search: str = "", shot):
    """The event editor: one session in a new Zoom room of the site's account hosted by `host` (the start of its
    line under "Host"). With `host_search`, the host is searched for and picked; otherwise the maker's own user
    of the account must be chosen already. `shot(page)` looks at the dialog before OK."""
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/")
    page.get_by_role("link", name="Add event").click()
    page.get_by_label("Event name").fill(event)
    page.locator("input[name=capacity]").fill("10")
    page.get_by_role("button", name="Add session").click()
    session = fill_session(page, 1, start, 60, "UTC")
    session.get_by_role("button", name="Select room").click()
    dialog = page.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill(room)
    dialog.get_by_label("Capacity", exact=True).fill("10")
    dialog.get_by_label("Add virtual room link").select_option(label="Zoom Meeting")
    hosts = dialog.get_by_role("radiogroup", name="Host")
    if host_search:
        dialog.get_by_role("searchbox", name="Host", exact=True).fill(host_search)
        expect(hosts.get_by_role("radio")).to_have_count(1)
        hosts.get_by_role("radio").check()
    expect(hosts.get_by_role("radio", checked=True)).to_have_count(1)
    chosen = hosts.get_by_role("radio", name=host)
    expect(chosen).to_be_checked()
    chosen.scroll_into_view_if_needed()
    expect(dialog.get_by_role("button", name="Connect")).to_be_hidden()  # nobody connects their own Zoom
    shot(page)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(f"Saved {event}.")).to_be_visible()


def test_the_sites_zoom_account_from_set_up_to_a_handover_the_learner_does_not_notice(
    browse, screenshot, live_server, zoom, worker, cast
):
    from seminars.models import Room, SeminarEvent

    trainer_email = cast.trainer.email
    zoom.add_users(
        users=[
            {"email": trainer_email, "first_name": "Edna", "last_name": "Editor", "type": 2},
            {"email": ALICE, "first_name": "Alice", "last_name": "Archer", "type": 2},
            {"email": HAL, "first_name": "Hal", "last_name": "Hughes", "type": 2},
        ]
    )
    # The admin manages people in the Django admin too (deactivating the trainer below).
    cast.admin.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))

    # 1. The site's account on the Zoom settings page: a wrong secret is named, then the right one connects.
    admin = browse(cast.admin)
    admin.goto(f"{live_server.url}/integrations/virtualmeeting/settings/zoom/")
    # No General App: the organisation runs Zoom centrally.
    admin.get_by_label("One Zoom account for the whole site").check()
    admin.get_by_label("Enabled").check()
    site_account = admin.get_by_role("group", name="One Zoom account for the whole site")
    site_account.get_by_label("Account ID").fill(ACCOUNT_ID)
    site_account.get_by_label("Client ID").fill(S2S_CLIENT_ID)
    site_account.get_by_label("Client secret").fill("not-the-secret")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    site_account.get_by_role("button", name="Test connection").click()
    secret_row = site_account.locator(".form-row").filter(has=admin.get_by_label("Client secret"))
    expect(secret_row.get_by_role("alert")).to_contain_text("Zoom did not accept the Client ID and Client secret")
    screenshot(admin, "journey-1-wrong-secret")

    site_account.get_by_label("Client secret").fill(S2S_SECRET)
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    site_account.get_by_role("button", name="Test connection").click()
    # Pat Pro and Bea Basic (seeded), Edna, Alice and Hal.
    expect(site_account.get_by_role("status")).to_have_text("Connected to the Zoom account: 5 active users.")
    expect(secret_row.get_by_role("alert")).to_have_count(0)
    screenshot(admin, "journey-1-connected")

    # 2. The trainer makes a room: their own user of the account is the host; they never connect Zoom.
    start = tomorrow_at(10)
    trainer = browse(cast.trainer)
    _make_room(
        trainer,
        live_server,
        cast.seminar,
        event="Evening drill",
        room="Drill room",
        start=start,
        host=f"Edna Editor ({trainer_email}) · Licensed",
        shot=lambda page: screenshot(page, "journey-2-trainers-own-host", full_page=False),
    )
    [old_meeting] = wait_for(lambda: live_meetings(zoom, host=trainer_email), what="the trainer's meeting")
    drill = Room.objects.get(name="Drill room")
    assert (drill.virtual_hosting, drill.virtual_host_email) == ("account", trainer_email)

    # 3. The admin makes a room for another host, found by searching the account.
    _make_room(
        admin,
        live_server,
        cast.seminar,
        event="Online wardens",
        room="Alice's room",
        start=start,
        host=f"Alice Archer ({ALICE}) · Licensed",
        host_search="ali",
        shot=lambda page: screenshot(page, "journey-3-admin-picks-alice", full_page=False),
    )
    [alice_meeting] = wait_for(lambda: live_meetings(zoom, host=ALICE), what="the meeting made for Alice")

    # 4. The learner books the trainer's event.
    event = SeminarEvent.objects.get(name="Evening drill")
    event_url = f"{live_server.url}{reverse('seminars:event', args=[event.pk])}"
    learner = browse(cast.learner)
    learner.goto(event_url)
    learner.get_by_role("button", name="Book").click()
    expect(learner.get_by_text("Booked", exact=True)).to_be_visible()

    # 5. The trainer leaves: deactivated in the Django admin. The admin is told and hands the rooms over.
    admin.goto(f"{live_server.url}{reverse('admin:auth_user_change', args=[cast.trainer.pk])}")
    admin.get_by_label("Active").uncheck()
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_text("was changed successfully")).to_be_visible()

    admin.goto(f"{live_server.url}/")
    bell = admin.get_by_label("Notifications: 1 unread")
    expect(bell).to_be_visible()
    bell.click()
    notice = admin.get_by_role("link", name="Rooms of Edna Editor need a new owner")
    expect(notice).to_be_visible()
    screenshot(admin, "journey-5-bell", full_page=False)

    admin.get_by_text("Site administration").click()
    admin.get_by_role("menuitem", name="Room handovers").click()
    at_risk = admin.get_by_role("region", name="Rooms that need a new owner")
    row = at_risk.get_by_role("row").filter(has_text="Edna Editor")
    expect(row).to_contain_text("deactivated in the LMS")
    expect(row).to_contain_text("1 session, 1 room")
    screenshot(admin, "journey-5-rooms-that-need-a-new-owner")
    row.get_by_role("link", name="Hand over the rooms of Edna Editor").click()

    expect(admin.get_by_role("heading", name="Hand over the rooms of Edna Editor")).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text="Drill room")).to_contain_text(f"{trainer_email} (site account)")
    expect(admin.get_by_role("row").filter(has_text="Alice's room")).to_have_count(0)
    # Only the chosen target's fields show: a person's own account hides the host and its search.
    admin.get_by_label("A person's own Zoom account").check()
    expect(admin.get_by_label("New owner", exact=True)).to_be_visible()
    expect(admin.get_by_label("New host", exact=True)).to_be_hidden()
    admin.get_by_label("A host in the site's Zoom account").check()
    expect(admin.get_by_label("New owner", exact=True)).to_be_hidden()
    admin.get_by_role("searchbox", name="Search the site's Zoom account").fill("hal")
    admin.get_by_role("button", name="Search").click()
    expect(admin.get_by_label("A host in the site's Zoom account")).to_be_checked()  # still choosing a host
    expect(admin.get_by_label("New host", exact=True).get_by_role("option")).to_have_text(
        ["Choose a host", f"Hal Hughes ({HAL}): Licensed"]
    )
    admin.get_by_label("New host", exact=True).select_option(label=f"Hal Hughes ({HAL}): Licensed")
    screenshot(admin, "journey-5-hand-over")
    admin.get_by_role("button", name="Hand over").click()

    expect(admin.get_by_text("1 room handed over: its meetings are being moved.")).to_be_visible()
    progress = admin.get_by_role("status").filter(has_text="moved")
    expect(progress).to_contain_text("1 of 1 meeting moved.", timeout=WAIT_MS)  # the page reloads itself
    expect(progress).to_contain_text("Nothing is left moving.")
    screenshot(admin, "journey-5-handover-record")

    # 6. In the simulator the meeting lives under Hal only; Alice's is untouched.
    [new_meeting] = wait_for(lambda: live_meetings(zoom, host=HAL), what="the meeting made again for Hal")
    wait_for(lambda: not live_meetings(zoom, host=trainer_email), what="the old meeting deleted")
    assert new_meeting["id"] != old_meeting["id"]
    assert live_meetings(zoom, host=ALICE) == [alice_meeting]

    # Nobody's rooms need a new owner any more; the handover is in the record; the room names its new host.
    admin.get_by_role("link", name="Room handovers").click()
    expect(admin.get_by_role("region", name="Rooms that need a new owner")).to_contain_text(
        "Every room with sessions still to start has an active owner with a working connection."
    )
    expect(
        admin.get_by_role("region", name="Handovers").get_by_role("row").filter(has_text="Drill room")
    ).to_contain_text(f"Hal Hughes ({HAL})")
    admin.goto(f"{live_server.url}{reverse('seminars:room', args=[drill.pk])}")
    expect(admin.get_by_text(f"Hosted by {HAL} in the site's Zoom account.")).to_be_visible()
    screenshot(admin, "journey-6-room-after-handover")
    # A site admin starts the moved meeting as its new host (a fresh start link, with the site account's token).
    with admin.expect_popup() as hosting_info:
        admin.locator("[data-virtual-card]").get_by_role("link", name="Host meeting").click()
    hosting = hosting_info.value
    expect(hosting.get_by_role("heading", name="You started the meeting as the host")).to_be_visible()
    expect(hosting.get_by_text(f"Host · Hal Hughes ({HAL})")).to_be_visible()
    assert hosting.url.startswith(f"{zoom.url}/s/{new_meeting['id']}"), hosting.url
    hosting.close()

    with time_machine.travel(start - timedelta(minutes=14), tick=True):
        learner.goto(event_url)
        join = learner.get_by_role("link", name="Join now")
        expect(join).to_be_visible()
        screenshot(learner, "journey-6-learner-join")
        with learner.expect_popup() as joined_info:
            join.click()
        joined = joined_info.value
        # The learner's own registrant link of the new meeting: their registration moved with it.
        expect(joined.get_by_role("heading", name="You joined the meeting as a registrant")).to_be_visible()
        assert joined.url.startswith(f"{zoom.url}/w/{new_meeting['id']}"), joined.url
        screenshot(joined, "journey-6-joined")
