"""The walk-through for Microsoft Teams, through the real product against the Microsoft simulator: the admin sets up
Microsoft Teams on its settings page, a trainer connects in the popup and makes a Teams room in the event editor,
the worker creates the meeting, a moved session changes the same meeting in place (same id, same join link), and
a removed session deletes it."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import fill_session, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAMS_CALLBACK_PATH = "/integrations/virtualmeeting/auth_callback/teams"
TRAINER_EMAIL = "trainer@contoso.test"


@pytest.fixture
def mssim(e2e_settings, live_server, tmp_path):
    from simulators.microsoft.server import start_server

    sim = start_server(
        port=0, db_path=str(tmp_path / "mssim.sqlite3"), redirect_uris=(live_server.url + TEAMS_CALLBACK_PATH,)
    )
    e2e_settings.TEAMS_AUTH_BASE_URL = sim.auth_base_url
    e2e_settings.GRAPH_API_BASE_URL = sim.graph_base_url
    yield sim
    sim.stop()


def live_meetings(sim):
    return sim.meetings()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_walk_through_with_microsoft_teams(browse, screenshot, live_server, mssim, worker, cast):
    from simulators.microsoft.seed import PASSWORD
    from virtualmeeting.models import ProviderConfig, VirtualMeeting

    # The admin: Site administration > Plugins > Virtual meetings > Microsoft Teams.
    admin = browse(cast.admin)
    admin.get_by_text("Site administration").click()
    admin.get_by_role("menuitem", name="Plugins > Virtual meetings > Microsoft Teams").click()
    expect(admin.get_by_role("heading", name="Microsoft Teams settings")).to_be_visible()
    expect(admin.get_by_text(live_server.url + TEAMS_CALLBACK_PATH, exact=True)).to_be_visible()
    expect(admin.get_by_text("OnlineMeetings.ReadWrite", exact=True)).to_be_visible()
    admin.get_by_label("Tenant").fill("common")
    admin.get_by_label("Application (client) ID").fill("mssim-client-id")
    admin.get_by_label("Client secret").fill("mssim-client-secret")
    admin.get_by_label("Enabled").check()
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Microsoft Teams settings saved.")).to_be_visible()
    screenshot(admin, "teams-settings")
    config = ProviderConfig.objects.get(provider="teams")
    assert config.enabled and config.client_secret == "mssim-client-secret"

    # The trainer: an event with one session in a Teams room, connecting in the popup.
    trainer = browse(cast.trainer)
    trainer.goto(f"{live_server.url}/seminars/{cast.seminar.pk}/")
    trainer.get_by_role("link", name="Add event").click()
    trainer.get_by_label("Event name").fill("Teams drill")
    trainer.get_by_role("button", name="Add session").click()
    start = tomorrow_at(18, "Europe/London")
    session = fill_session(trainer, 1, start, 90, "Europe/London")
    session.get_by_role("button", name="Select room").click()
    dialog = trainer.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill("Teams room")
    dialog.get_by_label("Capacity", exact=True).fill("20")
    dialog.get_by_label("Add virtual room link").select_option(label="Microsoft Teams")
    with trainer.expect_popup() as popup_info:
        dialog.get_by_role("button", name="Connect").click()
    popup = popup_info.value
    popup.get_by_label("Email").fill(TRAINER_EMAIL)
    popup.get_by_label("Password").fill(PASSWORD)
    popup.get_by_role("button", name="Sign in").click()
    popup.get_by_role("button", name="Accept").click()
    popup.wait_for_event("close", timeout=15_000)
    expect(dialog.get_by_text(f"Taylor Trainer ({TRAINER_EMAIL})")).to_be_visible()
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Teams drill.")).to_be_visible()

    # The worker creates the Teams meeting at the session's time.
    [meeting] = wait_for(lambda: live_meetings(mssim), what="the meeting in the simulator")
    assert instant(meeting["start"]) == start.astimezone(UTC)
    assert instant(meeting["end"]) == (start + timedelta(minutes=90)).astimezone(UTC)
    row = wait_for(lambda: VirtualMeeting.objects.filter(status="available").first(), what="the meeting available")
    assert row.remote_id == meeting["id"]
    join_url = row.join_url

    # A moved session: the same meeting, changed in place.
    trainer.get_by_role("link", name="Edit event").click()
    moved = start + timedelta(hours=1)
    fill_session(trainer, 1, moved, 90, "Europe/London")
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Teams drill.")).to_be_visible()

    def moved_in_teams():
        rows = live_meetings(mssim)
        return rows if len(rows) == 1 and instant(rows[0]["start"]) == moved.astimezone(UTC) else None

    [after] = wait_for(moved_in_teams, what="the meeting to move")
    assert after["id"] == meeting["id"]
    row = wait_for(
        lambda: VirtualMeeting.objects.filter(status="available", remote_id=meeting["id"]).first(),
        what="the moved meeting available",
    )
    assert row.join_url == join_url
    assert len(mssim.meetings(include_deleted=True)) == 1  # never deleted and made again

    # A removed session: its meeting is deleted in Teams.
    trainer.get_by_role("link", name="Edit event").click()
    trainer.get_by_role("group", name="Session 1").get_by_role("button", name="Remove session").click()
    trainer.get_by_role("button", name="Save changes").click()
    wait_for(lambda: live_meetings(mssim) == [], what="the meeting to be deleted")
