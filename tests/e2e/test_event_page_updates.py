"""The event page follows its meeting without a reload, as the room page does: "Updating virtual room.
Please wait..." while Zoom is being asked, then the buttons once the meeting is there."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_event, live_meetings, tomorrow_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UPDATING = "Updating virtual room. Please wait..."


def test_the_event_page_shows_the_buttons_once_the_meeting_is_made(
    browse, live_server, e2e_settings, zoom_configured, worker, cast
):
    from virtualmeeting.models import VirtualMeeting

    # Zoom's first answer is a 500: the meeting waits 6 to 12 seconds for its retry, which succeeds
    # (long enough for a slow machine to show the page first, short enough for the 30 s expectations).
    e2e_settings.VIRTUALMEETING = {**e2e_settings.VIRTUALMEETING, "BACKOFF_BASE_SECONDS": 12}
    zoom_configured.next_fault("meetings.create", "error_500")
    trainer = browse(cast.trainer)
    add_event(
        trainer, live_server, cast.seminar, name="Follow me", sessions=[(tomorrow_at(10), 60, "UTC", "Zoom room")]
    )

    line = trainer.locator("[data-virtual-card]")
    expect(line.get_by_text(UPDATING)).to_be_visible()
    trainer.evaluate("window.notReloaded = true")

    expect(line.get_by_role("link", name="Host meeting")).to_be_visible()
    expect(line.get_by_role("link", name="Join as attendee")).to_be_visible()
    expect(line.get_by_text(UPDATING)).to_have_count(0)
    assert trainer.evaluate("window.notReloaded === true")  # the same page, updated in place
    assert VirtualMeeting.objects.get().status == "available"
    assert len(live_meetings(zoom_configured)) == 1


def test_a_failure_reads_in_full_on_the_event_page_with_retry_now(
    browse, live_server, zoom_configured, worker, cast, screenshot
):
    from virtualmeeting.models import VirtualMeeting

    reason = (
        "Zoom refused the meeting: the host's account has reached the number of scheduled meetings its plan "
        "allows for this period, so nothing was created; free a slot in Zoom or ask the account owner for more."
    )
    trainer = browse(cast.trainer)
    add_event(trainer, live_server, cast.seminar, name="Broken", sessions=[(tomorrow_at(10), 60, "UTC", "Zoom room")])
    line = trainer.locator("[data-virtual-card]")
    expect(line.get_by_role("link", name="Host meeting")).to_be_visible()
    VirtualMeeting.objects.update(status="failed", last_error=reason)

    trainer.reload()
    problem = line.get_by_role("alert")
    expect(problem).to_contain_text(reason)
    sessions = trainer.get_by_role("region", name="Sessions")
    card_right = sessions.bounding_box()["x"] + sessions.bounding_box()["width"]
    box = problem.bounding_box()
    assert box["x"] + box["width"] <= card_right, "the reason runs past the card's edge"
    assert problem.evaluate("el => el.scrollWidth <= el.clientWidth"), "the reason is cut inside its box"
    screenshot(trainer, "event-page-failure")

    problem.get_by_role("button", name="Retry now").click()
    expect(trainer.get_by_text("Retrying the virtual meeting now.")).to_be_visible()
    expect(line.get_by_role("link", name="Host meeting")).to_be_visible()
    expect(line.get_by_role("alert")).to_have_count(0)
