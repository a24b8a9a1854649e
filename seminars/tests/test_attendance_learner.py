"""Learners see their own attendance per session on "My sessions", once a trainer has confirmed it."""

from django.urls import reverse

from seminars.attendance import Proposal
from seminars.models import AttendanceSource, Booking
from seminars.services.attendance import session_attendance_confirm, session_attendance_propose

State = Booking.State


def my_sessions(client, user):
    client.force_login(user)
    response = client.get(reverse("seminars:dashboard"))
    assert response.status_code == 200
    return response


def test_a_proposal_alone_is_not_shown_to_the_learner(client, bookings, session, learner, started):
    lena = bookings["lena"]
    session_attendance_propose(
        session=session, proposals={lena.pk: Proposal(State.NO_SHOW, 0, AttendanceSource.NOT_SEEN)}
    )
    html = my_sessions(client, learner).content.decode()
    assert "My attendance" not in html
    assert "No show" not in html


def test_the_learner_sees_their_confirmed_attendance_and_nobody_elses(
    client, bookings, session, learner, learner2, trainer, started
):
    lena, leo = bookings["lena"], bookings["leo"]
    session_attendance_confirm(
        session=session, rows={lena.pk: (State.PARTIALLY_ATTENDED, 42), leo.pk: (State.NO_SHOW, 0)}, actor=trainer
    )

    response = my_sessions(client, learner)
    html = response.content.decode()
    assert "My attendance" in html
    assert "Partially attended" in html and ">42<" in html
    assert [(row.booking.user.username, row.state) for row in response.context["my_attendance"]] == [
        ("lena", State.PARTIALLY_ATTENDED)
    ]
    assert reverse("seminars:event", args=[session.event_id]) in html

    leo_page = my_sessions(client, learner2)
    assert [row.state for row in leo_page.context["my_attendance"]] == [State.NO_SHOW]
    assert "Partially attended" not in leo_page.content.decode()


def test_a_trainer_with_no_attendance_of_their_own_sees_no_such_section(client, bookings, session, trainer, started):
    lena = bookings["lena"]
    session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    assert "My attendance" not in my_sessions(client, trainer).content.decode()


def test_later_data_does_not_change_what_the_learner_sees(client, bookings, session, learner, trainer, started):
    lena = bookings["lena"]
    session_attendance_confirm(session=session, rows={lena.pk: (State.FULLY_ATTENDED, 58)}, actor=trainer)
    session_attendance_propose(
        session=session, proposals={lena.pk: Proposal(State.NO_SHOW, 0, AttendanceSource.NOT_SEEN)}
    )
    html = my_sessions(client, learner).content.decode()
    assert "Fully attended" in html and ">58<" in html
    assert "No show" not in html
