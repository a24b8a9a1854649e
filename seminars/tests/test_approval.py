"""Approval of a place (issue 10, "Approval"): requests take no seat, approvers book or waitlist them
by the self-booking rules, decline with a reason, two-step manager-then-admin, withdrawal, expiry,
emails, and the one rule of who may decide (seminars.permissions)."""

from datetime import timedelta
from itertools import product

import pytest
from django.core import mail
from django.db.models import Q

from seminars.models import Booking, BookingStateChange, Enrolment, EventTrainer, Profile, Seminar, SeminarEvent
from seminars.permissions import (
    Awaits,
    booking_request_awaits,
    decidable_requests_q,
    may_decide_request,
    request_awaits,
)
from seminars.selectors.approvals import decidable_request_count, decidable_requests
from seminars.services.approvals import (
    Decision,
    Outcome,
    booking_request_approve,
    booking_request_decline,
    booking_request_withdraw,
    booking_requests_decide,
    booking_requests_expire,
)
from seminars.services.bookings import (
    BookingError,
    booking_cancel,
    booking_create,
    bookings_event_cancelled,
    bookings_promote_waitlist,
)
from seminars.tests.conftest import enrol, make_session, make_user

State = Booking.State
Type = Seminar.ApprovalType


def set_approval(seminar, approval_type):
    seminar.approval_type = approval_type
    seminar.save()


def set_manager(user, manager):
    Profile.objects.update_or_create(user=user, defaults={"manager": manager})


def history(booking):
    return list(
        BookingStateChange.objects.filter(booking=booking).values_list("state", "changed_by__username", "reason")
    )


def sent(kind_subject):
    return [m for m in mail.outbox if m.subject.startswith(kind_subject)]


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


@pytest.fixture
def manager(db):
    return make_user("mary")


# --- Requesting ---------------------------------------------------------------------------


def test_a_learner_on_a_seminar_with_approval_requests_and_takes_no_seat(
    event, seminar, learner, trainer, editing_trainer, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.TRAINER)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(event=event, user=learner, actor=learner)

    assert booking.state == State.REQUESTED
    assert State.REQUESTED not in Booking.SEAT_STATES
    assert Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).count() == 0
    assert history(booking) == [(State.REQUESTED, "lena", "")]
    # The course's trainers are asked, each in their own email that links to the approvals page.
    asked = sent("Approval requested: Fire wardens, Spring intake")
    assert sorted(m.to[0] for m in asked) == ["edna@example.com", "tom@example.com"]
    assert "Lena asks for a place on this event" in asked[0].body
    assert "http://testserver/approvals/" in asked[0].body
    assert not sent("Booking confirmed")


def test_an_event_with_its_own_trainers_asks_them_and_any_course_trainer_may_decide(
    event, seminar, learner, trainer, editing_trainer, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.TRAINER)
    EventTrainer.objects.create(event=event, user=trainer, role=EventTrainer.Role.FACILITATOR)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(event=event, user=learner, actor=learner)

    assert [m.to for m in sent("Approval requested")] == [["tom@example.com"]]
    assert booking_request_approve(booking=booking, actor=editing_trainer) == Outcome.BOOKED


def test_staff_adding_a_learner_book_directly(event, seminar, learner, trainer):
    set_approval(seminar, Type.TRAINER)
    assert booking_create(event=event, user=learner, actor=trainer).state == State.BOOKED


def test_without_approval_learners_book_as_before(event, learner):
    assert booking_create(event=event, user=learner, actor=learner).state == State.BOOKED


def test_a_full_event_without_a_waitlist_refuses_the_request_as_it_refuses_a_booking(
    event, seminar, learner, learner2, trainer
):
    set_approval(seminar, Type.TRAINER)
    event.capacity = 1
    event.save()
    booking_create(event=event, user=learner2, actor=trainer)
    with pytest.raises(BookingError, match="This event is full."):
        booking_create(event=event, user=learner, actor=learner)


# --- Approving and declining --------------------------------------------------------------


def test_a_trainer_approves_a_request_and_the_learner_is_booked_and_emailed(
    event, seminar, learner, trainer, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.TRAINER)
    booking = booking_create(event=event, user=learner, actor=learner)
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = booking_request_approve(booking=booking, actor=trainer)

    booking.refresh_from_db()
    assert (outcome, booking.state) == (Outcome.BOOKED, State.BOOKED)
    assert history(booking)[-1] == (State.BOOKED, "tom", "")
    assert [m.to for m in sent("Booking confirmed: Fire wardens, Spring intake")] == [["lena@example.com"]]


