"""A triple click on "Save changes" sends the event form once and creates one event (issue 8, section 4)."""

import os

import pytest
from playwright.sync_api import expect

from seminars.models import SeminarEvent
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_triple_click_on_save_sends_the_form_once(page, live_server, editing_trainer, seminar):
    log_in(page, live_server, editing_trainer)
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/events/add/")
    page.get_by_label("Event name").fill("Triple click")
    # The answer to the first POST is held back, as on a slow server: the page is still there
    # for the second and third click.
    held = []
    page.route(
        "**/events/add/", lambda route: held.append(route) if route.request.method == "POST" else route.continue_()
    )
    save = page.get_by_role("button", name="Save changes")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    with page.expect_request(lambda request: request.method == "POST"):
        page.mouse.click(x, y)
    page.mouse.click(x, y)
    page.mouse.click(x, y)
    page.mouse.move(0, 0)  # one more round trip: a request the clicks sent has reached the route

    assert len(held) == 1, "the page sent the form once"
    held[0].continue_()
    expect(page.get_by_text("Saved Triple click.")).to_be_visible()
    assert SeminarEvent.objects.filter(name="Triple click").count() == 1


def test_save_works_again_after_the_server_refused_the_form(page, live_server, editing_trainer, seminar):
    log_in(page, live_server, editing_trainer)
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/events/add/")
    page.get_by_label("Event name").fill("Second try")
    page.locator("#event-form").get_by_label("Capacity", exact=True).fill("1000000")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Capacity can be at most 100000.")).to_be_visible()

    save = page.get_by_role("button", name="Save changes")
    expect(save).to_be_enabled()
    page.locator("#event-form").get_by_label("Capacity", exact=True).fill("12")
    save.click()
    expect(page.get_by_text("Saved Second try.")).to_be_visible()
    assert SeminarEvent.objects.get(name="Second try").capacity == 12
