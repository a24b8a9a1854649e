"""A learner books in the browser; when the clock reaches the hour before the session, the reminder email
arrives once (read from a file-based mailbox), with our join page and the 15-minute rule and none of Zoom's
links; following it too early lands on the event page saying when the room opens."""

from datetime import timedelta
from email import message_from_string

import pytest
import time_machine
from playwright.sync_api import expect

from tests.e2e.conftest import add_event, live_meetings, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENS_SOON = "Virtual room will open 15 minutes before next session"
RULE = "The virtual room opens 15 minutes before the start of each session"


def mailbox_messages(folder):
    """Every message the file-based backend wrote (one file per connection, messages split by a line of dashes)."""
    texts = [path.read_text() for path in sorted(folder.glob("*"))] if folder.exists() else []
    return [message_from_string(chunk.strip()) for text in texts for chunk in text.split("-" * 79) if chunk.strip()]


def readable(message) -> str:
    parts = [str(message.items())]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(parts)


def test_a_reminder_arrives_once_with_the_join_rule_and_no_provider_url(
    browse, live_server, zoom_configured, worker, cast, e2e_settings, tmp_path
):
    from seminars.models import OutboundEmail, SeminarEvent
    from seminars.tasks import reminders_queue_task
    from virtualmeeting.models import MeetingRegistrant, VirtualMeeting

    mailbox = tmp_path / "mailbox"
    e2e_settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    e2e_settings.EMAIL_FILE_PATH = str(mailbox)
    start = tomorrow_at(10)
    trainer = browse(cast.trainer)
    add_event(trainer, live_server, cast.seminar, name="Morning drill", sessions=[(start, 60, "UTC", "Drill room")])
    wait_for(lambda: live_meetings(zoom_configured), what="the meeting in the simulator")
    wait_for(lambda: VirtualMeeting.objects.filter(status="available").exists(), what="the meeting to be available")
    event = SeminarEvent.objects.get(name="Morning drill")
    event_url = f"{live_server.url}/events/{event.pk}/"
    session = event.sessions.get()

    learner = browse(cast.learner)
    learner.goto(event_url)
    learner.get_by_role("button", name="Book").click()
    expect(learner.get_by_text("Booked", exact=True)).to_be_visible()
    wait_for(lambda: OutboundEmail.objects.filter(kind="booking", state="sent").exists(), what="the confirmation")

    with time_machine.travel(start - timedelta(minutes=50), tick=True):
        reminders_queue_task.delay()
        reminders_queue_task.delay()  # beat fires again: nothing new
        wait_for(
            lambda: OutboundEmail.objects.filter(kind="reminder", to=cast.learner.email, state="sent").exists(),
            what="the learner's reminder to be sent",
        )
        reminders = [
            m
            for m in mailbox_messages(mailbox)
            if m["Subject"].startswith("Reminder:") and m["To"] == cast.learner.email
        ]
        assert len(reminders) == 1
        text = readable(reminders[0])
        join = f"{live_server.url}/sessions/{session.pk}/virtual/join/"
        assert join in text and RULE in text and "Drill room" in text

        meeting = VirtualMeeting.objects.get()
        provider_links = [meeting.join_url, *(r.join_url for r in MeetingRegistrant.objects.all() if r.join_url)]
        assert meeting.join_url
        for message in mailbox_messages(mailbox):
            for link in provider_links:
                assert link not in readable(message)
            assert zoom_configured.url not in readable(message)

        # The link is ours: followed 50 minutes early, it shows the rule on the event page.
        learner.goto(join)
        assert learner.url == event_url
        expect(learner.get_by_text(OPENS_SOON).first).to_be_visible()

    confirmation = next(m for m in mailbox_messages(mailbox) if m["Subject"].startswith("Booking confirmed"))
    assert join in readable(confirmation) and RULE in readable(confirmation)