def test_approving_on_a_full_event_with_a_waitlist_waitlists(event, seminar, learner, learner2, trainer):
    set_approval(seminar, Type.TRAINER)
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    request = booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=trainer)  # takes the last seat

    assert booking_request_approve(booking=request, actor=trainer) == Outcome.WAITLISTED
    request.refresh_from_db()
    assert request.state == State.WAITLISTED


def test_approving_on_a_full_event_without_a_waitlist_is_refused_and_changes_nothing(
    event, seminar, learner, learner2, trainer
):
    set_approval(seminar, Type.TRAINER)
    event.capacity = 1
    event.save()
    request = booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=trainer)

    with pytest.raises(BookingError, match="This event is full."):
        booking_request_approve(booking=request, actor=trainer)
    request.refresh_from_db()
    assert request.state == State.REQUESTED


def test_declining_records_the_reason_and_tells_the_learner(
    client, event, seminar, learner, trainer, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.TRAINER)
    booking = booking_create(event=event, user=learner, actor=learner)
    with django_capture_on_commit_callbacks(execute=True):
        booking_request_decline(booking=booking, actor=trainer, reason="Only for fire wardens.")

    booking.refresh_from_db()
    assert booking.state == State.DECLINED
    assert history(booking)[-1] == (State.DECLINED, "tom", "Only for fire wardens.")
    [email] = sent("Request declined: Fire wardens, Spring intake")
    assert email.to == ["lena@example.com"]
    assert "Reason: Only for fire wardens." in email.body
    assert learner.notifications.get().body == "Your request for a place was declined. Reason: Only for fire wardens."

    client.force_login(learner)
    html = client.get(event.get_absolute_url()).content.decode()
    assert "Your request was declined. Reason: Only for fire wardens." in html
    assert "Request a place" not in html


def test_a_decided_request_cannot_be_decided_again(event, seminar, learner, trainer, site_admin):
    set_approval(seminar, Type.TRAINER)
    booking = booking_create(event=event, user=learner, actor=learner)
    booking_request_approve(booking=booking, actor=trainer)
    with pytest.raises(BookingError, match=r"no longer pending \(booked\)"):
        booking_request_decline(booking=booking, actor=site_admin)


def test_an_approval_once_the_event_has_started_is_refused(event, seminar, learner, learner2, trainer, time_machine):
    set_approval(seminar, Type.TRAINER)
    before, after = (booking_create(event=event, user=u, actor=u) for u in (learner, learner2))
    start = event.sessions.get().start

    time_machine.move_to(start - timedelta(seconds=1))
    assert booking_request_approve(booking=before, actor=trainer) == Outcome.BOOKED

    time_machine.move_to(start)
    with pytest.raises(BookingError, match="already started: the request can no longer be approved"):
        booking_request_approve(booking=after, actor=trainer)
    after.refresh_from_db()
    assert after.state == State.REQUESTED


def test_a_request_is_never_promoted_from_the_waitlist(event, seminar, learner, learner2, learner3, trainer):
    """waitlist_promote_locked books the waitlisted only: a request waits for its approver, not for a seat."""
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    booked = booking_create(event=event, user=learner, actor=learner)
    set_approval(seminar, Type.TRAINER)
    request = booking_create(event=event, user=learner2, actor=learner2)  # made first: oldest
    waiting = booking_create(event=event, user=learner3, actor=trainer)
    assert waiting.state == State.WAITLISTED

    booking_cancel(booking=booked, actor=learner)

    request.refresh_from_db()
    waiting.refresh_from_db()
    assert (request.state, waiting.state) == (State.REQUESTED, State.BOOKED)
    # With only a request left and a seat free, nobody is promoted.
    event.capacity = 3
    event.save()
    assert bookings_promote_waitlist(event=event, actor=trainer) == []
    request.refresh_from_db()
    assert request.state == State.REQUESTED


def test_a_cancelled_event_cancels_its_pending_requests(event, seminar, learner, editing_trainer):
    set_approval(seminar, Type.TRAINER)
    booking = booking_create(event=event, user=learner, actor=learner)
    event.cancelled = True
    event.save()
    bookings_event_cancelled(event=event, actor=editing_trainer, reason="Trainer ill")
    booking.refresh_from_db()
    assert booking.state == State.EVENT_CANCELLED


