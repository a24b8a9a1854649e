"""Zoom's daily limit: with the Zoom user's quota used up, saving shows "waiting for Zoom's daily limit" and a
notification arrives; after midnight UTC the sweep (what Celery beat runs) creates the meeting, nobody re-saves."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.e2e.conftest import ZOOM_PRO, add_event, live_meetings, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_meeting_waits_for_the_daily_limit_and_is_created_after_midnight(
    browse, screenshot, live_server, zoom_configured, worker, cast
):
    from seminars.models import SeminarEvent
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.tasks import meeting_sweep

    zoom = zoom_configured
    zoom.exhaust_quota(ZOOM_PRO)
    start = tomorrow_at(10, days=2)
    trainer = browse(cast.trainer)
    add_event(trainer, live_server, cast.seminar, name="Quota day", sessions=[(start, 60, "UTC", "Quota room")])

    meeting = wait_for(lambda: VirtualMeeting.objects.filter(status="waiting").first(), what="the meeting to wait")
    midnight = meeting.next_attempt_at  # Zoom's Retry-After: the next 00:00 UTC
    assert midnight.astimezone(UTC).time() == time(0, 0)
    assert timedelta(0) < midnight - datetime.now(UTC) <= timedelta(days=1)
    assert live_meetings(zoom) == []

    event = SeminarEvent.objects.get(name="Quota day")
    trainer.goto(f"{live_server.url}/rooms/{event.sessions.get().room_id}/")
    card = trainer.locator("[data-virtual-card]")
    expect(card.get_by_role("alert")).to_contain_text("Waiting for Zoom's daily limit, resumes at 00:00 UTC")
    expect(card.get_by_role("link", name="Host meeting")).to_have_count(0)
    # A wait is a warning (amber), not a failure (red).
    expect(card.get_by_text("Waiting", exact=True)).to_have_class("badge badge-warning")
    assert card.get_by_role("alert").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 244, 214)"
    expect(card.locator(".badge-danger")).to_have_count(0)
    # The event page says the same, in the same style.
    trainer.goto(f"{live_server.url}/events/{event.pk}/")
    line = trainer.locator("[data-virtual-card]")
    expect(line.get_by_role("alert")).to_contain_text("Waiting for Zoom's daily limit, resumes at 00:00 UTC")
    expect(line.get_by_text("Waiting", exact=True)).to_have_class("badge badge-warning")

    # The notification: the bell counts it, the notifications page lists it.
    bell = trainer.get_by_label("Notifications: 1 unread")
    expect(bell).to_be_visible()
    bell.click()
    expect(trainer.get_by_text("Virtual meeting waiting for the provider's daily limit").first).to_be_visible()
    trainer.get_by_role("link", name="See all notifications").click()
    notes = trainer.get_by_role("main")
    expect(notes.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(notes.get_by_role("link", name="Virtual meeting waiting for the provider's daily limit")).to_be_visible()
    expect(notes.get_by_text("Quota room")).to_be_visible()
    screenshot(trainer, "notifications")

    # Past midnight UTC on every clock (the simulator's is real time plus an offset: time_machine moves it too).
    with time_machine.travel(midnight + timedelta(minutes=1), tick=True):
        assert abs(zoom.clock()["unix"] - (midnight + timedelta(minutes=1)).timestamp()) < 60
        meeting_sweep.delay()
        [created] = wait_for(lambda: live_meetings(zoom), what="the meeting to be created after midnight")
        assert datetime.fromisoformat(created["start_time"].replace("Z", "+00:00")) == start
        wait_for(
            lambda: VirtualMeeting.objects.get(pk=meeting.pk).status == "available", what="the meeting to be available"
        )
        trainer.goto(f"{live_server.url}/rooms/{event.sessions.get().room_id}/")
        expect(card.get_by_role("link", name="Host meeting")).to_be_visible()
        expect(card.get_by_text("Waiting for Zoom's daily limit")).to_have_count(0)
