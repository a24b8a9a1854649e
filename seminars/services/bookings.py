"""Bookings (signups): book, cancel, waitlist promotion, event cancellation, attendance.

Every service runs in one transaction, locks the event row before it counts
seats (so two learners racing for the last seat give exactly one booking), and
appends a BookingStateChange with who and when for every state change. Emails
go out after the commit (seminars.emails), never inside the transaction. Each
ends, in its transaction, with the registrants of the event's virtual meetings
made to match the seats (`event_changing`), so every learner holding a seat
has a personal join link and nobody else does.
"""

from contextlib import contextmanager
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from seminars import emails
from seminars.email_messages import NoticeEmail, reason_values
from seminars.meetings import event_registrants_sync
from seminars.models import AttendanceSource, Booking, BookingStateChange, Enrolment, SeminarEvent
from seminars.notifications import notify
from seminars.permissions import course_role, is_course_trainer
from seminars.selectors.approvals import learner_manager_id, request_approvers
from seminars.selectors.bookings import (
    EventStatus,
    RegistrationWindow,
    event_first_start,
    event_status_now,
    registration_window,
    seat_conflicts,
)
from seminars.selectors.trainers import event_trainers
from seminars.timezones import moment_text, viewer_zone

State = Booking.State
ACTIVE_STATES = (State.BOOKED, State.WAITLISTED)


class BookingError(Exception):
    """The rules refuse a booking action; the message is meant for the user."""


# --- Rules shared by the services and the event page --------------------------------------


def booking_create_refusal(*, event, user, status, booking=None, actor_is_staff=False, now=None) -> str | None:
    """Why `user` may not sign up for `event` now, or None if they may.

    `status` is the event's EventStatus (seminars.selectors.bookings.event_status),
    `booking` the user's existing signup for the event, if any. The event page asks
    this to offer "Book" or "Join waitlist"; booking_create asks it again under the
    event lock. The event's registration window binds learners signing themselves
    up, not staff (`actor_is_staff`) signing a learner up; a seat on another event
    at the same time binds both.
    """
    if course_role(user, event.seminar.course) != Enrolment.Role.LEARNER:
        return _("Only learners enrolled in this course can book this event.")
    refusal = booking_event_refusal(status=status, booking=booking)
    if refusal is None and not actor_is_staff:
        refusal = registration_window_refusal(event=event, zone=viewer_zone(user), now=now)
    if refusal is None:
        refusal = booking_conflict_refusal(event=event, user=user)
    return refusal


def booking_conflict_refusal(*, event, user) -> str | None:
    """Why `user` may not take a seat on `event`: they hold one on another event at the same time."""
    other = seat_conflicts(event=event, user_ids=[user.pk]).get(user.pk)
    if other is None:
        return None
    return _("You are already booked on %(event)s at the same time.") % {"event": other}


def registration_window_refusal(*, event, zone, now=None) -> str | None:
    """Why learners may not sign up for `event` at `now` by its registration times (shown in `zone`),
    or None while registration is open."""
    window = registration_window(event=event, now=now)
    if window == RegistrationWindow.NOT_OPEN:
        return _("Registration opens on %(when)s.") % {"when": moment_text(event.registration_opens_at, zone)}
    if window == RegistrationWindow.CLOSED:
        return _("Registration closed on %(when)s.") % {"when": moment_text(event.registration_closes_at, zone)}
    return None


def booking_event_refusal(*, status, booking=None) -> str | None:
    """The part of booking_create_refusal that depends on the event and the existing signup, not on
    the learner's role (staff adding attendees ask it for people they enrol at the same time)."""
    if status == EventStatus.CANCELLED:
        return _("This event has been cancelled.")
    if status in (EventStatus.IN_PROGRESS, EventStatus.PAST):
        return _("Booking has closed: this event has already started.")
    if booking is not None and booking.state not in (State.USER_CANCELLED, State.EVENT_CANCELLED):
        return _("You already have a signup for this event (%(state)s).") % {
            "state": booking.get_state_display().lower()
        }
    if status == EventStatus.FULL:
        return _("This event is full.")
    return None


