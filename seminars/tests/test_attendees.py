"""Attendees added, removed and moved by staff: the preview, the all-or-nothing add, remove, move."""

from datetime import timedelta

import pytest

from seminars.models import Booking, BookingStateChange, Enrolment, Notification, OutboundEmail, SeminarEvent
from seminars.services.attendees import (
    Outcome,
    attendee_candidates,
    attendee_move,
    attendee_remove,
    attendees_add,
    attendees_preview,
    identifiers_parse,
)
from seminars.services.bookings import BookingError, booking_create
from seminars.tests.conftest import enrol, make_session, make_user

State = Booking.State


def preview_of(event, actor, text, **options):
    return attendees_preview(event=event, lines=identifiers_parse(text), actor=actor, **options)


def outcomes(preview):
    return [(line.text, line.outcome) for line in preview.lines]


def learners(course, *names):
    return [enrol(make_user(name), course).user for name in names]


def history(booking):
    return list(
        BookingStateChange.objects.filter(booking=booking).values_list("state", "changed_by__username", "reason")
    )


# --- Parsing ---------------------------------------------------------------------------


def test_parse_reads_one_identifier_per_line_skipping_blanks_and_a_header():
    assert identifiers_parse("username\nann\n\n  bob  \n") == [(2, "ann"), (4, "bob")]


def test_parse_reads_the_first_column_of_a_csv_with_bom_and_accents():
    text = '\ufeffemail,name\r\nzoé@example.com,Zoé Ærø\r\n"ann@example.com",Ann\r\n'
    assert identifiers_parse(text) == [(2, "zoé@example.com"), (3, "ann@example.com")]


def test_parse_reads_semicolon_separated_csv():
    assert identifiers_parse("ann;Ann\nbob;Bob\n") == [(1, "ann"), (2, "bob")]


def test_parse_refuses_too_many_lines():
    with pytest.raises(BookingError, match="At most"):
        identifiers_parse("\n".join(f"user{i}" for i in range(501)))


# --- Preview ---------------------------------------------------------------------------


def test_preview_says_what_each_line_would_do(event, course, trainer, learner):
    event.capacity = 3
    event.save()
    ann, bob = learners(course, "ann", "bob")
    booking_create(event=event, user=learner, actor=learner)
    gone = enrol(make_user("gone", is_active=False), course).user
    stranger = make_user("stranger")
    text = f"ann\n{bob.email.upper()}\nlena\nnobody\nANN\ngone\n{stranger.username}\ntom\n"

    preview = preview_of(event, trainer, text)

    assert outcomes(preview) == [
        ("ann", Outcome.BOOK),
        ("BOB@EXAMPLE.COM", Outcome.BOOK),
        ("lena", Outcome.ALREADY),
        ("nobody", Outcome.REFUSED),
        ("ANN", Outcome.REFUSED),
        ("gone", Outcome.REFUSED),
        ("stranger", Outcome.REFUSED),
        ("tom", Outcome.REFUSED),
    ]
    reasons = [line.reason for line in preview.lines]
    assert "No user" in reasons[3]
    assert "Same person as line 1" in reasons[4]
    assert "deactivated" in reasons[5]
    assert "editing trainer or site admin can enrol" in reasons[6]
    assert "not as a learner" in reasons[7]
    assert gone and Booking.objects.filter(event=event).count() == 1  # a preview changes nothing


def test_preview_waitlists_past_capacity_when_the_event_has_a_waitlist(event, course, trainer):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    learners(course, "ann", "bob")
    assert outcomes(preview_of(event, trainer, "ann\nbob")) == [("ann", Outcome.BOOK), ("bob", Outcome.WAITLIST)]


def test_preview_refuses_past_capacity_without_a_waitlist(event, course, trainer):
    event.capacity = 1
    event.save()
    learners(course, "ann", "bob")
    preview = preview_of(event, trainer, "ann\nbob")
    assert outcomes(preview) == [("ann", Outcome.BOOK), ("bob", Outcome.REFUSED)]
    assert "full" in preview.lines[1].reason


