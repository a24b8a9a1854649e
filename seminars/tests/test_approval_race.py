"""Two approvers decide at the same moment on PostgreSQL, with real threads and separate connections:
the last seat goes once, and one request is decided once."""

from datetime import timedelta

import pytest

from seminars.models import Booking, BookingStateChange, Seminar, SeminarEvent
from seminars.services.approvals import Decision, Outcome, booking_requests_decide
from seminars.services.bookings import booking_create
from seminars.tests.conftest import make_session
from seminars.tests.race import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
State = Booking.State


def race(decisions):
    """Run booking_requests_decide for each (actor, booking ids, decision) at the same moment, one thread
    (and connection) each; return each actor's outcomes, by username."""
    results = at_once(
        *(
            lambda actor=actor, ids=ids, decision=decision: booking_requests_decide(
                booking_ids=ids, actor=actor, decision=decision
            )
            for actor, ids, decision in decisions
        )
    )
    return {
        actor.username: [(r.outcome, r.message) for r in outcomes]
        for (actor, _ids, _decision), outcomes in zip(decisions, results, strict=True)
    }


@pytest.fixture
def requests(event, seminar, learner, learner2):
    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    event.capacity = 1
    event.save()
    return [booking_create(event=event, user=user, actor=user) for user in (learner, learner2)]


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvers_approving_two_requests_for_the_last_seat_book_one(requests, trainer, editing_trainer, attempt):
    results = race(
        [(trainer, [requests[0].pk], Decision.APPROVE), (editing_trainer, [requests[1].pk], Decision.APPROVE)]
    )

    outcomes = sorted(outcome for decided in results.values() for outcome, _message in decided)
    assert outcomes == [Outcome.BOOKED, Outcome.REFUSED]
    assert Booking.objects.filter(state__in=Booking.SEAT_STATES).count() == 1
    assert Booking.objects.filter(state=State.REQUESTED).count() == 1
    assert BookingStateChange.objects.filter(state=State.BOOKED).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvers_approving_the_same_request_decide_it_once(requests, trainer, site_admin, attempt):
    results = race([(trainer, [requests[0].pk], Decision.APPROVE), (site_admin, [requests[0].pk], Decision.APPROVE)])

    decided = sorted(decided[0] for decided in results.values())
    assert decided == [(Outcome.BOOKED, ""), (Outcome.REFUSED, "This request is no longer pending (booked).")]
    assert BookingStateChange.objects.filter(booking=requests[0], state=State.BOOKED).count() == 1


def test_an_approve_and_a_decline_of_the_same_request_at_once_decide_it_once(requests, trainer, site_admin):
    results = race([(trainer, [requests[0].pk], Decision.APPROVE), (site_admin, [requests[0].pk], Decision.DECLINE)])

    outcomes = sorted(decided[0][0] for decided in results.values())
    assert Outcome.REFUSED in outcomes
    requests[0].refresh_from_db()
    assert requests[0].state in (State.BOOKED, State.DECLINED)
    assert BookingStateChange.objects.filter(booking=requests[0]).exclude(state=State.REQUESTED).count() == 1


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(
    event, seminar, course, learner, learner2, trainer, site_admin
):
    """Each batch locks its events in one order, whatever order the ids were ticked in."""
    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    other = SeminarEvent.objects.create(seminar=seminar, name="Other", capacity=5)
    make_session(other, event.sessions.get().start + timedelta(days=2))
    ids = [booking_create(event=ev, user=user, actor=user).pk for ev in (event, other) for user in (learner, learner2)]

    results = race([(trainer, ids, Decision.APPROVE), (site_admin, list(reversed(ids)), Decision.DECLINE)])

    assert set(results) == {"tom", "admin"}
    assert Booking.objects.filter(state=State.REQUESTED).count() == 0
