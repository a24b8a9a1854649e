"""A meeting deleted by hand in Zoom, with no webhook to tell the site, is found by the pre-start check and
re-created before the join window opens: nobody re-saves anything, the owner is told, and a booked learner's
"Join now" lands in the new meeting. Celery beat's sweep is queued by the test at the moments beat would run it,
under time_machine (the live server, the worker and the simulator all see the moved clock)."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.e2e.conftest import add_event, live_meetings, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_meeting_deleted_in_zoom_without_a_webhook_is_back_before_the_join_window(
    browse, live_server, zoom_configured, worker, cast
):
    from seminars.models import SeminarEvent
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.tasks import meeting_sweep

    zoom = zoom_configured
    start = tomorrow_at(10)
    trainer = browse(cast.trainer)
    add_event(trainer, live_server, cast.seminar, name="Evacuation drill", sessions=[(start, 60, "UTC", "Drill room")])
    [original] = wait_for(lambda: live_meetings(zoom), what="the meeting in the simulator")
    row = wait_for(lambda: VirtualMeeting.objects.filter(status="available").first(), what="an available meeting")
    assert row.remote_id == str(original["id"])
    event = SeminarEvent.objects.get(name="Evacuation drill")
    event_url = f"{live_server.url}/events/{event.pk}/"

    learner = browse(cast.learner)
    learner.goto(event_url)
    learner.get_by_role("button", name="Book").click()
    expect(learner.get_by_text("Booked", exact=True)).to_be_visible()

    # Someone deletes the meeting in Zoom's own app; no webhook reaches the site.
    zoom.delete_meeting(original["id"], notify=False)
    assert live_meetings(zoom) == []
    assert zoom.webhook_deliveries() == []
    assert VirtualMeeting.objects.get(pk=row.pk).status == "available"  # the site cannot know yet

    # The last check before the session: 20 minutes before it starts, the sweep beat runs finds it gone.
    with time_machine.travel(start - timedelta(minutes=20), tick=True):
        meeting_sweep.delay()
        [recreated] = wait_for(lambda: live_meetings(zoom), what="the meeting to be re-created in the simulator")
        meeting = wait_for(
            lambda: VirtualMeeting.objects.filter(
                pk=row.pk, status="available", remote_id=str(recreated["id"])
            ).first(),
            what="the new meeting to be recorded",
        )
        assert recreated["id"] != original["id"]
        assert recreated["topic"] == original["topic"]
        assert recreated["start_time"] == original["start_time"]
        assert meeting.recreated_at is not None
        assert meeting.checked_before == 20

        # The owner is told, with no one having re-saved anything. (The notice is written by the re-creation's
        # on-commit hook, a moment after the meeting row the wait above saw.)
        from seminars.models import Notification

        wait_for(
            lambda: Notification.objects.filter(
                user=cast.trainer, subject__startswith="Virtual meeting re-created"
            ).exists(),
            what="the owner's notice",
        )
        trainer.goto(f"{live_server.url}/")
        trainer.get_by_label("Notifications: 1 unread").click()
        expect(trainer.get_by_text("Virtual meeting re-created").first).to_be_visible()

    # The window opens: the booked learner's "Join now" leads into the new, valid meeting.
    with time_machine.travel(start - timedelta(minutes=15), tick=True):
        learner.goto(event_url)
        join = learner.get_by_role("link", name="Join now")
        expect(join).to_be_visible()
        with learner.expect_popup() as joined_info:
            join.click()
        joined = joined_info.value
        # Through the learner's own registrant link (made when they booked), not the shared one.
        expect(joined.get_by_role("heading", name="You joined the meeting as a registrant")).to_be_visible()
        assert joined.url.startswith(f"{zoom.url}/w/{recreated['id']}")
        joined.close()