def test_only_site_admins_may_book_over_capacity(event, course, trainer, site_admin):
    event.capacity = 1
    event.save()
    learners(course, "ann", "bob")
    with pytest.raises(BookingError, match="site admins"):
        preview_of(event, trainer, "ann\nbob", over_capacity=True)
    preview = preview_of(event, site_admin, "ann\nbob", over_capacity=True)
    assert outcomes(preview) == [("ann", Outcome.BOOK), ("bob", Outcome.BOOK)]


def test_preview_refuses_a_learner_booked_elsewhere_at_the_same_time(event, seminar, course, trainer):
    (ann,) = learners(course, "ann")
    other = SeminarEvent.objects.create(seminar=seminar, name="Overlap", capacity=5)
    session = event.sessions.get()
    make_session(other, session.start + timedelta(minutes=30))
    booking_create(event=other, user=ann, actor=ann)

    preview = preview_of(event, trainer, "ann")

    assert outcomes(preview) == [("ann", Outcome.REFUSED)]
    assert "Overlap" in preview.lines[0].reason


def test_editing_trainers_may_enrol_on_the_way(event, editing_trainer, trainer):
    make_user("stranger")
    with pytest.raises(BookingError, match="enrol"):
        preview_of(event, trainer, "stranger", enrol=True)
    preview = preview_of(event, editing_trainer, "stranger", enrol=True)
    assert outcomes(preview) == [("stranger", Outcome.BOOK)]
    assert preview.lines[0].enrol


def test_learners_and_outsiders_get_no_preview(event, learner, outsider):
    for person in (learner, outsider):
        with pytest.raises(BookingError, match="Only trainers"):
            preview_of(event, person, "lena")


# --- Add -------------------------------------------------------------------------------


def test_add_books_and_waitlists_with_the_actor_in_the_history_and_tells_the_learners(event, course, trainer):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    ann, bob = learners(course, "ann", "bob")
    preview = preview_of(event, trainer, "ann\nbob")

    attendees_add(event=event, users=[ann, bob], actor=trainer, expected=preview.outcomes())

    assert Booking.objects.get(event=event, user=ann).state == State.BOOKED
    assert Booking.objects.get(event=event, user=bob).state == State.WAITLISTED
    assert history(Booking.objects.get(user=ann)) == [("booked", "tom", "")]
    assert history(Booking.objects.get(user=bob)) == [("waitlisted", "tom", "")]
    assert Notification.objects.filter(user=ann, body__contains="Tom booked you").exists()
    assert Notification.objects.filter(user=bob, body__contains="waitlist").exists()
    kinds = {email.to: email.params["kind"] for email in OutboundEmail.objects.filter(kind="booking")}
    assert kinds == {ann.email: "booked", bob.email: "waitlisted"}


def test_add_refuses_the_whole_batch_when_the_event_changed_since_the_preview(event, course, trainer):
    event.capacity = 2
    event.save()
    ann, bob, cid = learners(course, "ann", "bob", "cid")
    preview = preview_of(event, trainer, "ann\nbob")
    booking_create(event=event, user=cid, actor=cid)  # takes a seat meanwhile

    with pytest.raises(BookingError, match="changed since the preview"):
        attendees_add(event=event, users=[ann, bob], actor=trainer, expected=preview.outcomes())

    assert not Booking.objects.filter(user__in=[ann, bob]).exists()
    assert not Notification.objects.filter(user__in=[ann, bob]).exists()


def test_add_enrols_when_asked_by_an_editing_trainer(event, editing_trainer, course):
    stranger = make_user("stranger")
    attendees_add(event=event, users=[stranger], actor=editing_trainer, enrol=True)
    assert Enrolment.objects.get(course=course, user=stranger).role == Enrolment.Role.LEARNER
    assert Booking.objects.get(user=stranger).state == State.BOOKED


def test_add_rolls_back_an_enrolment_when_the_batch_is_refused(event, editing_trainer, course, learner):
    stranger = make_user("stranger")
    booking_create(event=event, user=learner, actor=learner)
    with pytest.raises(BookingError):
        attendees_add(event=event, users=[stranger, learner], actor=editing_trainer, enrol=True)
    assert not Enrolment.objects.filter(user=stranger).exists()