def booking_cancel_refusal(*, booking, event, actor, first_start, now=None) -> str | None:
    """Why `actor` may not cancel `booking` now, or None if they may.

    Trainers and site admins may always cancel. A learner cancels only their own
    booking, and a booked seat only as the event's cancellation policy allows;
    leaving the waitlist frees no seat and is always allowed.
    """
    now = now or timezone.now()
    if booking.state not in ACTIVE_STATES:
        return _("This booking is not active.")
    if is_course_trainer(actor, event.seminar.course):
        return None
    if actor.pk != booking.user_id:
        return _("You may only cancel your own booking.")
    if booking.state == State.WAITLISTED:
        return None
    if first_start is not None and first_start <= now:
        return _("This event has already started; the booking can no longer be cancelled.")
    policy = event.cancellation_policy
    if policy == SeminarEvent.CancellationPolicy.NEVER:
        return _("Cancellations are not allowed for this event.")
    if policy == SeminarEvent.CancellationPolicy.CUTOFF and first_start is not None:
        cutoff = first_start - timedelta(hours=event.cancellation_cutoff_hours)
        if now >= cutoff:
            return ngettext(
                "Cancellations closed %(hours)d hour before the event starts; please contact a trainer.",
                "Cancellations closed %(hours)d hours before the event starts; please contact a trainer.",
                event.cancellation_cutoff_hours,
            ) % {"hours": event.cancellation_cutoff_hours}
    return None


def cancellation_cutoff(*, event, first_start):
    """The moment learners stop being able to cancel, or None if there is no such moment."""
    if event.cancellation_policy != SeminarEvent.CancellationPolicy.CUTOFF or first_start is None:
        return None
    return first_start - timedelta(hours=event.cancellation_cutoff_hours)


# --- Services ---------------------------------------------------------------------------


def booking_create(*, event, user, actor) -> Booking:
    """Sign `user` up for `event`: booked if a seat is free, else waitlisted, else refused.

    On a seminar that needs approval a learner signing themselves up makes a request instead
    (state "requested": no seat, not on the waitlist) that its approvers decide
    (seminars.services.approvals); staff signing a learner up decide as they do it. An event
    without sessions is waitlist-only. Re-booking after a cancellation
    reuses the learner's row (its history keeps the earlier states). A learner
    books only for themselves; trainers and site admins may book a learner.
    Raises BookingError with a message for the user.
    """
    with event_changing(event.pk) as event:
        course = event.seminar.course
        if actor.pk != user.pk and not is_course_trainer(actor, course):
            raise BookingError(_("You may only book for yourself."))
        booking = Booking.objects.select_for_update().filter(event=event, user=user).first()
        status = event_status_now(event)
        # Trainers signing a learner up are not bound by the registration window.
        actor_is_staff = actor.pk != user.pk
        refusal = booking_create_refusal(
            event=event, user=user, status=status, booking=booking, actor_is_staff=actor_is_staff
        )
        if refusal:
            raise BookingError(refusal)
        now = timezone.now()
        if booking is None:
            booking = Booking(event=event, user=user)
        if not actor_is_staff and event.seminar.needs_approval:
            _request(booking, actor=actor, at=now)
        else:
            booking_seat_take(booking, status=status, actor=actor, at=now)
        return booking


def booking_seat_take(booking, *, status, actor, at) -> None:
    """Book `booking` if its event (of EventStatus `status`) has a free seat, else waitlist it, and
    email the learner: the end of every signup (booking_create, an approved request). The caller
    holds the event lock and has asked booking_create_refusal."""
    state = State.BOOKED if status == EventStatus.BOOKABLE else State.WAITLISTED
    # The signup time orders the waitlist, so a re-booking queues at the back.
    booking.created_at = at
    booking_state_change(booking, state, actor=actor, at=at)
    booking_email_record(booking=booking, kind="booked" if state == State.BOOKED else "waitlisted")


