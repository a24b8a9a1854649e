"""Approval by a trainer (issue 10, "Approval"): a learner requests a place and sees it awaits a trainer;
the trainer opens the approvals list from the header, approves two requests at once and declines one
with a reason; the learner sees they are booked, the declined learner sees why."""

import os

import pytest
from playwright.sync_api import expect

from seminars.models import Booking, Seminar
from seminars.services.bookings import booking_create
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_person(browser, live_server, user):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, live_server, user)
    return page


def test_approval_by_a_trainer(browser, live_server, seminar, event, learner, learner2, learner3, trainer, screenshot):
    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    event.capacity = 5
    event.save()
    event_url = f"{live_server.url}{event.get_absolute_url()}"

    lena = as_person(browser, live_server, learner)
    lena.goto(event_url)
    expect(lena.get_by_text("A place needs approval: your request goes to the course's trainers.")).to_be_visible()
    lena.get_by_role("button", name="Request a place").click()
    expect(lena.get_by_text("Your request has been sent.")).to_be_visible()
    expect(lena.get_by_text("Awaiting approval")).to_be_visible()
    expect(lena.get_by_text("Your request awaits approval by a trainer of the course.")).to_be_visible()
    expect(lena.get_by_role("button", name="Withdraw request")).to_be_visible()
    assert not lena.get_by_role("button", name="Book").count()
    for other in (learner2, learner3):
        booking_create(event=event, user=other, actor=other)

    tom = as_person(browser, live_server, trainer)
    tom.get_by_role("link", name="Approvals 3").click()
    expect(tom.get_by_role("heading", name="Requests awaiting your approval")).to_be_visible()
    screenshot(tom, "approvals")
    tom.get_by_label("Select the request of Lena").check()
    tom.get_by_label("Select the request of Leo").check()
    tom.get_by_label("Decision").select_option(label="Approve")
    tom.get_by_role("button", name="Apply to the ticked requests").click()
    expect(tom.get_by_text("2 requests approved and booked.")).to_be_visible()
    expect(tom.get_by_role("link", name="Approvals 1")).to_be_visible()

    tom.get_by_label("Select the request of Lia").check()
    tom.get_by_label("Decision").select_option(label="Decline")
    tom.get_by_label("Reason for declining (optional; the learner is told)").fill("This one is for fire wardens only.")
    tom.get_by_role("button", name="Apply to the ticked requests").click()
    expect(tom.get_by_text("1 request declined; the learner is told.")).to_be_visible()
    expect(tom.get_by_text("Nothing awaits your approval.")).to_be_visible()
    expect(tom.get_by_role("link", name="Approvals", exact=False)).to_have_count(0)

    lena.reload()
    expect(lena.get_by_text("Booked", exact=True)).to_be_visible()
    expect(lena.get_by_role("link", name="Cancel booking")).to_be_visible()

    lia = as_person(browser, live_server, learner3)
    lia.goto(event_url)
    expect(lia.get_by_text("Your request was declined. Reason: This one is for fire wardens only.")).to_be_visible()
    assert dict(Booking.objects.values_list("user__username", "state")) == {
        "lena": Booking.State.BOOKED,
        "leo": Booking.State.BOOKED,
        "lia": Booking.State.DECLINED,
    }
