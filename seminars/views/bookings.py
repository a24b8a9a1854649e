"""The event page, booking, cancelling and attendance taking.

Every view checks permissions on the server (seminars.permissions); errors from
the services come back to the event page as messages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from lms.urlcache import reverse
from seminars.forms.bookings import AttendanceForm, CancellationReasonForm
from seminars.models import Booking, Enrolment, Seminar
from seminars.page_cache import event_shared
from seminars.permissions import (
    can_edit_course,
    course_role,
    is_course_trainer,
    may_watch_recordings,
    request_awaits,
    require_trainer,
    require_view,
)
from seminars.selectors.approvals import booking_state_reason, learner_manager
from seminars.selectors.bookings import (
    EventStatus,
    booking_for_user,
    event_for_page,
    event_page,
    event_waitlist_count,
)
from seminars.services.bookings import (
    BookingError,
    booking_cancel,
    booking_cancel_refusal,
    booking_create,
    booking_create_refusal,
    booking_set_attendance,
    cancellation_cutoff,
)
from seminars.timezones import viewer_zone
from seminars.views.virtual import sessions_attach_virtual_access


@login_required
def event_detail(request, pk):
    shared = event_shared(pk, viewer_id=request.user.pk)
    event = shared.event
    course = event.seminar.course
    require_view(request.user, course)
    trainer = is_course_trainer(request.user, course)
    page = event_page(event=event, user=request.user, with_attendees=False, booking_of=shared.booking_of)
    if trainer:
        # Read only when the attendee table is not in the cache (the template's {% cache %}).
        page.attendees = SimpleLazyObject(shared.attendees)

    context = {
        "page": page,
        "event": event,
        "seminar": event.seminar,
        "course": course,
        "viewer_zone": viewer_zone(request.user),
        "is_trainer": trainer,
        "trainers": shared.trainers,
        "shared_version": shared.version,
        "can_edit": can_edit_course(request.user, course),
        "is_learner": course_role(request.user, course) == Enrolment.Role.LEARNER,
        "links": {
            "course": reverse("seminars:course", args=[course.pk]),
            "seminar": reverse("seminars:seminar", args=[event.seminar_id]),
            "edit": reverse("seminars:event_edit", args=[event.pk]),
            "cancel": reverse("seminars:event_cancel", args=[event.pk]),
        },
    }
    for session in page.sessions:
        session.room_url = reverse("seminars:room", args=[session.room_id]) if session.room_id else ""
    sessions_attach_virtual_access(
        user=request.user, sessions=page.sessions, booking_state=page.my_booking.state if page.my_booking else None
    )
    context.update(_learner_actions(request.user, page))
    my_state = page.my_booking.state if page.my_booking else None
    if may_watch_recordings(request.user, course, my_state):
        context["recordings"] = shared.recordings(page.sessions)
    if trainer:
        # Made only when the attendee table is not in the cache (the template's {% cache %} reads it then).
        context["attendance_form"] = SimpleLazyObject(lambda: AttendanceForm(bookings=page.attendees["booked"]))
        # Attendance is taken once the first session has started (and never for a cancelled event).
        context["attendance_open"] = page.status in (EventStatus.IN_PROGRESS, EventStatus.PAST)
    return render(request, "seminars/bookings/event.html", context)


def _learner_actions(user, page):
    """What the viewer can do with their own signup: book, join the waitlist, cancel, and why not."""
    booking = page.my_booking
    active = booking is not None and booking.state in (Booking.State.BOOKED, Booking.State.WAITLISTED)
    signup_refusal = booking_create_refusal(event=page.event, user=user, status=page.status, booking=booking)
    needs_approval = page.event.seminar.needs_approval
    actions = {
        "my_booking": booking,
        "can_book": signup_refusal is None and page.status == EventStatus.BOOKABLE and not needs_approval,
        "can_join_waitlist": signup_refusal is None and page.status != EventStatus.BOOKABLE and not needs_approval,
        "can_request": signup_refusal is None and needs_approval,
        "signup_refusal": signup_refusal or "",
        "can_cancel": False,
        "cancel_refusal": "",
        "cancel_cutoff": cancellation_cutoff(event=page.event, first_start=page.first_start),
    }
    if active and booking.user_id == user.pk:
        refusal = booking_cancel_refusal(booking=booking, event=page.event, actor=user, first_start=page.first_start)
        actions["can_cancel"] = refusal is None
        actions["cancel_refusal"] = refusal or ""
    actions.update(_request_facts(user, page, booking, show=actions["can_request"]))
    return actions


def _request_facts(user, page, booking, *, show):
    """For a seminar that needs approval: whose decision the viewer's request waits (or would wait) for,
    and why a request of theirs was declined."""
    pending = booking is not None and booking.state == Booking.State.REQUESTED
    facts = {"request_awaits": "", "request_manager": None, "no_manager": False, "decline_reason": ""}
    if booking is not None and booking.state == Booking.State.DECLINED:
        facts["decline_reason"] = booking_state_reason(booking=booking)
    if not (show or pending):
        return facts
    manager = learner_manager(user=user)
    approval_type = page.event.seminar.approval_type
    facts["request_awaits"] = request_awaits(
        approval_type=approval_type,
        manager_id=manager.pk if manager else None,
        manager_approved=pending and booking.manager_approved_at is not None,
    )
    facts["request_manager"] = manager
    facts["no_manager"] = manager is None and approval_type in (
        Seminar.ApprovalType.MANAGER,
        Seminar.ApprovalType.MANAGER_THEN_ADMIN,
    )
    return facts


@login_required
@require_POST
def event_book(request, pk):
    event = event_for_page(event_id=pk)
    require_view(request.user, event.seminar.course)
    try:
        booking = booking_create(event=event, user=request.user, actor=request.user)
    except BookingError as error:
        messages.error(request, str(error))
    else:
        if booking.state == Booking.State.BOOKED:
            messages.success(request, _("You are booked. A confirmation email is on its way."))
        elif booking.state == Booking.State.REQUESTED:
            messages.success(request, _("Your request has been sent. You will be emailed when it is decided."))
        else:
            messages.info(request, _("You are on the waitlist. We will email you if a seat frees up."))
    return redirect("seminars:event", pk=event.pk)


@login_required
@require_http_methods(["GET", "POST"])
def booking_cancel_view(request, pk):
    """GET asks "Cancel your booking?" with what follows under the event's policy and a reason;
    only POST cancels."""
    booking = booking_for_user(booking_id=pk)
    course = booking.event.seminar.course
    require_view(request.user, course)
    if booking.user_id != request.user.pk:
        # Only trainers and site admins handle other people's bookings.
        require_trainer(request.user, course)
    form = CancellationReasonForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        context = {**_cancel_confirmation(request.user, booking), "form": form}
        return render(request, "seminars/bookings/confirm_cancel.html", context, status=400 if form.is_bound else 200)
    try:
        booking_cancel(booking=booking, actor=request.user, reason=form.cleaned_data["reason"])
    except BookingError as error:
        messages.error(request, str(error))
    else:
        if booking.user_id == request.user.pk:
            messages.success(request, _("Your booking has been cancelled."))
        else:
            name = booking.user.get_full_name() or booking.user.get_username()
            messages.success(request, _("The booking of %(name)s has been cancelled.") % {"name": name})
    return redirect("seminars:event", pk=booking.event_id)


def _cancel_confirmation(user, booking):
    """What the confirmation page says: who, whether it may be cancelled now, and what follows."""
    event = event_for_page(event_id=booking.event_id)
    page = event_page(event=event, user=user, with_attendees=False)
    refusal = booking_cancel_refusal(booking=booking, event=event, actor=user, first_start=page.first_start)
    return {
        "booking": booking,
        "event": event,
        "seminar": event.seminar,
        "course": event.seminar.course,
        "own": booking.user_id == user.pk,
        "name": booking.user.get_full_name() or booking.user.get_username(),
        "refusal": refusal or "",
        "cutoff": cancellation_cutoff(event=event, first_start=page.first_start),
        "waitlisted": event_waitlist_count(event=event),
        "viewer_zone": viewer_zone(user),
    }


@login_required
@require_POST
def attendance(request, pk):
    event = event_for_page(event_id=pk)
    require_trainer(request.user, event.seminar.course)
    booked = Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).select_related("user")
    form = AttendanceForm(request.POST, bookings=booked)
    if not form.is_valid():
        messages.error(request, _("Attendance was not saved: choose one of the listed states for each learner."))
        return redirect("seminars:event", pk=event.pk)
    changes = form.changes()
    try:
        with transaction.atomic():
            for booking, state in changes:
                booking_set_attendance(booking=booking, state=state, actor=request.user)
    except BookingError as error:
        messages.error(request, _("Attendance was not saved: %(reason)s") % {"reason": error})
    else:
        count = len(changes)
        messages.success(
            request,
            ngettext("Attendance saved (%(count)d change).", "Attendance saved (%(count)d changes).", count)
            % {"count": count},
        )
    return redirect("seminars:event", pk=event.pk)


urlpatterns = [
    path("events/<int:pk>/", event_detail, name="event"),
    path("events/<int:pk>/book/", event_book, name="event_book"),
    path("events/<int:pk>/attendance/", attendance, name="attendance"),
    path("bookings/<int:pk>/cancel/", booking_cancel_view, name="booking_cancel"),
]
