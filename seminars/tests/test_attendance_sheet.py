"""The sign-in sheet of a session: who may see it, confirming from it, and its CSV."""

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from seminars.attendance import Proposal
from seminars.models import AttendanceSource, Booking, BookingStateChange, SessionAttendance
from seminars.services.attendance import session_attendance_confirm, session_attendance_propose

State = Booking.State
Source = AttendanceSource


def sheet_url(session):
    return reverse("seminars:session_attendance", args=[session.pk])


def csv_url(session):
    return reverse("seminars:session_attendance_csv", args=[session.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Who may see and use it ----------------------------------------------------------------------

ROLES = [
    ("site_admin", 200),
    ("editing_trainer", 200),
    ("trainer", 200),
    ("learner", 403),
    ("learner2", 403),
    ("outsider", 404),  # outside the course: as on every course page, nothing says it exists
]


@pytest.mark.parametrize("role, status", ROLES)
def test_the_sheet_is_for_trainers_and_admins(client, as_user, bookings, session, role, status):
    as_user(role)
    assert client.get(sheet_url(session)).status_code == status
    assert client.get(csv_url(session)).status_code == status


@pytest.mark.parametrize("role, status", [(role, 302 if status == 200 else status) for role, status in ROLES])
def test_only_trainers_and_admins_confirm_from_the_sheet(client, as_user, bookings, session, started, role, status):
    as_user(role)
    lena = bookings["lena"]
    response = client.post(sheet_url(session), {f"state_{lena.pk}": State.FULLY_ATTENDED})
    assert response.status_code == status
    assert SessionAttendance.objects.filter(state=State.FULLY_ATTENDED).exists() is (status == 302)


def test_anonymous_visitors_are_sent_to_log_in(client, session):
    for url in (sheet_url(session), csv_url(session)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_missing_session_is_404(client, as_user, db, site_admin):
    as_user("site_admin")
    assert client.get(reverse("seminars:session_attendance", args=[999999])).status_code == 404


def test_the_event_page_links_trainers_to_each_sessions_sheet(client, as_user, bookings, session):
    as_user("trainer")
    assert sheet_url(session) in client.get(session.event.get_absolute_url()).content.decode()
    as_user("learner")
    assert sheet_url(session) not in client.get(session.event.get_absolute_url()).content.decode()


# --- What it shows -----------------------------------------------------------------------------


def test_before_the_start_the_sheet_prints_but_does_not_confirm(client, as_user, bookings, session):
    as_user("trainer")
    html = client.get(sheet_url(session)).content.decode()
    assert "Lena" in html and "Leo" in html
    assert "Confirm attendance" not in html
    assert "You can print this sheet for signatures now." in html
    assert "sign-in-sheet.css" in html

    lena = bookings["lena"]
    response = client.post(sheet_url(session), {f"state_{lena.pk}": State.NO_SHOW}, follow=True)
    assert "Attendance was not saved: Attendance for a session can be taken once it has started." in messages_of(
        response
    )
    assert not SessionAttendance.objects.exists()


def test_proposals_prefill_the_rows(client, as_user, bookings, session, started):
    lena, leo = bookings["lena"], bookings["leo"]
    session_attendance_propose(
        session=session,
        proposals={
            lena.pk: Proposal(State.FULLY_ATTENDED, 53, Source.REGISTRANT),
            leo.pk: Proposal("present", None, Source.EMAIL),
        },
    )
    as_user("trainer")
    response = client.get(sheet_url(session))
    form = response.context["form"]

    assert form[f"state_{lena.pk}"].value() == State.FULLY_ATTENDED
    assert form[f"minutes_{lena.pk}"].value() == 53
    assert form[f"state_{leo.pk}"].value() == ""  # present, minutes unknown: the trainer decides
    html = response.content.decode()
    assert "Fully attended, 53 minutes" in html
    assert "Personal join link" in html
    assert "Present, minutes unknown" in html
    assert "Confirm attendance" in html


def test_later_data_is_shown_beside_a_confirmed_row(client, as_user, bookings, session, trainer, started):
    lena = bookings["lena"]
    session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    session_attendance_propose(session=session, proposals={lena.pk: Proposal(State.NO_SHOW, 0, Source.NOT_SEEN)})
    as_user("trainer")
    response = client.get(sheet_url(session))
    html = response.content.decode()

    assert response.context["form"][f"state_{lena.pk}"].value() == State.FULLY_ATTENDED
    assert "New meeting data since the confirmation" in html
    assert "Not among the meeting&#x27;s participants" in html
    assert "By Tom," in html
    # Once confirmed, a row cannot go back to "not set".
    choices = [value for value, _label in response.context["form"].fields[f"state_{lena.pk}"].choices]
    assert "" not in choices


# --- Confirming ----------------------------------------------------------------------------------


def test_confirming_keeps_the_evidence_of_a_kept_proposal_and_marks_changes_as_by_hand(
    client, as_user, bookings, session, started
):
    lena, leo = bookings["lena"], bookings["leo"]
    session_attendance_propose(
        session=session,
        proposals={
            lena.pk: Proposal(State.FULLY_ATTENDED, 53, Source.REGISTRANT),
            leo.pk: Proposal(State.NO_SHOW, 0, Source.NOT_SEEN),
        },
    )
    trainer = as_user("trainer")
    data = {
        f"state_{lena.pk}": State.FULLY_ATTENDED,
        f"minutes_{lena.pk}": "53",
        # The trainer overrides Leo: he was in the room, not in the meeting.
        f"state_{leo.pk}": State.PARTIALLY_ATTENDED,
        f"minutes_{leo.pk}": "30",
    }
    response = client.post(sheet_url(session), data, follow=True)

    assert "Attendance confirmed (2 changes)." in messages_of(response)
    rows = {row.booking_id: row for row in SessionAttendance.objects.all()}
    assert (rows[lena.pk].state, rows[lena.pk].minutes, rows[lena.pk].source) == ("fully_attended", 53, "registrant")
    assert (rows[leo.pk].state, rows[leo.pk].minutes, rows[leo.pk].source) == ("partially_attended", 30, "manual")
    assert {row.confirmed_by for row in rows.values()} == {trainer}
    last = {
        change.booking_id: (change.state, change.changed_by, change.source)
        for change in BookingStateChange.objects.order_by("pk")
    }
    assert last[lena.pk] == ("fully_attended", trainer, "registrant")
    assert last[leo.pk] == ("partially_attended", trainer, "manual")


def test_rows_left_not_set_are_not_confirmed(client, as_user, bookings, session, started):
    lena, leo = bookings["lena"], bookings["leo"]
    as_user("trainer")
    response = client.post(sheet_url(session), {f"state_{lena.pk}": State.NO_SHOW, f"state_{leo.pk}": ""}, follow=True)
    assert "Attendance confirmed (1 change)." in messages_of(response)
    assert list(SessionAttendance.objects.values_list("booking_id", "state")) == [(lena.pk, "no_show")]


@pytest.mark.parametrize(
    "minutes, message",
    [
        ("81", "Enter minutes from 0 to 80 (the session with its grace time)."),
        ("-1", "Enter minutes from 0 to 80 (the session with its grace time)."),
        ("lots", "Enter a whole number of minutes."),
        ("1e400", "Enter a whole number of minutes."),
    ],
)
def test_bad_minutes_are_refused_at_the_field_and_nothing_is_saved(
    client, as_user, bookings, session, started, minutes, message
):
    lena, leo = bookings["lena"], bookings["leo"]
    as_user("trainer")
    data = {f"state_{lena.pk}": State.FULLY_ATTENDED, f"minutes_{lena.pk}": minutes, f"state_{leo.pk}": State.NO_SHOW}
    response = client.post(sheet_url(session), data)

    assert response.status_code == 200
    assert response.context["form"].errors[f"minutes_{lena.pk}"] == [message]
    assert message in response.content.decode()
    assert "Attendance was not saved: correct the rows marked below." in messages_of(response)
    assert not SessionAttendance.objects.exists()


def test_minutes_without_a_state_are_refused_at_the_field(client, as_user, bookings, session, started):
    lena = bookings["lena"]
    as_user("trainer")
    response = client.post(sheet_url(session), {f"state_{lena.pk}": "", f"minutes_{lena.pk}": "20"})
    assert response.context["form"].errors[f"minutes_{lena.pk}"] == [
        "Choose the learner's attendance, or leave the minutes empty."
    ]
    assert not SessionAttendance.objects.exists()


def test_a_made_up_state_is_refused_at_the_field(client, as_user, bookings, session, started):
    lena = bookings["lena"]
    as_user("trainer")
    response = client.post(sheet_url(session), {f"state_{lena.pk}": State.BOOKED})
    assert f"state_{lena.pk}" in response.context["form"].errors
    assert not SessionAttendance.objects.exists()


def test_the_sheet_only_accepts_get_and_post(client, as_user, session):
    as_user("trainer")
    assert client.put(sheet_url(session)).status_code == 405
    assert client.post(csv_url(session)).status_code == 405


# --- CSV -------------------------------------------------------------------------------------------


def test_the_csv_is_utf8_with_a_bom_and_keeps_accents(client, as_user, bookings, session, trainer, started, learner):
    learner.first_name, learner.last_name = "Léa", "Müller-Øster"
    learner.save()
    lena = bookings["lena"]
    session_attendance_propose(session=session, proposals={lena.pk: Proposal(State.FULLY_ATTENDED, 53, Source.EMAIL)})
    session_attendance_confirm(
        session=session, rows={lena.pk: (State.FULLY_ATTENDED, 53)}, actor=trainer, sources={lena.pk: Source.EMAIL}
    )
    as_user("trainer")
    response = client.get(csv_url(session))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="attendance-fire-wardens-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Learner", "Username", "Email", "Attendance", "Minutes", "Source"]
    by_username = {row[1]: row for row in rows[1:]}
    assert by_username["lena"][0] == "Léa Müller-Øster"
    assert by_username["lena"][3:7] == ["Fully attended", "53", "Email address", "Tom"]
    assert by_username["lena"][8:11] == ["Fully attended", "53", "Email address"]
    assert by_username["leo"][3:] == [""] * 9


def test_the_csv_does_not_let_a_name_run_as_a_formula(client, as_user, bookings, session, learner):
    learner.first_name, learner.last_name = '=HYPERLINK("http://evil.test")', ""
    learner.save()
    as_user("trainer")
    rows = list(csv.reader(io.StringIO(client.get(csv_url(session)).content.decode("utf-8-sig"))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.test")'
