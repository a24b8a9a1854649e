"""Changes made in the event editor reach Zoom through the worker: a moved session moves its meeting,
a removed session deletes its meeting, a cancelled event deletes all of its meetings."""

from datetime import UTC, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_event, fill_session, live_meetings, tomorrow_at, wait_for
from tests.e2e.test_walkthrough import parse_utc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def by_start(meetings):
    return {parse_utc(m["start_time"]): m for m in meetings}


def test_move_remove_and_cancel_reach_zoom(browse, live_server, zoom_configured, worker, cast):
    from seminars.models import SeminarEvent

    zoom = zoom_configured
    first, second, third = (
        tomorrow_at(9, "Europe/Paris"),
        tomorrow_at(13, "Europe/Paris"),
        tomorrow_at(16, "Europe/Paris"),
    )
    trainer = browse(cast.trainer)
    add_event(
        trainer,
        live_server,
        cast.seminar,
        name="Three parts",
        sessions=[
            (first, 60, "Europe/Paris", "Room A"),
            (second, 60, "Europe/Paris", "Room B"),
            (third, 60, "Europe/Paris", "Room C"),
        ],
    )
    meetings = wait_for(lambda: len(live_meetings(zoom)) == 3 and live_meetings(zoom), what="three meetings")
    assert set(by_start(meetings)) == {first.astimezone(UTC), second.astimezone(UTC), third.astimezone(UTC)}
    ids = {when: m["id"] for when, m in by_start(meetings).items()}
    event = SeminarEvent.objects.get(name="Three parts")

    # Move the first session two hours later: the same Zoom meeting moves.
    trainer.goto(f"{live_server.url}/events/{event.pk}/")
    trainer.get_by_role("link", name="Edit event").click()
    moved = first + timedelta(hours=2)
    fill_session(trainer, 1, moved, 60, "Europe/Paris")
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Three parts.")).to_be_visible()

    def moved_in_zoom():
        meeting = {m["id"]: m for m in live_meetings(zoom)}.get(ids[first.astimezone(UTC)])
        return meeting if meeting and parse_utc(meeting["start_time"]) == moved.astimezone(UTC) else None

    meeting = wait_for(moved_in_zoom, what="the meeting to move")
    assert meeting["timezone"] == "Europe/Paris"
    assert len(live_meetings(zoom)) == 3

    # Remove the third session: its meeting is deleted, the others stay.
    trainer.get_by_role("link", name="Edit event").click()
    trainer.get_by_role("group", name="Session 3").get_by_role("button", name="Remove session").click()
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Three parts.")).to_be_visible()
    wait_for(lambda: len(live_meetings(zoom)) == 2, what="the third meeting to be deleted")
    deleted = [m for m in zoom.meetings() if m["deleted"]]
    assert [m["id"] for m in deleted] == [ids[third.astimezone(UTC)]]

    # Cancel the event: every meeting of it is deleted.
    trainer.get_by_role("link", name="Cancel event").click()
    trainer.get_by_role("button", name="Cancel event").click()
    expect(trainer.get_by_text("Cancelled", exact=True).first).to_be_visible()
    wait_for(lambda: live_meetings(zoom) == [], what="all meetings to be deleted")
    assert sorted(m["id"] for m in zoom.meetings() if m["deleted"]) == sorted(ids.values())