def _request(booking, *, actor, at) -> None:
    """A learner's request for a place on a seminar that needs approval: no seat, not on the
    waitlist; its approvers are emailed (seminars.services.approvals decides it)."""
    booking.created_at = at
    booking.manager_approved_by = None
    booking.manager_approved_at = None
    booking_state_change(booking, State.REQUESTED, actor=actor, at=at)
    request_approvers_email(booking, version=at)


def request_approvers_email(booking, *, version) -> None:
    """Email everyone who may decide `booking`'s request now (seminars.selectors.approvals)."""
    for approver in request_approvers(booking=booking, manager_id=learner_manager_id(user=booking.user)):
        emails.booking_email_queue(booking=booking, kind="approval_requested", version=version, recipient=approver)


def booking_cancel(*, booking, actor, reason="") -> Booking:
    """Cancel a booking (state "user cancelled") and give a freed seat to the first waitlisted learner.

    Learners follow the event's cancellation policy; trainers and site admins may
    always cancel. `reason` (checked by the form) is kept in the history and quoted
    in the learner's email. Raises BookingError with a message for the user.
    """
    with event_changing(booking.event_id) as event:
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        refusal = booking_cancel_refusal(
            booking=booking, event=event, actor=actor, first_start=event_first_start(event)
        )
        if refusal:
            raise BookingError(refusal)
        held_seat = booking.state in Booking.SEAT_STATES
        was_booked = booking.state == State.BOOKED
        booking_state_change(booking, State.USER_CANCELLED, actor=actor, at=timezone.now(), reason=reason)
        booking_email_record(booking=booking, kind="cancelled", with_calendar=was_booked, reason=reason)
        if held_seat:
            waitlist_promote_locked(event=event, actor=actor)
        return booking


def bookings_promote_waitlist(*, event, actor) -> list[Booking]:
    """Book waitlisted learners, oldest signup first, while seats are free.

    Call it when capacity grows or sessions are added to a waitlist-only event.
    Returns the promoted bookings; each learner gets an email with the calendar.
    """
    with event_changing(event.pk) as event:
        return waitlist_promote_locked(event=event, actor=actor)


def bookings_event_cancelled(*, event, actor, reason="") -> list[Booking]:
    """Move every active booking (and pending request) of a cancelled event to "event cancelled" and tell everyone.

    `reason` goes into each booking's history and the learners' emails.
    Learners get an email (with a calendar cancellation if they were booked) and
    an in-app notification; the event's trainers are notified in the app and by
    email. Returns the bookings that changed.
    """
    with event_changing(event.pk) as event:
        bookings = list(
            Booking.objects.select_for_update()
            .filter(event=event, state__in=(*ACTIVE_STATES, State.REQUESTED))
            .select_related("user")
        )
        now = timezone.now()
        for booking in bookings:
            was_booked = booking.state == State.BOOKED
            booking_state_change(booking, State.EVENT_CANCELLED, actor=actor, at=now, reason=reason)
            booking_email_record(booking=booking, kind="event_cancelled", with_calendar=was_booked, reason=reason)

        subject = _("Event cancelled: %(title)s") % {"title": f"{event.seminar.name}, {event.title}"}
        url = event.get_absolute_url()
        learners = [b.user for b in bookings]
        if learners:
            told = _("Your signup has been cancelled with the event.")
            if reason:
                told = _("Your signup has been cancelled with the event. Reason: %(reason)s") % {"reason": reason}
            notify(
                users=learners,
                subject=subject,
                body=told,
                url=url,
            )
        trainers = sorted(event_trainers(event), key=lambda user: user.pk)
        if trainers:
            notify(
                users=trainers,
                subject=subject,
                body=ngettext(
                    "The event was cancelled; %(count)d active signup was cancelled with it.",
                    "The event was cancelled; %(count)d active signups were cancelled with it.",
                    len(bookings),
                )
                % {"count": len(bookings)},
                url=url,
                email=NoticeEmail(
                    "event_cancelled_trainers",
                    {"signups": str(len(bookings)), **reason_values(reason)},
                    event_id=event.pk,
                ),
            )
        return bookings