# --- Withdrawing --------------------------------------------------------------------------


def test_the_learner_withdraws_their_request_and_may_request_again(event, seminar, learner, learner2):
    set_approval(seminar, Type.TRAINER)
    booking = booking_create(event=event, user=learner, actor=learner)
    with pytest.raises(BookingError, match="only withdraw your own"):
        booking_request_withdraw(booking=booking, actor=learner2)

    booking_request_withdraw(booking=booking, actor=learner)

    booking.refresh_from_db()
    assert booking.state == State.USER_CANCELLED
    assert history(booking)[-1] == (State.USER_CANCELLED, "lena", "")
    assert booking_create(event=event, user=learner, actor=learner).state == State.REQUESTED


# --- The manager, and manager then a site admin -------------------------------------------


def test_the_managers_approval_books_under_manager_approval(event, seminar, learner, manager, trainer):
    set_approval(seminar, Type.MANAGER)
    set_manager(learner, manager)
    booking = booking_create(event=event, user=learner, actor=learner)

    with pytest.raises(BookingError, match="may not decide"):
        booking_request_approve(booking=booking, actor=trainer)
    assert booking_request_approve(booking=booking, actor=manager) == Outcome.BOOKED


def test_manager_then_admin_takes_two_steps(
    event, seminar, learner, manager, site_admin, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.MANAGER_THEN_ADMIN)
    set_manager(learner, manager)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(event=event, user=learner, actor=learner)
    assert [m.to for m in sent("Approval requested")] == [["mary@example.com"]]
    outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert booking_request_approve(booking=booking, actor=manager) == Outcome.MANAGER_APPROVED

    booking.refresh_from_db()
    assert booking.state == State.REQUESTED
    assert (booking.manager_approved_by, booking.manager_approved_at is not None) == (manager, True)
    assert booking_request_awaits(booking, manager_id=manager.pk) == Awaits.ADMIN
    assert history(booking)[-1] == (State.REQUESTED, "mary", "")
    assert [m.to for m in sent("Approval requested")] == [["admin@example.com"]]
    # The manager's step is done: they cannot approve again; a site admin books.
    with pytest.raises(BookingError, match="may not decide"):
        booking_request_approve(booking=booking, actor=manager)
    assert booking_request_approve(booking=booking, actor=site_admin) == Outcome.BOOKED


def test_without_a_manager_the_request_goes_to_the_site_admins_and_the_learner_is_told(
    client, event, seminar, learner, site_admin, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.MANAGER)
    client.force_login(learner)
    html = client.get(event.get_absolute_url()).content.decode()
    assert "Request a place" in html
    assert "You have no manager set on your profile, so a site admin decides instead." in html

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/events/{event.pk}/book/")

    assert [m.to for m in sent("Approval requested")] == [["admin@example.com"]]
    html = client.get(event.get_absolute_url()).content.decode()
    assert "Your request awaits approval by a site admin." in html
    assert "Withdraw request" in html


# --- Who may decide: one rule, and its query form agrees ----------------------------------


@pytest.mark.parametrize(
    "approval_type, has_manager, manager_approved, expected",
    [
        (Type.TRAINER, True, False, Awaits.TRAINER),
        (Type.ADMIN, True, False, Awaits.ADMIN),
        (Type.MANAGER, True, False, Awaits.MANAGER),
        (Type.MANAGER, False, False, Awaits.ADMIN),
        (Type.MANAGER_THEN_ADMIN, True, False, Awaits.MANAGER),
        (Type.MANAGER_THEN_ADMIN, True, True, Awaits.ADMIN),
        (Type.MANAGER_THEN_ADMIN, False, False, Awaits.ADMIN),
        (Type.NONE, True, False, Awaits.ADMIN),
    ],
)
def test_whose_decision_a_request_awaits(approval_type, has_manager, manager_approved, expected):
    manager_id = 7 if has_manager else None
    assert request_awaits(approval_type=approval_type, manager_id=manager_id, manager_approved=manager_approved) == (
        expected
    )


