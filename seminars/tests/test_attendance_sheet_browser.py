"""The sign-in sheet in a real browser: the trainer overrides a proposed row, confirms, and prints."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from seminars.attendance import Proposal
from seminars.models import AttendanceSource, Booking, SessionAttendance
from seminars.services.attendance import session_attendance_propose
from seminars.services.bookings import booking_create
from seminars.tests.conftest import enrol, make_user
from seminars.tests.meeting_scene import enable_test_provider, held_session
from seminars.tests.test_event_form_browser import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
State = Booking.State


def test_trainer_confirms_the_sheet_with_one_row_overridden_and_prints_it(
    page, live_server, event, learner, learner2, trainer
):
    event.capacity = 5
    event.save()
    lena = booking_create(event=event, user=learner, actor=learner)
    leo = booking_create(event=event, user=learner2, actor=learner2)
    session = event.sessions.get()
    now = timezone.now()
    event.sessions.update(start=now - timedelta(hours=2), finish=now - timedelta(hours=1))
    session.refresh_from_db()
    session_attendance_propose(
        session=session,
        proposals={
            lena.pk: Proposal(State.FULLY_ATTENDED, 55, AttendanceSource.REGISTRANT),
            leo.pk: Proposal(State.NO_SHOW, 0, AttendanceSource.NOT_SEEN),
        },
    )

    log_in(page, live_server, trainer)
    page.goto(f"{live_server.url}{event.get_absolute_url()}")
    page.get_by_role("link", name="Sign-in sheet").click()
    expect(page.get_by_role("heading", name="Sign-in sheet")).to_be_visible()
    expect(page.get_by_label("Attendance of Lena")).to_have_value(State.FULLY_ATTENDED)
    expect(page.get_by_label("Attendance of Leo")).to_have_value(State.NO_SHOW)

    page.get_by_label("Attendance of Leo").select_option(label="Partially attended")
    page.get_by_label("Minutes of Leo").fill("25")
    page.get_by_role("button", name="Confirm attendance").click()

    expect(page.get_by_text("Attendance confirmed (2 changes).")).to_be_visible()
    expect(page.get_by_text("Set by hand")).to_be_visible()
    rows = dict(SessionAttendance.objects.values_list("booking_id", "source"))
    assert rows == {lena.pk: "registrant", leo.pk: "manual"}

    expect(page.get_by_text("New meeting data since the confirmation")).to_have_count(0)  # the override is not news

    # On paper: no site header or buttons, a signature column.
    expect(page.get_by_role("columnheader", name="Signature")).to_be_hidden()
    page.emulate_media(media="print")
    expect(page.get_by_role("columnheader", name="Signature")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm attendance")).to_be_hidden()
    expect(page.get_by_role("link", name="Download CSV")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()


def test_trainer_matches_a_dial_in_to_a_learner_and_confirms(
    page, live_server, settings, event, editing_trainer, trainer, learner, learner2, django_capture_on_commit_callbacks
):
    enable_test_provider(settings)
    lia = enrol(make_user("lia"), event.seminar.course).user
    scene = held_session(
        event=event,
        owner=editing_trainer,
        learners=[learner, learner2, lia],
        run_on_commit=django_capture_on_commit_callbacks,
    )
    scene.register("lena")
    scene.stay("lena-laptop", 2, 40, name="Lena", registrant_id="reg-lena")
    scene.stay("lena-phone", 45, 60, name="Lena", registrant_id="reg-lena")
    scene.stay("dial-in", 5, 30, name="Ünal Öztürk (phone)")
    scene.ended()

    log_in(page, live_server, trainer)
    page.goto(f"{live_server.url}{event.get_absolute_url()}")
    page.get_by_role("link", name="Sign-in sheet").click()
    expect(page.get_by_label("Attendance of Lena")).to_have_value(State.FULLY_ATTENDED)
    expect(page.get_by_label("Attendance of Lia")).to_have_value(State.NO_SHOW)
    unmatched = page.get_by_test_id("unmatched-participant")
    expect(unmatched).to_have_count(1)
    expect(unmatched).to_contain_text("Ünal Öztürk (phone)")
    expect(unmatched).to_contain_text("25")

    page.get_by_label("Match Ünal Öztürk (phone) to").select_option(label="Lia")
    unmatched.get_by_role("button", name="Save").click()

    expect(page.get_by_text("The participant now counts for Lia.")).to_be_visible()
    expect(page.get_by_test_id("unmatched-participant")).to_have_count(0)
    expect(page.get_by_test_id("decided-participant")).to_contain_text("Counts for Lia")
    expect(page.get_by_label("Attendance of Lia")).to_have_value(State.PARTIALLY_ATTENDED)
    expect(page.get_by_label("Minutes of Lia")).to_have_value("25")
    expect(page.get_by_text("Participant matched by hand")).to_be_visible()

    page.get_by_role("button", name="Confirm attendance").click()
    expect(page.get_by_text("Attendance confirmed (3 changes).")).to_be_visible()
    rows = {row.booking.user.username: (row.state, row.source) for row in SessionAttendance.objects.all()}
    assert rows == {
        "lena": (State.FULLY_ATTENDED, AttendanceSource.REGISTRANT),
        "leo": (State.NO_SHOW, AttendanceSource.NOT_SEEN),
        "lia": (State.PARTIALLY_ATTENDED, AttendanceSource.HAND_MATCHED),
    }