def booking_set_attendance(*, booking, state, actor) -> Booking:
    """Record a booked learner's attendance (no show, partially or fully attended).

    Only the course's trainers and site admins, and only once the event's first
    session has started. Setting the current state again changes nothing.
    """
    with event_changing(booking.event_id) as event:
        if not is_course_trainer(actor, event.seminar.course):
            raise BookingError(_("Only trainers may take attendance."))
        if state not in Booking.ATTENDANCE_STATES:
            raise BookingError(_("Choose no show, partially attended or fully attended."))
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.state not in Booking.SEAT_STATES:
            raise BookingError(_("Attendance can only be taken for booked learners."))
        first_start = event_first_start(event)
        if first_start is None or first_start > timezone.now():
            raise BookingError(_("Attendance can be taken once the event has started."))
        if booking.state != state:
            booking_state_change(booking, state, actor=actor, at=timezone.now(), source=AttendanceSource.MANUAL)
        return booking


# --- Shared with the attendance services -------------------------------------------------


def event_lock(event_id) -> SeminarEvent:
    """Lock the event row (with its seminar and course loaded): every booking and attendance
    change of an event holds it, so seat counts and event-level states are decided one at a time."""
    # `of=("self",)`: lock only the event row, not the seminar and course joined in.
    return SeminarEvent.objects.select_for_update(of=("self",)).select_related("seminar__course").get(pk=event_id)


@contextmanager
def event_changing(event_id):
    """The frame of every booking service: one transaction holding the event lock (`event_lock`),
    which ends with the registrants of the event's meetings following the seats (a learner booked
    or promoted is registered, one cancelled or no longer holding a seat is cancelled)."""
    with transaction.atomic():
        event = event_lock(event_id)
        yield event
        event_registrants_sync(event=event)


def booking_state_change(booking, state, *, actor, at, source="", session=None, reason=""):
    """The one path of every booking state change: the new state and its history row (who, when,
    for a cancellation the reason given, and for attendance the evidence and the deciding session).
    The caller holds the locks."""
    booking.state = state
    booking.save()
    BookingStateChange.objects.create(
        booking=booking, state=state, changed_by=actor, changed_at=at, source=source, session=session, reason=reason
    )


def waitlist_promote_locked(*, event, actor) -> list[Booking]:
    """Book waitlisted learners while seats are free, until the event starts; the caller holds the event lock.

    Only the waitlisted: a request (state "requested") waits for its approver, never for a seat.

    Once the first session has started, a freed seat stays free: a learner waiting for it
    would be booked on something already under way, told by an email they may read too late.
    """
    first_start = event_first_start(event)
    if event.cancelled or first_start is None or first_start <= timezone.now():
        return []
    free = _free_seats(event)
    if free <= 0:
        return []
    waiting = list(
        Booking.objects.select_for_update()
        .filter(event=event, state=State.WAITLISTED)
        .order_by("created_at", "pk")[:free]
    )
    now = timezone.now()
    for booking in waiting:
        booking_state_change(booking, State.BOOKED, actor=actor, at=now)
        booking_email_record(booking=booking, kind="promoted")
    return waiting


def booking_email_record(*, booking, kind, with_calendar=True, reason=""):
    """Record the email telling `booking`'s learner of its change of `kind` (seminars.emails.SUBJECTS),
    in the caller's transaction; a task sends it, with retries, once that commits."""
    emails.booking_email_queue(
        booking=booking, kind=kind, version=booking.updated_at, with_calendar=with_calendar, reason=reason
    )


# --- Internals ---------------------------------------------------------------------------


def _free_seats(event) -> int:
    taken = Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).count()
    return event.capacity - taken
