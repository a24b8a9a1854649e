"""An edited template used in a real email (issue 10, "Messages admins can edit").

A site admin edits "Booking confirmed" in the browser (subject and text with placeholders), previews
it with a real event, and saves; a learner books in the browser and the email sent (the outbox task
runs in this process, as in the other tests) has the edited subject and text with the placeholders
filled in. The admin resets it to the default, with confirmation; the next learner to book gets the
default email.
"""

import os
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from seminars.models import Course, EmailTemplate, Room, Seminar, SeminarEvent
from seminars.tests.conftest import enrol, make_session, make_site_admin, make_user
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECT = "See you at {event_name}, {learner_name}"
BODY = "Hi {learner_name}!\n\nYour seat on {seminar_name} is kept.\n\n{sessions}\n\nDetails: {event_url}"


@pytest.fixture
def scene(transactional_db):
    """A site admin, two learners, and an event a week ahead in an online room."""
    course = Course.objects.create(name="Safety training")
    learners = [enrol(make_user(name), course).user for name in ("lena", "leo")]
    seminar = Seminar.objects.create(course=course, name="Fire wardens")
    event = SeminarEvent.objects.create(seminar=seminar, name="Spring intake", capacity=5)
    room = Room.objects.create(
        name="Online room", capacity=20, virtual_kind="custom", virtual_url="https://meet.example.com/j/1?pwd=secret"
    )
    week_ahead = (timezone.now() + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    make_session(event, week_ahead, zone="Europe/London", room=room)
    return make_site_admin(), *learners, event


def book(browser, live_server, user, booked_event):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}{booked_event.get_absolute_url()}")
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text("Booked", exact=True)).to_be_visible()
    context.close()


def test_an_edited_template_is_used_in_a_real_email_until_it_is_reset(
    page, browser, live_server, scene, settings, screenshot
):
    site_admin, learner, learner2, event = scene
    settings.SITE_URL = live_server.url
    session = event.sessions.get()
    join_url = f"{live_server.url}/sessions/{session.pk}/virtual/join/"

    log_in(page, live_server, site_admin)
    page.get_by_text("Site administration").click()
    page.get_by_role("menuitem", name="Email templates").click()
    page.get_by_role("link", name="Edit Booking confirmed").click()
    expect(page.get_by_role("heading", name="Email: Booking confirmed")).to_be_visible()
    expect(page.get_by_text("{learner_name}", exact=True)).to_be_visible()  # the placeholder list

    page.get_by_label("Subject").fill("See you at {evnt_name}")
    page.get_by_label("Text").fill(BODY)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Unknown placeholder {evnt_name}. This email can use:")).to_be_visible()
    assert not EmailTemplate.objects.exists()

    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Preview with the event").select_option(label="Fire wardens: Spring intake")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("See you at Spring intake, Admin")
    expect(preview).to_contain_text("Your seat on Fire wardens is kept.")
    expect(preview.get_by_role("link", name=join_url)).to_be_visible()
    expect(preview).not_to_contain_text("meet.example.com")
    screenshot(page, "email-template-preview")
    assert not EmailTemplate.objects.exists() and mail.outbox == []  # a preview saves and sends nothing

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Booking confirmed” saved.")).to_be_visible()

    book(browser, live_server, learner, event)
    [edited] = [m for m in mail.outbox if m.to == [learner.email]]
    assert edited.subject == "See you at Spring intake, Lena"
    assert edited.body.startswith("Hi Lena!\n\nYour seat on Fire wardens is kept.\n\nSessions:\n")
    assert join_url in edited.body and "15 minutes before the start" in edited.body
    assert f"Details: {live_server.url}/events/{event.pk}/" in edited.body
    assert "meet.example.com" not in edited.body + edited.alternatives[0][0]
    assert f'<a href="{join_url}"' in edited.alternatives[0][0]
    assert [a.get_content_type() for a in edited.attachments] == ["text/calendar"]

    page.get_by_role("link", name="Reset Booking confirmed to default").click()
    expect(page.get_by_role("heading", name="Reset “Booking confirmed”?")).to_be_visible()
    assert EmailTemplate.objects.exists()
    page.get_by_role("button", name="Reset to default").click()
    expect(page.get_by_text("“Booking confirmed” is back to its default.")).to_be_visible()

    book(browser, live_server, learner2, event)
    [default] = [m for m in mail.outbox if m.to == [learner2.email]]
    assert default.subject == "Booking confirmed: Fire wardens, Spring intake"
    assert default.body.startswith("Hello Leo,\n\nYour booking is confirmed. A calendar invitation is attached.")
