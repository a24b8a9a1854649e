"""A booked learner sees "Join now" from 15 minutes before the session (not at 16), and it lands in the meeting;
a waitlisted learner never sees it. The clock moves with time_machine: the live server, the worker and the
simulator all run in this process, so they all see the same moved time."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.e2e.conftest import add_event, live_meetings, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENS_SOON = "Virtual room will open 15 minutes before next session"


def test_join_now_opens_at_fifteen_minutes_for_booked_learners_only(
    browse, screenshot, live_server, zoom_configured, worker, cast
):
    from seminars.models import SeminarEvent
    from virtualmeeting.models import VirtualMeeting

    zoom = zoom_configured
    start = tomorrow_at(10)
    trainer = browse(cast.trainer)
    add_event(
        trainer,
        live_server,
        cast.seminar,
        name="Morning drill",
        capacity=1,
        waitlist=True,
        sessions=[(start, 60, "UTC", "Drill room")],
    )
    [meeting] = wait_for(lambda: live_meetings(zoom), what="the meeting in the simulator")
    wait_for(lambda: VirtualMeeting.objects.filter(status="available").exists(), what="the meeting to be available")
    event = SeminarEvent.objects.get(name="Morning drill")
    event_url = f"{live_server.url}/events/{event.pk}/"
    session = event.sessions.get()

    learner = browse(cast.learner)
    learner.goto(event_url)
    learner.get_by_role("button", name="Book").click()
    expect(learner.get_by_text("Booked", exact=True)).to_be_visible()
    waitlisted = browse(cast.learner2)
    waitlisted.goto(event_url)
    waitlisted.get_by_role("button", name="Join waitlist").click()
    expect(waitlisted.get_by_text("Waitlisted", exact=True)).to_be_visible()

    with time_machine.travel(start - timedelta(minutes=16), tick=True):
        learner.goto(event_url)
        expect(learner.get_by_text(OPENS_SOON).first).to_be_visible()
        expect(learner.get_by_role("link", name="Join now")).to_have_count(0)
        learner.get_by_role("link", name="Drill room").first.click()
        expect(learner.locator("[data-virtual-card]").get_by_text(OPENS_SOON)).to_be_visible()
        expect(learner.get_by_role("link", name="Join now")).to_have_count(0)
        # The link itself checks the time when it is followed.
        learner.goto(f"{live_server.url}/sessions/{session.pk}/virtual/join/")
        assert learner.url == event_url
        expect(learner.get_by_text(OPENS_SOON).first).to_be_visible()

    with time_machine.travel(start - timedelta(minutes=15), tick=True):
        learner.goto(event_url)
        join = learner.get_by_role("link", name="Join now")
        expect(join).to_be_visible()
        screenshot(learner, "event-learner")
        with learner.expect_popup() as joined_info:
            join.click()
        joined = joined_info.value
        # Through the learner's own registrant link (made when they booked), not the shared one.
        expect(joined.get_by_role("heading", name="You joined the meeting as a registrant")).to_be_visible()
        assert joined.url.startswith(f"{zoom.url}/w/{meeting['id']}")
        joined.close()

        learner.get_by_role("navigation", name="Main").get_by_role("link", name="My sessions").click()
        expect(learner.get_by_role("row", name="Morning drill").get_by_role("link", name="Drill room")).to_be_visible()
        screenshot(learner, "dashboard")
        learner.get_by_role("link", name="Fire wardens").first.click()
        expect(learner.get_by_role("heading", name="Fire wardens")).to_be_visible()
        screenshot(learner, "seminar")
        learner.get_by_role("link", name="Safety training").first.click()
        expect(learner.get_by_role("heading", name="Safety training")).to_be_visible()
        screenshot(learner, "course")

        # The waitlisted learner: no link on the event page or the room page, and none by URL.
        waitlisted.goto(event_url)
        expect(waitlisted.get_by_text("Waitlisted", exact=True)).to_be_visible()
        expect(waitlisted.get_by_role("link", name="Join now")).to_have_count(0)
        waitlisted.goto(f"{live_server.url}/rooms/{session.room_id}/")
        expect(waitlisted.locator("[data-virtual-card]").get_by_text("Virtual room is unavailable")).to_be_visible()
        expect(waitlisted.get_by_role("link", name="Join now")).to_have_count(0)
        waitlisted.goto(f"{live_server.url}/sessions/{session.pk}/virtual/join/")
        assert waitlisted.url == event_url
        assert zoom.url not in waitlisted.content()