def test_the_query_of_decidable_requests_agrees_with_the_rule(
    course, seminar, event, learner, learner2, trainer, editing_trainer, site_admin, manager, outsider
):
    """Every approval type x manager set or not x first step done, against every member of the cast."""
    other = make_user("other_manager")
    learners = [learner, learner2]
    set_manager(learner, manager)
    cast = [trainer, editing_trainer, site_admin, manager, other, outsider, learner, learner2]
    rows = []
    for number, (approval_type, manager_approved) in enumerate(product(Type.values, [False, True])):
        sem = Seminar.objects.create(course=course, name=f"S{number}", approval_type=approval_type)
        ev = SeminarEvent.objects.create(seminar=sem, capacity=5)
        for person in learners:
            rows.append(
                Booking.objects.create(
                    event=ev,
                    user=person,
                    state=State.REQUESTED,
                    manager_approved_at=ev.created_at if manager_approved else None,
                )
            )
    Booking.objects.create(event=event, user=learner, state=State.BOOKED)  # not a request: never listed
    managers = {learner.pk: manager.pk, learner2.pk: None}
    for user in cast:
        expected = {
            b.pk
            for b in rows
            if may_decide_request(
                user,
                awaits=booking_request_awaits(b, manager_id=managers[b.user_id]),
                course=course,
                manager_id=managers[b.user_id],
            )
        }
        listed = set(Booking.objects.filter(decidable_requests_q(user)).values_list("pk", flat=True))
        assert listed == expected, user.username
        assert decidable_request_count(user=user) == len(expected)
    # The rule itself, in words: trainers decide the trainer-approved; the manager their learner's
    # first step; a site admin everything; nobody else anything.
    assert {b.event.seminar.approval_type for b in rows if b.pk in _listed(trainer)} == {Type.TRAINER}
    assert _listed(outsider) == _listed(learner) == _listed(other) == set()
    assert len(_listed(site_admin)) == len(rows)


def _listed(user):
    return set(Booking.objects.filter(decidable_requests_q(user)).values_list("pk", flat=True))


# --- Several at once ----------------------------------------------------------------------


def test_several_requests_are_decided_in_one_go_and_a_refused_one_leaves_the_others(
    event, seminar, course, learner, learner2, learner3, trainer
):
    set_approval(seminar, Type.TRAINER)
    event.capacity = 1
    event.save()
    requests = [booking_create(event=event, user=u, actor=u) for u in (learner, learner2, learner3)]

    results = booking_requests_decide(booking_ids=[r.pk for r in requests], actor=trainer, decision=Decision.APPROVE)

    assert [(r.booking.user.username, r.outcome) for r in results] == [
        ("lena", Outcome.BOOKED),
        ("leo", Outcome.REFUSED),
        ("lia", Outcome.REFUSED),
    ]
    assert results[1].message == "This event is full."
    states = dict(Booking.objects.filter(event=event).values_list("user__username", "state"))
    assert states == {"lena": State.BOOKED, "leo": State.REQUESTED, "lia": State.REQUESTED}

    results = booking_requests_decide(
        booking_ids=[requests[1].pk, requests[2].pk], actor=trainer, decision=Decision.DECLINE, reason="Full."
    )
    assert [r.outcome for r in results] == [Outcome.DECLINED, Outcome.DECLINED]


def test_a_batch_with_a_request_the_actor_may_not_decide_refuses_only_that_one(
    event, seminar, course, learner, learner2, trainer
):
    set_approval(seminar, Type.TRAINER)
    mine = booking_create(event=event, user=learner, actor=learner)
    admin_seminar = Seminar.objects.create(course=course, name="Admins only", approval_type=Type.ADMIN)
    admin_event = SeminarEvent.objects.create(seminar=admin_seminar, capacity=3)
    theirs = booking_create(event=admin_event, user=learner2, actor=learner2)

    results = booking_requests_decide(booking_ids=[theirs.pk, mine.pk], actor=trainer, decision=Decision.APPROVE)

    assert {r.booking.pk: r.outcome for r in results} == {mine.pk: Outcome.BOOKED, theirs.pk: Outcome.REFUSED}
    theirs.refresh_from_db()
    assert theirs.state == State.REQUESTED


# --- Expiry -------------------------------------------------------------------------------


