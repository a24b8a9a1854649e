"""Reading requests for a place: who decides one, and the requests a user may decide.

Who may decide is seminars.permissions' rule (request_awaits, may_decide_request, and its query
form decidable_requests_q); this module only loads the rows.
"""

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Subquery

from lms.permissions import site_admins
from seminars.models import Booking, BookingStateChange, Profile, Session
from seminars.permissions import (
    Awaits,
    booking_request_awaits,
    decidable_requests_q,
    may_decide_request,
    may_decide_some_request,
)
from seminars.selectors.trainers import event_trainers


def learner_manager_id(*, user) -> int | None:
    """The id of `user`'s manager (their seminars profile), or None."""
    return Profile.objects.filter(user=user).values_list("manager_id", flat=True).first()


def request_approvers(*, booking, manager_id) -> list:
    """Whom to ask to decide `booking`'s request now (its event's seminar loaded), by request_awaits:
    the learner's manager; the event's trainers (who get its notices; any trainer of the course may
    decide, seminars.permissions); or the site admins. Active users only."""
    awaits = booking_request_awaits(booking, manager_id=manager_id)
    if awaits == Awaits.MANAGER:
        return list(get_user_model().objects.filter(pk=manager_id, is_active=True))
    if awaits == Awaits.TRAINER:
        return event_trainers(booking.event)
    return list(site_admins())


def _with_request_details(queryset):
    """Requests with what the lists show: learner, event, seminar, course, the manager's id and name,
    the first session's start; a fixed number of queries however many rows."""
    first_start = Session.objects.filter(event=OuterRef("event")).order_by("start").values("start")[:1]
    return queryset.select_related(
        "user", "event__seminar__course", "manager_approved_by", "user__seminar_profile__manager"
    ).annotate(learner_manager_id=F("user__seminar_profile__manager_id"), first_start=Subquery(first_start))


def requests_attach_decision(*, requests, user) -> list:
    """Set `awaits` (request_awaits) and `may_decide` (may_decide_request for `user`) on each request,
    from the rows _with_request_details loaded."""
    for booking in requests:
        booking.awaits = booking_request_awaits(booking, manager_id=booking.learner_manager_id)
        booking.may_decide = may_decide_request(
            user, awaits=booking.awaits, course=booking.event.seminar.course, manager_id=booking.learner_manager_id
        )
        profile = getattr(booking.user, "seminar_profile", None) if booking.learner_manager_id else None
        booking.manager = profile.manager if profile else None
    return requests


def decidable_requests(*, user):
    """The pending requests `user` may approve or decline, across every course, the soonest event first."""
    queryset = Booking.objects.filter(decidable_requests_q(user))
    return _with_request_details(queryset).order_by(
        F("first_start").asc(nulls_last=True), "event_id", "created_at", "pk"
    )


def decidable_request_count(*, user) -> int:
    """How many pending requests `user` may decide (the navigation's count); no query for a learner who is
    nobody's manager, and none while no booking, seminar, enrolment or manager changed (seminars.page_cache)."""
    if not may_decide_some_request(user):
        return 0
    from seminars import page_cache

    return page_cache.decidable_count(user, lambda: Booking.objects.filter(decidable_requests_q(user)).count())


def event_requests(*, event, user) -> list:
    """The event's pending requests, oldest first, each with `awaits` and `may_decide` for `user`."""
    requests = list(
        _with_request_details(Booking.objects.filter(event=event, state=Booking.State.REQUESTED)).order_by(
            "created_at", "pk"
        )
    )
    return requests_attach_decision(requests=requests, user=user)


def learner_manager(*, user):
    """`user`'s manager (an active or inactive user), or None."""
    profile = Profile.objects.filter(user=user).select_related("manager").first()
    return profile.manager if profile else None


def booking_state_reason(*, booking) -> str:
    """The reason recorded when `booking` entered its current state (a decline's), or ""."""
    return (
        BookingStateChange.objects.filter(booking=booking, state=booking.state)
        .order_by("-changed_at", "-pk")
        .values_list("reason", flat=True)
        .first()
        or ""
    )
