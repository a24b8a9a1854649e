"""The vendor guide's "Testing the integration setup", step by step with its labels, through the real product:
the admin sets up Zoom Meeting, a trainer makes a Zoom room in the event editor, the worker creates the
meeting in the (simulated) Zoom, and "Host meeting" starts it."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    CALLBACK_PATH,
    ZOOM_PRO,
    connect_zoom,
    fill_session,
    live_meetings,
    tomorrow_at,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_the_guides_walk_through(browse, screenshot, live_server, zoom, worker, cast):
    from seminars.models import SeminarEvent
    from virtualmeeting.models import ProviderConfig, VirtualMeeting

    # The admin: Site administration > Plugins > Virtual meetings > Zoom Meeting.
    admin = browse(cast.admin)
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    admin.get_by_text("Site administration").click()
    admin.get_by_role("menuitem", name="Plugins > Virtual meetings > Zoom Meeting").click()
    expect(admin.get_by_role("heading", name="Zoom Meeting settings")).to_be_visible()
    redirect_url = live_server.url + CALLBACK_PATH
    expect(admin.get_by_text(redirect_url, exact=True)).to_be_visible()
    admin.get_by_role("button", name="Copy").click()
    expect(admin.get_by_text("Copied")).to_be_visible()
    assert admin.evaluate("navigator.clipboard.readText()") == redirect_url
    # The simulator's app was registered with exactly that Redirect URL.
    [app] = [a for a in zoom.apps() if a["client_id"] == "zoomsim-client-id"]
    assert app["redirect_uri"] == redirect_url

    # The General App: each trainer connects their own Zoom account (the page offers the site's account beside it).
    general_app = admin.get_by_role("group", name="Each trainer connects their own Zoom account")
    general_app.get_by_label("Client ID").fill("zoomsim-client-id")
    general_app.get_by_label("Client secret").fill("zoomsim-client-secret")
    admin.get_by_label("Enabled").check()
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    screenshot(admin, "zoom-settings")
    assert ProviderConfig.objects.get(provider="zoom").enabled

    # The admin creates the course and enrols the trainer as an editing trainer.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    admin.get_by_role("link", name="Add a new course").click()
    admin.get_by_label("Course full name").fill("Emergency response")
    admin.get_by_role("button", name="Create course").click()
    expect(admin.get_by_role("heading", name="Emergency response")).to_be_visible()
    admin.get_by_role("link", name="Participants").click()
    admin.get_by_label("Username or email").fill(cast.trainer.username)
    admin.get_by_label("Role", exact=True).select_option(label="Editing trainer")
    admin.get_by_role("button", name="Enrol user").click()
    expect(admin.get_by_role("cell", name=cast.trainer.username, exact=True)).to_be_visible()

    # The editing trainer: the course, "Add an activity" > "Seminar", "Add event".
    trainer = browse(cast.trainer)
    trainer.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    trainer.get_by_role("link", name="Emergency response").first.click()
    trainer.get_by_text("Add an activity", exact=True).click()
    trainer.get_by_role("menuitem", name="Seminar").click()
    trainer.get_by_label("Name", exact=True).fill("Evacuation drills")
    trainer.get_by_role("button", name="Save and display").click()
    expect(trainer.get_by_role("heading", name="Evacuation drills")).to_be_visible()
    trainer.get_by_role("link", name="Add event").click()
    trainer.get_by_label("Event name").fill("Evening drill")
    trainer.get_by_role("button", name="Add session").click()
    start = tomorrow_at(18, "Europe/London")
    session = fill_session(trainer, 1, start, 90, "Europe/London")

    # "Select room" > "Create" > Name, Capacity > "Add virtual room link" > "Zoom Meeting" > "Connect".
    session.get_by_role("button", name="Select room").click()
    dialog = trainer.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill("Drill room")
    dialog.get_by_label("Capacity", exact=True).fill("30")
    dialog.get_by_label("Add virtual room link").select_option(label="Zoom Meeting")
    expect(dialog.get_by_text("Connect your Zoom Meeting account to create meetings.")).to_be_visible()
    connect_zoom(trainer, dialog)  # signs in as the Pro user in the popup and allows; the popup closes
    expect(dialog.get_by_text(f"Pat Pro ({ZOOM_PRO})")).to_be_visible()
    screenshot(trainer, "event-editor-select-room", full_page=False)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(session.get_by_text("Drill room")).to_be_visible()
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Evening drill.")).to_be_visible()

    # The worker creates the meeting in Zoom with the session's time and zone.
    [meeting] = wait_for(lambda: live_meetings(zoom), what="the meeting in the simulator")
    assert parse_utc(meeting["start_time"]) == start.astimezone(UTC)
    assert meeting["timezone"] == "Europe/London"
    assert meeting["duration"] == 90
    assert "Evacuation drills" in meeting["topic"]
    row = wait_for(
        lambda: VirtualMeeting.objects.filter(status="available").first(), what="the meeting to be available"
    )
    assert row.remote_id == str(meeting["id"])

    # The room page: the "Go to room" card; the owner hosts.
    event = SeminarEvent.objects.get(name="Evening drill")
    trainer.goto(f"{live_server.url}/events/{event.pk}/")
    trainer.get_by_role("link", name="Drill room").first.click()
    expect(trainer.get_by_role("heading", name="Drill room")).to_be_visible()
    card = trainer.locator("[data-virtual-card]")
    expect(card.get_by_role("link", name="Host meeting")).to_be_visible()
    expect(card.get_by_role("link", name="Join as attendee")).to_be_visible()
    screenshot(trainer, "room")
    with trainer.expect_popup() as host_info:
        card.get_by_role("link", name="Host meeting").click()
    host = host_info.value
    expect(host.get_by_role("heading", name="You started the meeting as the host")).to_be_visible()
    assert host.url.startswith(f"{zoom.url}/s/{meeting['id']}")
    expect(host.get_by_text(re.compile(re.escape(meeting["topic"])))).to_be_visible()

    # Site admins (staff) get "Go to room" on the same card.
    admin.goto(trainer.url)
    expect(admin.locator("[data-virtual-card]").get_by_role("link", name="Go to room")).to_be_visible()
    expect(admin.get_by_role("link", name="Host meeting")).to_have_count(0)
