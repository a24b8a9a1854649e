"""A registration window that closes, in a real browser: the learner has the event page open with
"Book" on it, the window closes (its closing time is now in the past), and the click is refused
with the reason; the page then shows the reason instead of the button."""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from seminars.models import Booking
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_window_that_closes_refuses_the_booking_with_the_reason(page, live_server, event, learner):
    log_in(page, live_server, learner)
    closes = timezone.now() + timedelta(seconds=4)
    event.registration_closes_at = closes
    event.save()
    page.goto(f"{live_server.url}{event.get_absolute_url()}")
    expect(page.get_by_test_id("event-status")).to_have_text("Bookable")
    book = page.get_by_role("button", name="Book")
    expect(book).to_be_visible()

    # Time passes the close while the page is open (the event itself is unchanged: nothing but the clock moves).
    time.sleep(max(0.0, (closes - timezone.now()).total_seconds()) + 0.2)
    book.click()

    expect(page.locator(".messages").get_by_text("Registration closed on")).to_be_visible()
    expect(page.get_by_test_id("signup-refusal")).to_contain_text("Registration closed on")
    expect(page.get_by_test_id("event-status")).to_have_text("Registration closed")
    expect(page.get_by_role("button", name="Book")).to_have_count(0)
    assert not Booking.objects.filter(event=event, user=learner).exists()
