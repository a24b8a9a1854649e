"""A trainer adds a pasted list with bad lines: the preview says why each bad line cannot be used,
the confirm adds the rest, and the attendees page lists them (issue 10, "Attendees, added by staff")."""

import os

import pytest
from playwright.sync_api import expect

from seminars.models import Booking
from seminars.tests.conftest import enrol, make_user
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_add_with_a_preview_containing_bad_lines(page, live_server, trainer, event, course):
    event.capacity = 5
    event.save()
    ann = enrol(make_user("ann"), course).user
    enrol(make_user("bob"), course)
    make_user("stranger")

    log_in(page, live_server, trainer)
    page.goto(f"{live_server.url}{event.get_absolute_url()}")
    page.get_by_role("link", name="Add, remove or move attendees").click()
    page.get_by_label("Usernames or emails, one per line").fill(f"{ann.email}\nnobody\nbob\nstranger\nann\n")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Check the list before adding")).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="nobody")).to_contain_text("No user with this username or email.")
    expect(rows.filter(has_text="stranger")).to_contain_text("Not enrolled in this course")
    expect(rows.filter(has_text="Same person as line 1.")).to_contain_text("Cannot be added")
    expect(rows.filter(has_text="Will be booked")).to_have_count(2)
    assert not Booking.objects.exists()

    page.get_by_role("button", name="Add 2 learners").click()

    expect(page.get_by_text("2 learners booked.")).to_be_visible()
    expect(page.get_by_role("heading", name="Booked (2)")).to_be_visible()
    expect(page.get_by_role("cell", name="Ann ann@example.com")).to_be_visible()
    expect(page.get_by_role("cell", name="Bob bob@example.com")).to_be_visible()
    assert set(Booking.objects.values_list("user__username", flat=True)) == {"ann", "bob"}
