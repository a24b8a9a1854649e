"""Microsoft Teams, through the real product and the Microsoft simulator: the admin sets up "Plugins > Virtual
meetings > Microsoft Teams" (Redirect URL and permissions shown, secret saved), a trainer connects in the popup
(sign-in and consent pages) and makes Teams rooms, the worker creates the meetings, a booked learner's "Join now"
lands in one, a moved session changes the same meeting in place (same id and join URL, never deleted and made
again), and a removed session deletes its meeting."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TEAMS_CALLBACK_PATH, TEAMS_TRAINER, connect_teams, fill_session, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def parse_graph(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def teams_room(page, session, *, name: str, connect: bool):
    session.get_by_role("button", name="Select room").click()
    dialog = page.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Capacity", exact=True).fill("10")
    dialog.get_by_label("Add virtual room link").select_option(label="Microsoft Teams")
    if connect:
        expect(dialog.get_by_text("Connect your Microsoft Teams account to create meetings.")).to_be_visible()
        connect_teams(page, dialog)
    expect(dialog.get_by_text(f"Taylor Trainer ({TEAMS_TRAINER})")).to_be_visible()
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()


def test_the_walk_through_with_microsoft_teams(browse, screenshot, live_server, microsoft, worker, cast):
    from seminars.models import SeminarEvent
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

    # The trainer: an event with two sessions, one starting in ten minutes, one tomorrow, both in Teams rooms.
    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    later = tomorrow_at(14, "Asia/Kolkata")
    trainer = browse(cast.trainer)
    trainer.goto(f"{live_server.url}/seminars/{cast.seminar.pk}/")
    trainer.get_by_role("link", name="Add event").click()
    trainer.get_by_label("Event name").fill("Teams drill")
    trainer.get_by_role("button", name="Add session").click()
    teams_room(trainer, fill_session(trainer, 1, soon, 60, "UTC"), name="Teams room 1", connect=True)
    trainer.get_by_role("button", name="Add session").click()
    teams_room(trainer, fill_session(trainer, 2, later, 60, "Asia/Kolkata"), name="Teams room 2", connect=False)
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Teams drill.")).to_be_visible()

    # The worker creates both meetings in (simulated) Teams, at the sessions' instants.
    meetings = wait_for(lambda: len(microsoft.meetings()) == 2 and microsoft.meetings(), what="two Teams meetings")
    by_start = {parse_graph(m["start"]): m for m in meetings}
    assert set(by_start) == {soon, later.astimezone(UTC)}
    wait_for(
        lambda: VirtualMeeting.objects.filter(status="available").count() == 2, what="the meetings to be available"
    )
    first = VirtualMeeting.objects.get(remote_id=by_start[soon]["id"])

    # A booked learner: "Join now" opens the Teams meeting's join link.
    event = SeminarEvent.objects.get(name="Teams drill")
    event_url = f"{live_server.url}/events/{event.pk}/"
    learner = browse(cast.learner)
    learner.goto(event_url)
    learner.get_by_role("button", name="Book").click()
    expect(learner.get_by_text("Booked", exact=True)).to_be_visible()
    with learner.expect_popup() as joined_info:
        learner.get_by_role("link", name="Join now").click()
    joined = joined_info.value
    expect(joined.get_by_role("heading", name="You joined the Teams meeting")).to_be_visible()
    assert joined.url == first.join_url

    # Move the second session by two hours: the same meeting changes in place.
    second_id = by_start[later.astimezone(UTC)]["id"]
    second = VirtualMeeting.objects.get(remote_id=second_id)
    moved = later + timedelta(hours=2)
    trainer.goto(event_url)
    trainer.get_by_role("link", name="Edit event").click()
    fill_session(trainer, 2, moved, 60, "Asia/Kolkata")
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Teams drill.")).to_be_visible()

    def moved_in_teams():
        meeting = {m["id"]: m for m in microsoft.meetings()}.get(second_id)
        return meeting if meeting and parse_graph(meeting["start"]) == moved.astimezone(UTC) else None

    wait_for(moved_in_teams, what="the meeting to move")
    assert len(microsoft.meetings()) == 2
    wait_for(lambda: VirtualMeeting.objects.get(pk=second.pk).status == "available", what="the moved meeting available")
    after = VirtualMeeting.objects.get(pk=second.pk)
    assert (after.remote_id, after.join_url) == (second.remote_id, second.join_url)
    assert len(microsoft.meetings(include_deleted=True)) == 2  # never deleted and made again

    # Remove the second session: its meeting is deleted, the first stays.
    trainer.get_by_role("link", name="Edit event").click()
    trainer.get_by_role("group", name="Session 2").get_by_role("button", name="Remove session").click()
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Teams drill.")).to_be_visible()
    wait_for(lambda: [m["id"] for m in microsoft.meetings()] == [first.remote_id], what="the second meeting deleted")
    assert [m["id"] for m in microsoft.meetings(include_deleted=True) if m["deleted"]] == [second_id]