def test_admin_books_over_capacity(event, course, site_admin):
    event.capacity = 1
    event.save()
    ann, bob = learners(course, "ann", "bob")
    attendees_add(event=event, users=[ann, bob], actor=site_admin, over_capacity=True)
    assert Booking.objects.filter(event=event, state=State.BOOKED).count() == 2


# --- Remove and move -------------------------------------------------------------------


def test_remove_cancels_with_the_reason_promotes_and_tells_the_learner(event, course, trainer, learner):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    (ann,) = learners(course, "ann")
    mine = booking_create(event=event, user=learner, actor=learner)
    waiting = booking_create(event=event, user=ann, actor=ann)

    attendee_remove(booking=mine, actor=trainer, reason="Wrong  cohort")

    assert history(mine)[-1] == ("user_cancelled", "tom", "Wrong cohort")
    waiting.refresh_from_db()
    assert waiting.state == State.BOOKED
    told = Notification.objects.get(user=learner)
    assert "Wrong cohort" in told.body
    assert OutboundEmail.objects.filter(to=learner.email, kind="notification").exists()
    assert OutboundEmail.objects.filter(to=learner.email, params__kind="cancelled").exists()


def test_remove_needs_a_reason_and_a_trainer(event, trainer, learner, learner2):
    mine = booking_create(event=event, user=learner, actor=learner)
    with pytest.raises(BookingError, match="reason"):
        attendee_remove(booking=mine, actor=trainer, reason="  ")
    with pytest.raises(BookingError, match="Only trainers"):
        attendee_remove(booking=mine, actor=learner2, reason="no")
    mine.refresh_from_db()
    assert mine.state == State.BOOKED


def test_move_books_at_the_target_with_history_on_both(event, seminar, trainer, learner):
    target = SeminarEvent.objects.create(seminar=seminar, name="Autumn intake", capacity=1)
    make_session(target, event.sessions.get().start + timedelta(days=1))
    mine = booking_create(event=event, user=learner, actor=learner)

    moved = attendee_move(booking=mine, to_event=target, actor=trainer, reason="Clash with work")

    assert moved.event == target and moved.state == State.BOOKED
    assert history(mine)[-1] == ("user_cancelled", "tom", "Clash with work")
    assert history(moved) == [("booked", "tom", "Clash with work")]
    assert "Autumn intake" in Notification.objects.get(user=learner).body


def test_move_refuses_another_seminar_and_a_full_target(event, seminar, course, trainer, learner, learner2):
    elsewhere = SeminarEvent.objects.create(
        seminar=seminar.__class__.objects.create(course=course, name="Other"), name="X", capacity=5
    )
    full = SeminarEvent.objects.create(seminar=seminar, name="Full", capacity=1)
    make_session(full, event.sessions.get().start + timedelta(days=1))
    booking_create(event=full, user=learner2, actor=learner2)
    mine = booking_create(event=event, user=learner, actor=learner)

    with pytest.raises(BookingError, match="same seminar"):
        attendee_move(booking=mine, to_event=elsewhere, actor=trainer, reason="r")
    with pytest.raises(BookingError, match="full"):
        attendee_move(booking=mine, to_event=full, actor=trainer, reason="r")
    mine.refresh_from_db()
    assert mine.state == State.BOOKED


# --- Search ----------------------------------------------------------------------------


def test_candidates_are_the_course_learners_without_a_signup(event, course, learner, learner2, trainer, outsider):
    booking_create(event=event, user=learner, actor=learner)
    learner2.last_name = "Zoéson"
    learner2.save()
    assert attendee_candidates(event=event, query="le") == [learner2]
    assert attendee_candidates(event=event, query="zoéson") == [learner2]
    assert attendee_candidates(event=event, query="otto") == []
    assert attendee_candidates(event=event, query="tom") == []


def test_candidates_include_a_person_outside_the_course_only_by_exact_username_or_email(event, outsider, learner):
    assert attendee_candidates(event=event, query="ott", with_unenrolled=True) == []
    assert attendee_candidates(event=event, query="otto", with_unenrolled=False) == []
    found = attendee_candidates(event=event, query="OTTO@example.com", with_unenrolled=True)
    assert found == [outsider] and found[0].course_role is None
    assert attendee_candidates(event=event, query="lena", with_unenrolled=True)[0].course_role == "learner"
