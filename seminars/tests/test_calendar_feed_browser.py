"""A learner subscribes to their calendar feed; a trainer moves the session; the feed follows."""

import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from seminars.ical import session_uid
from seminars.models import Booking, SeminarEvent
from seminars.tests.conftest import PASSWORD

# See test_event_form_browser: Playwright's event loop trips Django's async guard on plain ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(f"{live_server.url}/accounts/login/")


def fetch_feed(url):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def test_the_feed_follows_a_session_the_trainer_moves(page, live_server, event, learner, editing_trainer):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    # The event was last changed an hour ago, so the move below is a later change.
    SeminarEvent.objects.filter(pk=event.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    session = event.sessions.get()

    log_in(page, live_server, learner)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}{reverse('seminars:profile')}")
    page.get_by_role("button", name="Get my calendar link").click()
    expect(page.get_by_text("Your calendar link is ready")).to_be_visible()
    address = page.get_by_label("Subscription address")
    expect(address).to_have_value(re.compile(rf"^{re.escape(live_server.url)}/calendar/[\w-]{{40,}}\.ics$"))
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    url = page.evaluate("navigator.clipboard.readText()")
    assert url == address.input_value() and url.endswith(".ics")

    [before] = fetch_feed(url).events
    assert before["UID"] == session_uid(session.pk)
    assert before.start == session.start

    page.context.clear_cookies()
    log_in(page, live_server, editing_trainer)
    page.goto(f"{live_server.url}{reverse('seminars:event_edit', args=[event.pk])}")
    row = page.get_by_role("group", name="Session 1")
    row.get_by_label("Start", exact=True).fill("2031-03-10T09:00")
    row.get_by_label("Finish", exact=True).fill("2031-03-10T10:30")
    row.get_by_label("Time zone").fill("Europe/London")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved")).to_be_visible()

    [after] = fetch_feed(url).events
    assert after["UID"] == before["UID"]
    assert after.start == datetime(2031, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert after.end == datetime(2031, 3, 10, 10, 30, tzinfo=ZoneInfo("Europe/London"))
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["STATUS"] == "CONFIRMED"
