"""A trainer opens an event's report from the event page, filters it by state and exports the CSV: the
downloaded file reads back through Python's csv module with its accents intact, the learner whose
name starts with "=" neutralised, and exactly the filtered rows (issue 10, "Reports" and "Done when")."""

import csv
import io
import os

import pytest
from playwright.sync_api import expect

from seminars.models import Booking
from seminars.tests.report_scene import FORMULA_NAME, build_report_scene
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_trainer_filters_the_event_report_and_exports_the_csv(page, live_server, trainer, course, seminar, screenshot):
    # The scene's sessions are in June 2030, ahead of the real clock: the booking services accept them.
    rs = build_report_scene(course=course, seminar=seminar, trainer=trainer)
    log_in(page, live_server, trainer)
    page.goto(f"{live_server.url}{rs.spring.get_absolute_url()}")
    page.get_by_role("link", name="Sign-ups and attendance report").click()

    expect(page.get_by_role("heading", name="Sign-ups and attendance: Fire wardens Spring intake")).to_be_visible()
    expect(page.get_by_text("3 sign-ups · Booked: 2 · Cancelled: 1")).to_be_visible()
    expect(page.get_by_role("link", name="Sign-in sheet")).to_have_count(2)

    page.get_by_label("Booked", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("2 sign-ups · Booked: 2")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)  # the heading and two learners
    expect(table.get_by_role("cell", name="Zoé Ærø")).to_be_visible()
    expect(table.get_by_role("cell", name=f"{FORMULA_NAME} Smith")).to_be_visible()
    expect(table.get_by_role("cell", name="Leo Brandt")).to_have_count(0)
    screenshot(page, "report")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("report-fire-wardens-spring-intake-")
    raw = open(download.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))

    header, body = rows[0], rows[1:]
    learners = {row[header.index("Username")]: row[header.index("Learner")] for row in body}
    assert learners == {"zoe": "Zoé Ærø", "formula": "'" + FORMULA_NAME + " Smith"}
    expected = list(
        Booking.objects.filter(event=rs.spring, state=Booking.State.BOOKED)
        .order_by("pk")
        .values_list("user__username", flat=True)
    )
    assert [row[header.index("Username")] for row in body] == expected
    assert all(row[header.index("State")] == "Booked" for row in body)
