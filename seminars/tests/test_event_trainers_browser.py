"""An admin assigns a trainer and a facilitator on the event form, is warned that the trainer already runs
another event at that time, allows it, saves; the facilitator finds the session on My sessions
(issue 10, "Trainers and facilitators")."""

import os

import pytest
from playwright.sync_api import expect

from seminars.models import Enrolment, EventTrainer, SeminarEvent, Session
from seminars.tests.conftest import enrol, make_user
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_assign_a_trainer_and_a_facilitator_with_a_conflict_allowed(
    page, browser, live_server, site_admin, trainer, event, seminar, screenshot
):
    fay = make_user("fay")
    enrol(fay, seminar.course, Enrolment.Role.TRAINER)
    session = event.sessions.get()
    elsewhere = SeminarEvent.objects.create(seminar=seminar, name="Night shift")
    Session.objects.create(event=elsewhere, start=session.start, finish=session.finish, time_zone="UTC")
    EventTrainer.objects.create(event=elsewhere, user=trainer)

    log_in(page, live_server, site_admin)
    page.goto(f"{live_server.url}/events/{event.pk}/edit/")
    trainers = page.get_by_role("region", name="Trainers")
    expect(trainers.get_by_text("Only the course's trainers and editing trainers can be chosen")).to_be_visible()
    trainers.get_by_label("Tom", exact=True).select_option(label="Trainer")
    trainers.get_by_label("Fay", exact=True).select_option(label="Facilitator")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(trainers.get_by_text("Tom already runs Fire wardens, Night shift at an overlapping time")).to_be_visible()
    screenshot(page, "event-trainers-conflict")
    assert not EventTrainer.objects.filter(event=event).exists()

    trainers.get_by_label("Allow trainer conflicts").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Spring intake.")).to_be_visible()
    people = page.get_by_test_id("event-trainers")
    expect(people).to_contain_text("Tom (Trainer)")
    expect(people).to_contain_text("Fay (Facilitator)")

    facilitator = browser.new_context().new_page()
    log_in(facilitator, live_server, fay)
    facilitator.goto(f"{live_server.url}/")
    run = facilitator.get_by_role("region", name="Sessions I run")
    row = run.get_by_role("row").filter(has_text="Spring intake")
    expect(row).to_contain_text("Facilitator")
    expect(run.get_by_role("row").filter(has_text="Night shift")).to_have_count(0)