def test_requests_still_pending_at_the_start_expire_and_the_learner_is_told(
    event, seminar, learner, learner2, trainer, time_machine, outbox, django_capture_on_commit_callbacks
):
    set_approval(seminar, Type.TRAINER)
    pending = booking_create(event=event, user=learner, actor=learner)
    approved = booking_create(event=event, user=learner2, actor=learner2)
    booking_request_approve(booking=approved, actor=trainer)
    start = event.sessions.get().start
    outbox.clear()

    time_machine.move_to(start - timedelta(seconds=1))
    assert booking_requests_expire() == 0
    pending.refresh_from_db()
    assert pending.state == State.REQUESTED

    time_machine.move_to(start)
    with django_capture_on_commit_callbacks(execute=True):
        assert booking_requests_expire() == 1
    pending.refresh_from_db()
    approved.refresh_from_db()
    assert (pending.state, approved.state) == (State.REQUEST_EXPIRED, State.BOOKED)
    assert history(pending)[-1] == (State.REQUEST_EXPIRED, None, "")
    assert [m.to for m in sent("Request expired: Fire wardens, Spring intake")] == [["lena@example.com"]]
    assert "nobody decided it before the event started" in learner.notifications.get().body
    assert booking_requests_expire() == 0  # run again: nothing more


def test_the_beat_task_expires_requests(event, seminar, learner, time_machine, settings):
    from seminars.approval_tasks import approval_requests_expire_task

    assert (
        settings.CELERY_BEAT_SCHEDULE["seminars-approval-requests-expire"]["task"] == approval_requests_expire_task.name
    )
    set_approval(seminar, Type.ADMIN)
    booking = booking_create(event=event, user=learner, actor=learner)
    time_machine.move_to(event.sessions.get().start + timedelta(minutes=1))

    assert approval_requests_expire_task.delay().get() == 1
    booking.refresh_from_db()
    assert booking.state == State.REQUEST_EXPIRED


def test_an_event_without_sessions_keeps_its_requests(seminar, learner, time_machine):
    set_approval(seminar, Type.ADMIN)
    event = SeminarEvent.objects.create(seminar=seminar, capacity=3)
    booking = booking_create(event=event, user=learner, actor=learner)
    time_machine.move_to(event.created_at + timedelta(days=400))
    assert booking_requests_expire() == 0
    booking.refresh_from_db()
    assert booking.state == State.REQUESTED


# --- The lists ----------------------------------------------------------------------------


def test_the_list_is_ordered_by_the_events_start_across_courses(course, seminar, event, learner, learner2, site_admin):
    set_approval(seminar, Type.ADMIN)
    later = SeminarEvent.objects.create(seminar=seminar, name="Later", capacity=3)
    make_session(later, event.sessions.get().start + timedelta(days=3))
    sooner = booking_create(event=event, user=learner2, actor=learner2)
    late = booking_create(event=later, user=learner, actor=learner)
    assert [b.pk for b in decidable_requests(user=site_admin)] == [sooner.pk, late.pk]
    assert Booking.objects.filter(~Q(state=State.REQUESTED)).count() == 0
    assert Enrolment.objects.filter(user=learner).exists()


def test_a_profile_cannot_name_its_own_user_as_manager(learner):
    from django.core.exceptions import ValidationError

    profile = Profile(user=learner, manager=learner)
    with pytest.raises(ValidationError, match="cannot be their own manager"):
        profile.full_clean()


def test_a_learner_sees_who_their_manager_is_on_their_profile(client, learner, manager):
    client.force_login(learner)
    assert "No manager is set for you." in client.get("/profile/").content.decode()
    set_manager(learner, manager)
    assert "Your manager is Mary." in client.get("/profile/").content.decode()


def test_requester_enrolled_elsewhere_still_needs_the_course_role(event, seminar, outsider):
    set_approval(seminar, Type.TRAINER)
    with pytest.raises(BookingError, match="Only learners enrolled"):
        booking_create(event=event, user=outsider, actor=outsider)
    enrol(outsider, seminar.course)
    enrolled = type(outsider).objects.get(pk=outsider.pk)  # roles are cached per user object
    assert booking_create(event=event, user=enrolled, actor=enrolled).state == State.REQUESTED


def test_an_approval_request_decided_before_its_email_goes_out_sends_nothing(event, seminar, learner, trainer):
    from seminars.emails import booking_email_render
    from seminars.models import OutboundEmail

    set_approval(seminar, Type.TRAINER)
    booking = booking_create(event=event, user=learner, actor=learner)
    params = OutboundEmail.objects.get(to="tom@example.com").params
    assert booking_email_render(params).subject == "Approval requested: Fire wardens, Spring intake"

    booking_request_approve(booking=booking, actor=trainer)

    assert booking_email_render(params) is None
