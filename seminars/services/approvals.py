"""Requests for a place on a seminar that needs approval: approve, decline, withdraw, expire.

A learner's request (state "requested", made by seminars.services.bookings.booking_create) takes
no seat and is not on the waitlist. Its approvers (seminars.permissions.request_awaits and
may_decide_request: the course's trainers, the learner's manager, the site admins) decide it:

- approving books it, or waitlists it when the event is full, by the rules and the path of
  self-booking (booking_create_refusal, booking_seat_take); under "manager, then a site admin"
  the manager's approval is the first step: it records who and when on the booking
  (`manager_approved_by`, `manager_approved_at`) and the request then awaits a site admin;
- declining records the reason (optional) and tells the learner;
- the learner may withdraw it ("cancelled");
- a request still pending when the event starts expires (a periodic task).

Each decision runs under the event lock (`event_changing`) and re-reads the booking under a row
lock, so two approvers deciding at once never book twice, and every change is in the booking's
history with who made it. A batch is one transaction; each decision in it has its own savepoint,
so one refused decision (decided meanwhile, the event full or started) leaves the others.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from lms.permissions import is_site_admin
from seminars.models import Booking, SeminarEvent
from seminars.notifications import notify
from seminars.permissions import Awaits, booking_request_awaits, may_decide_request
from seminars.selectors.approvals import learner_manager_id
from seminars.selectors.bookings import EventStatus, event_first_start, event_status_now
from seminars.services.bookings import (
    BookingError,
    booking_create_refusal,
    booking_email_record,
    booking_seat_take,
    booking_state_change,
    event_changing,
    request_approvers_email,
)

State = Booking.State


class Decision:
    APPROVE = "approve"
    DECLINE = "decline"


class Outcome:
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    MANAGER_APPROVED = "manager_approved"  # first of two steps: now awaits a site admin
    DECLINED = "declined"
    REFUSED = "refused"


@dataclass
class Decided:
    booking: Booking
    outcome: str
    message: str = ""  # why it was refused


def booking_request_approve(*, booking, actor) -> str:
    """Approve a pending request: book it, or waitlist it when the event is full (as self-booking
    would), or, for the learner's manager under "manager, then a site admin", record the manager's
    approval and pass the request to the site admins. Returns an Outcome; raises BookingError with
    a message for the approver."""
    with event_changing(booking.event_id) as event:
        booking, awaits = _locked_request(booking, event=event, actor=actor)
        now = timezone.now()
        status = event_status_now(event)
        if status in (EventStatus.IN_PROGRESS, EventStatus.PAST):
            raise BookingError(_("This event has already started: the request can no longer be approved."))
        if awaits == Awaits.MANAGER and _second_step_follows(booking, actor):
            booking.manager_approved_by = actor
            booking.manager_approved_at = now
            # The state stays "requested"; the history says who approved the first step, and when.
            booking_state_change(booking, State.REQUESTED, actor=actor, at=now)
            request_approvers_email(booking, version=now)
            return Outcome.MANAGER_APPROVED
        refusal = booking_create_refusal(
            event=event, user=booking.user, status=status, booking=None, actor_is_staff=True
        )
        if refusal:
            raise BookingError(refusal)
        booking_seat_take(booking, status=status, actor=actor, at=now)
        return Outcome.BOOKED if booking.state == State.BOOKED else Outcome.WAITLISTED


def booking_request_decline(*, booking, actor, reason="") -> str:
    """Decline a pending request; `reason` (checked by the form) is kept in the history and told to
    the learner by email and in the app. Returns Outcome.DECLINED; raises BookingError."""
    with event_changing(booking.event_id) as event:
        booking, _awaits = _locked_request(booking, event=event, actor=actor)
        booking_state_change(booking, State.DECLINED, actor=actor, at=timezone.now(), reason=reason)
        booking_email_record(booking=booking, kind="declined", with_calendar=False, reason=reason)
        body = _("Your request for a place was declined.")
        if reason:
            body = _("Your request for a place was declined. Reason: %(reason)s") % {"reason": reason}
        notify(
            users=[booking.user],
            subject=_title(_("Request declined: %(title)s"), event),
            body=body,
            url=event.get_absolute_url(),
        )
        return Outcome.DECLINED


def booking_requests_decide(*, booking_ids, actor, decision, reason="") -> list[Decided]:
    """Approve or decline several requests at once, in one transaction; each is re-checked under its
    locks (booking_request_approve, booking_request_decline) and one refused leaves the others.

    Events are locked in one order (event, then booking), so two approvers deciding overlapping
    batches wait for each other instead of deadlocking. Returns each request's Decided, in that order.
    """
    if decision not in (Decision.APPROVE, Decision.DECLINE):
        raise ValueError(f"Unknown decision {decision!r}")
    bookings = list(
        Booking.objects.filter(pk__in=list(booking_ids)).select_related("user", "event").order_by("event_id", "pk")
    )
    results = []
    with transaction.atomic():
        for booking in bookings:
            try:
                with transaction.atomic():
                    if decision == Decision.APPROVE:
                        outcome = booking_request_approve(booking=booking, actor=actor)
                    else:
                        outcome = booking_request_decline(booking=booking, actor=actor, reason=reason)
            except BookingError as error:
                results.append(Decided(booking=booking, outcome=Outcome.REFUSED, message=str(error)))
            else:
                results.append(Decided(booking=booking, outcome=outcome))
    return results


def booking_request_withdraw(*, booking, actor) -> Booking:
    """The learner withdraws their own pending request ("cancelled"); they may request again."""
    with event_changing(booking.event_id):
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if actor.pk != booking.user_id:
            raise BookingError(_("You may only withdraw your own request."))
        if booking.state != State.REQUESTED:
            raise BookingError(_("This request is no longer pending."))
        booking_state_change(booking, State.USER_CANCELLED, actor=actor, at=timezone.now())
        return booking


def booking_requests_expire(*, now=None) -> int:
    """Move the requests still pending on events that have started to "request expired" and tell
    each learner (email and in-app). Safe to run again and concurrently (each event under its lock).
    Returns how many expired."""
    now = now or timezone.now()
    pending = Booking.objects.filter(event=OuterRef("pk"), state=State.REQUESTED)
    event_ids = list(
        SeminarEvent.objects.filter(Exists(pending))
        .annotate(first_start=Min("sessions__start"))
        .filter(first_start__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired = 0
    for event_id in event_ids:
        with event_changing(event_id) as event:
            first_start = event_first_start(event)
            if first_start is None or first_start > now:
                continue  # moved later meanwhile
            bookings = list(
                Booking.objects.select_for_update().filter(event=event, state=State.REQUESTED).select_related("user")
            )
            for booking in bookings:
                booking_state_change(booking, State.REQUEST_EXPIRED, actor=None, at=now)
                booking_email_record(booking=booking, kind="request_expired", with_calendar=False)
            if bookings:
                notify(
                    users=[b.user for b in bookings],
                    subject=_title(_("Request expired: %(title)s"), event),
                    body=_("Your request for a place expired: nobody decided it before the event started."),
                    url=event.get_absolute_url(),
                )
            expired += len(bookings)
    return expired


# --- Internals ---------------------------------------------------------------------------


def _locked_request(booking, *, event, actor):
    """The booking re-read under its row lock, still pending and decidable by `actor`, with whose
    decision it awaits; else BookingError. The caller holds the event lock."""
    booking = Booking.objects.select_for_update().select_related("user").get(pk=booking.pk)
    booking.event = event
    if booking.state != State.REQUESTED:
        raise BookingError(
            _("This request is no longer pending (%(state)s).") % {"state": booking.get_state_display().lower()}
        )
    manager_id = learner_manager_id(user=booking.user)
    awaits = booking_request_awaits(booking, manager_id=manager_id)
    if not may_decide_request(actor, awaits=awaits, course=event.seminar.course, manager_id=manager_id):
        raise BookingError(_("You may not decide this request."))
    return booking, awaits


def _second_step_follows(booking, actor) -> bool:
    """Under "manager, then a site admin", the manager's approval is the first step; a site admin who
    is also the learner's manager decides both at once."""
    return booking.event.seminar.approval_type == booking.event.seminar.ApprovalType.MANAGER_THEN_ADMIN and not (
        is_site_admin(actor)
    )


def _title(template, event) -> str:
    return template % {"title": f"{event.seminar.name}, {event.title}"}
